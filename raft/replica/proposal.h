// What a proposal ends as, and the awaiter a proposing task waits in.
//
// A proposal always ends (DESIGN "raft/replica"): Committed with the state machine's result,
// NotLeader with the leader this node knows of, or Failed with a reason. "Overwritten" means
// certainly not committed: an entry of a later term was committed at or below its index, so
// by Log Matching its entry can never be (Raft §5.3, §5.4).
#pragma once

#include <coroutine>
#include <cstdint>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/small_bytes.h"
#include "common/types.h"

namespace ringraft::replica {

struct Committed {
  LogIndex index;
  SmallBytes result;  // what StateMachine::apply returned for the entry (data(), size(), span())
};
struct NotLeader {
  NodeId leader_hint;  // NodeId{0} when no leader is known
};
enum class FailReason : uint8_t {
  kOverwritten,   // a new leader's log replaced the entry: not committed
  kShuttingDown,  // the engine closed before the outcome was known
  kWalFailed,     // the shard's WAL failed (disk full, I/O error): nothing more is accepted
  kFull,          // too many proposals pending on the shard, or the leader's uncommitted bound
  kInvalid,       // an empty command, one larger than a WAL batch, an unknown group, or one
                  // that starts with the core's reserved membership prefix
  kTimedOut,      // no outcome within proposal_timeout: UNKNOWN, it may still commit
};
const char* fail_reason_name(FailReason reason);
struct Failed {
  FailReason reason;
};
using ProposeResult = std::variant<Committed, NotLeader, Failed>;

// One proposal in flight. It lives in the proposing coroutine's frame; the engine links it into
// its queues and resumes the coroutine once `result` is set.
struct Proposal {
  GroupId group;
  ConstByteSpan command;  // borrowed until the proposal is handed to the core
  LogIndex index;         // set once the core accepted it
  Term term;
  uint64_t deadline_tick = 0;  // the group's tick count at which it times out
  ProposeResult result = Failed{FailReason::kShuttingDown};
  std::coroutine_handle<> waiter;
  Proposal* next = nullptr;
};

// An intrusive FIFO of proposals (no allocation per proposal).
class ProposalList {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  Proposal* front() const { return head_; }
  void push_back(Proposal* proposal) {
    proposal->next = nullptr;
    if (tail_ == nullptr) {
      head_ = proposal;
    } else {
      tail_->next = proposal;
    }
    tail_ = proposal;
    size_++;
  }
  Proposal* pop_front() {
    Proposal* proposal = head_;
    head_ = proposal->next;
    if (head_ == nullptr) tail_ = nullptr;
    proposal->next = nullptr;
    size_--;
    return proposal;
  }

 private:
  Proposal* head_ = nullptr;
  Proposal* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ringraft::replica
