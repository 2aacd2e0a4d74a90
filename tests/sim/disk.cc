// SimDisk: durable state, pending writes, and what a crash leaves behind.
#include "tests/sim/disk.h"

#include <algorithm>
#include <utility>

#include "common/assert.h"

namespace ringraft::sim {

uint64_t SimDisk::write(DiskWrite write, uint64_t now_ms, uint64_t fsync_ms) {
  uint64_t durable_at_ms = now_ms + fsync_ms;
  if (!pending_.empty()) durable_at_ms = std::max(durable_at_ms, pending_.back().durable_at_ms);
  write.durable_at_ms = durable_at_ms;
  pending_.push_back(std::move(write));
  return durable_at_ms;
}

DiskWrite SimDisk::complete_oldest() {
  RR_ASSERT(!pending_.empty());
  DiskWrite write = std::move(pending_.front());
  pending_.pop_front();
  apply(write);
  return write;
}

size_t SimDisk::crash(raft::SplitMix64& rng, uint32_t flush_percent) {
  while (!pending_.empty() && rng.below(100) < flush_percent) {
    apply(pending_.front());
    pending_.pop_front();
  }
  const size_t lost = pending_.size();
  pending_.clear();
  check_invariants();
  return lost;
}

raft::InitialState SimDisk::durable_state() const {
  return raft::InitialState{hard_state_, entries_};
}

// ready.h: storage drops every entry from the first new index on, then appends.
void SimDisk::apply(const DiskWrite& write) {
  if (write.hard_state.has_value()) hard_state_ = *write.hard_state;
  if (!write.entries.empty()) {
    const uint64_t first = write.entries.front().index.value();
    RR_ASSERT_MSG(first >= 1 && first <= entries_.size() + 1, "a write leaves a gap in the log");
    entries_.resize(first - 1);
    RR_ASSERT(first == 1 || entries_.back().term <= write.entries.front().term);
    entries_.insert(entries_.end(), write.entries.begin(), write.entries.end());
  }
  // The whole-log check is O(log length): crash() runs it; each write checks what it touched.
  RR_ASSERT_MSG(hard_state_.commit.value() <= entries_.size(),
                "the durable commit index is beyond the durable log");
}

void SimDisk::check_invariants() const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    RR_ASSERT(entries_[i].index.value() == i + 1);
    RR_ASSERT(i == 0 || entries_[i - 1].term <= entries_[i].term);
  }
  RR_ASSERT_MSG(hard_state_.commit.value() <= entries_.size(),
                "the durable commit index is beyond the durable log");
}

}  // namespace ringraft::sim
