#include "tools/cli/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "common/assert.h"

namespace ringraft::tools {

uint32_t LatencyHistogram::bucket_of(uint64_t value_ns) {
  if (value_ns < kSubBucketCount) return static_cast<uint32_t>(value_ns);
  const uint32_t exponent = 63 - static_cast<uint32_t>(std::countl_zero(value_ns));
  const uint32_t shift = exponent - kSubBucketBits;
  const uint32_t sub_bucket = static_cast<uint32_t>(value_ns >> shift) & (kSubBucketCount - 1);
  const uint32_t bucket = (exponent - kSubBucketBits + 1) * kSubBucketCount + sub_bucket;
  RR_ASSERT(bucket < kBucketCount);
  return bucket;
}

uint64_t LatencyHistogram::bucket_low_ns(uint32_t bucket) {
  RR_ASSERT(bucket < kBucketCount);
  if (bucket < kSubBucketCount) return bucket;
  const uint32_t exponent = bucket / kSubBucketCount + kSubBucketBits - 1;
  const uint64_t sub_bucket = bucket % kSubBucketCount;
  return (kSubBucketCount + sub_bucket) << (exponent - kSubBucketBits);
}

uint64_t LatencyHistogram::bucket_high_ns(uint32_t bucket) {
  if (bucket < kSubBucketCount) return bucket;
  const uint32_t exponent = bucket / kSubBucketCount + kSubBucketBits - 1;
  const uint64_t width = uint64_t{1} << (exponent - kSubBucketBits);
  return bucket_low_ns(bucket) + (width - 1);  // the top bucket ends at UINT64_MAX exactly
}

void LatencyHistogram::record(uint64_t value_ns) {
  counts_[bucket_of(value_ns)] += 1;
  count_ += 1;
  min_ns_ = std::min(min_ns_, value_ns);
  max_ns_ = std::max(max_ns_, value_ns);
  sum_ns_ += static_cast<long double>(value_ns);
}

void LatencyHistogram::record_many(uint64_t value_ns, uint64_t count) {
  if (count == 0) return;
  counts_[bucket_of(value_ns)] += count;
  count_ += count;
  min_ns_ = std::min(min_ns_, value_ns);
  max_ns_ = std::max(max_ns_, value_ns);
  sum_ns_ += static_cast<long double>(value_ns) * static_cast<long double>(count);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (uint32_t bucket = 0; bucket < kBucketCount; ++bucket)
    counts_[bucket] += other.counts_[bucket];
  count_ += other.count_;
  min_ns_ = std::min(min_ns_, other.min_ns_);
  max_ns_ = std::max(max_ns_, other.max_ns_);
  sum_ns_ += other.sum_ns_;
}

void LatencyHistogram::clear() {
  *this = LatencyHistogram{};
}

double LatencyHistogram::mean_ns() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ns_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::percentile_ns(double quantile) const {
  RR_ASSERT(quantile >= 0.0 && quantile <= 1.0);
  if (count_ == 0) return 0;
  // The rank of the value at this quantile, 1-based: the smallest value with at least
  // quantile * count values at or below it.
  const auto wanted = static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(count_)));
  const uint64_t rank = std::clamp<uint64_t>(wanted, 1, count_);
  uint64_t seen = 0;
  for (uint32_t bucket = 0; bucket < kBucketCount; ++bucket) {
    seen += counts_[bucket];
    if (seen >= rank) return std::min(bucket_high_ns(bucket), max_ns_);
  }
  RR_UNREACHABLE("histogram counts do not add up to count_");
}

void LatencyHistogram::check_invariants() const {
  uint64_t total = 0;
  for (const uint64_t count : counts_) total += count;
  RR_ASSERT(total == count_);
  RR_ASSERT(count_ == 0 || min_ns_ <= max_ns_);
  RR_ASSERT(count_ == 0 || bucket_of(max_ns_) < kBucketCount);
}

}  // namespace ringraft::tools
