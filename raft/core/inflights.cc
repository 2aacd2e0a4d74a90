#include "raft/core/inflights.h"

#include "common/assert.h"

namespace ringraft::raft {

Inflights::Inflights(uint32_t count_max, uint64_t bytes_max)
    : count_max_(count_max), bytes_max_(bytes_max), ring_(count_max) {
  RR_ASSERT(count_max > 0 && bytes_max > 0);
}

void Inflights::add(LogIndex last_index, uint64_t payload_bytes) {
  RR_ASSERT_MSG(!full(), "Inflights::add on a full window");
  if (count_ > 0) {
    const uint32_t newest = (start_ + count_ - 1) % count_max_;
    RR_ASSERT_MSG(ring_[newest].last_index < last_index, "inflight indexes must increase");
  }
  ring_[(start_ + count_) % count_max_] = Record{last_index, payload_bytes};
  ++count_;
  bytes_ += payload_bytes;
}

void Inflights::free_le(LogIndex index) {
  while (count_ > 0 && ring_[start_].last_index <= index) free_first_one();
}

void Inflights::free_first_one() {
  if (count_ == 0) return;
  bytes_ -= ring_[start_].payload_bytes;
  start_ = (start_ + 1) % count_max_;
  --count_;
  if (count_ == 0) start_ = 0;
}

void Inflights::reset() {
  start_ = 0;
  count_ = 0;
  bytes_ = 0;
}

void Inflights::check_invariants() const {
  RR_ASSERT(count_ <= count_max_);
  RR_ASSERT(start_ < count_max_);
  uint64_t total_bytes = 0;
  for (uint32_t i = 0; i < count_; ++i) {
    const Record& record = ring_[(start_ + i) % count_max_];
    total_bytes += record.payload_bytes;
    if (i > 0) RR_ASSERT(ring_[(start_ + i - 1) % count_max_].last_index < record.last_index);
  }
  RR_ASSERT(total_bytes == bytes_);
}

}  // namespace ringraft::raft
