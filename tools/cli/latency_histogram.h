// LatencyHistogram: a fixed-size histogram of latencies with logarithmic buckets, for the
// load generator (`ringraft bench`) to record every request without allocating.
//
// Buckets follow the HDR idea: values below 2^kSubBucketBits are exact; above, each power of two
// is split into 2^kSubBucketBits equal buckets, so a bucket is at most 1/32 (about 3 %) of its
// value wide, from nanoseconds to minutes, in 1 920 counters (15 KiB) allocated once. A
// percentile is reported as the upper edge of its bucket (never below the true value), capped by
// the largest value recorded.
#pragma once

#include <array>
#include <cstdint>

namespace ringraft::tools {

class LatencyHistogram {
 public:
  static constexpr uint32_t kSubBucketBits = 5;
  static constexpr uint32_t kSubBucketCount = 1u << kSubBucketBits;
  // Exponents kSubBucketBits..63 each have kSubBucketCount buckets; below that, one per value.
  static constexpr uint32_t kBucketCount = (64 - kSubBucketBits + 1) * kSubBucketCount;

  void record(uint64_t value_ns);
  // Records `value_ns` `count` times at the cost of one: a batch of requests that were all
  // answered together (the server times a receive's requests as one).
  void record_many(uint64_t value_ns, uint64_t count);
  // Adds every value recorded in `other`.
  void merge(const LatencyHistogram& other);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t min_ns() const { return count_ == 0 ? 0 : min_ns_; }
  uint64_t max_ns() const { return max_ns_; }
  double mean_ns() const;
  // The smallest bucket edge at or above the `quantile` (0..1) of the recorded values; 0 when
  // empty. quantile 1 is the maximum.
  uint64_t percentile_ns(double quantile) const;

  // Bucket arithmetic, public for the tests and the CDF export.
  static uint32_t bucket_of(uint64_t value_ns);
  static uint64_t bucket_low_ns(uint32_t bucket);
  static uint64_t bucket_high_ns(uint32_t bucket);
  uint64_t bucket_count(uint32_t bucket) const { return counts_[bucket]; }

  void check_invariants() const;

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  uint64_t min_ns_ = UINT64_MAX;
  uint64_t max_ns_ = 0;
  long double sum_ns_ = 0;  // for the mean; long double keeps hours of nanoseconds exact enough
};

}  // namespace ringraft::tools
