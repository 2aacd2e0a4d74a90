#include "raft/core/progress.h"

#include <algorithm>

#include "common/assert.h"

namespace ringraft::raft {

const char* progress_state_name(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "probe";
    case ProgressState::kReplicate:
      return "replicate";
    case ProgressState::kSnapshot:
      return "snapshot";
  }
  RR_UNREACHABLE("unknown ProgressState");
}

Progress::Progress(LogIndex next, uint32_t inflight_count_max, uint64_t inflight_bytes_max)
    : next_(next), inflights_(inflight_count_max, inflight_bytes_max) {
  RR_ASSERT(next.value() >= 1);
}

void Progress::become_probe() {
  state_ = ProgressState::kProbe;
  probe_sent_ = false;
  inflights_.reset();
  next_ = LogIndex{match_.value() + 1};
}

void Progress::become_replicate() {
  state_ = ProgressState::kReplicate;
  probe_sent_ = false;
  inflights_.reset();
  next_ = LogIndex{match_.value() + 1};
}

void Progress::become_snapshot(LogIndex snapshot_index) {
  RR_ASSERT(snapshot_index > match_);
  state_ = ProgressState::kSnapshot;
  probe_sent_ = false;
  inflights_.reset();
  pending_snapshot_ = snapshot_index;
  snapshot_offset_ = 0;
}

void Progress::on_snapshot_response(uint64_t offset) {
  RR_ASSERT(state_ == ProgressState::kSnapshot);
  snapshot_offset_ = offset;
  probe_sent_ = false;
}

bool Progress::is_paused() const {
  switch (state_) {
    case ProgressState::kProbe:
    case ProgressState::kSnapshot:
      return probe_sent_;
    case ProgressState::kReplicate:
      return inflights_.full();
  }
  RR_UNREACHABLE("unknown ProgressState");
}

void Progress::sent_append(uint32_t entry_count, LogIndex last_index, uint64_t payload_bytes) {
  switch (state_) {
    case ProgressState::kProbe:
      probe_sent_ = true;
      break;
    case ProgressState::kSnapshot:
      RR_UNREACHABLE("an Append to a follower that waits for a snapshot");
    case ProgressState::kReplicate:
      if (entry_count > 0) {
        RR_ASSERT(last_index.value() == next_.value() + entry_count - 1);
        next_ = LogIndex{last_index.value() + 1};
        inflights_.add(last_index, payload_bytes);
      }
      break;
  }
  check_invariants();
}

bool Progress::maybe_update(LogIndex index) {
  if (index <= match_) return false;
  match_ = index;
  next_ = std::max(next_, LogIndex{index.value() + 1});
  probe_sent_ = false;
  if (state_ == ProgressState::kReplicate) inflights_.free_le(index);
  // The follower holds the snapshot (or caught up another way): probe on from there.
  if (state_ == ProgressState::kSnapshot && match_ >= pending_snapshot_) become_probe();
  check_invariants();
  return true;
}

bool Progress::maybe_decrease_to(LogIndex rejected, LogIndex hint_index) {
  if (state_ == ProgressState::kSnapshot) return false;  // an answer from before the snapshot
  if (state_ == ProgressState::kReplicate) {
    // Everything <= match is known to match: a rejection there is an old message.
    if (rejected <= match_) return false;
    become_probe();
    next_ = std::max(std::min(rejected, LogIndex{hint_index.value() + 1}),
                     LogIndex{match_.value() + 1});
    check_invariants();
    return true;
  }
  // In probe only the answer to the outstanding probe (sent with prev index next - 1) counts.
  if (next_.value() - 1 != rejected.value()) return false;
  next_ =
      std::max(std::min(rejected, LogIndex{hint_index.value() + 1}), LogIndex{match_.value() + 1});
  probe_sent_ = false;
  check_invariants();
  return true;
}

void Progress::on_heartbeat_response() {
  probe_sent_ = false;
  if (state_ == ProgressState::kReplicate && inflights_.full()) inflights_.free_first_one();
}

void Progress::set_self_match(LogIndex index, LogIndex last_index) {
  state_ = ProgressState::kReplicate;
  match_ = std::max(match_, index);
  next_ = LogIndex{last_index.value() + 1};
  check_invariants();
}

void Progress::check_invariants() const {
  RR_ASSERT_MSG(match_.value() + 1 <= next_.value(), "progress: match must be <= next - 1");
  if (state_ != ProgressState::kReplicate) RR_ASSERT(inflights_.count() == 0);
  if (state_ == ProgressState::kSnapshot) RR_ASSERT(pending_snapshot_ > match_);
  inflights_.check_invariants();
}

}  // namespace ringraft::raft
