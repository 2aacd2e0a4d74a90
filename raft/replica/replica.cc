#include "raft/replica/replica.h"

#include <cstdint>
#include <string>
#include <utility>

#include "common/assert.h"

namespace ringraft::replica {

const char* fail_reason_name(FailReason reason) {
  switch (reason) {
    case FailReason::kOverwritten:
      return "overwritten by a new leader";
    case FailReason::kShuttingDown:
      return "shutting down";
    case FailReason::kWalFailed:
      return "WAL failed (disk full or I/O error on this node; it retries, the cluster goes on)";
    case FailReason::kFull:
      return "full";
    case FailReason::kInvalid:
      return "invalid";
    case FailReason::kTimedOut:
      return "timed out, outcome unknown";
  }
  RR_UNREACHABLE("unknown FailReason");
}

Result<void> StateMachine::snapshot(GroupId group, SnapshotWriter& /*writer*/) {
  return Error(ErrorCode::kUnsupported, "group " + std::to_string(group.value()) +
                                            ": this state machine takes no snapshots");
}

std::unique_ptr<SnapshotView> StateMachine::snapshot_view(GroupId /*group*/) {
  return nullptr;
}

Result<void> StateMachine::restore(GroupId group, SnapshotReader& /*reader*/) {
  return Error(ErrorCode::kUnsupported, "group " + std::to_string(group.value()) +
                                            ": this state machine takes no snapshots");
}

Replica::Replica(GroupId group, raft::Core core, uint64_t proposal_timeout_ticks)
    : group_(group),
      core_(std::move(core)),
      applied_index_(core_.log().snapshot_index()),
      timeout_ticks_(proposal_timeout_ticks),
      written_index_(core_.log().last_index()) {}

void Replica::flush_proposals(std::vector<Proposal*>& resolved) {
  if (queued_.empty()) return;
  if (core_.role() != raft::Role::kLeader) {
    while (!queued_.empty()) {
      Proposal* proposal = queued_.pop_front();
      proposal->result = NotLeader{core_.leader()};
      resolved.push_back(proposal);
    }
    return;
  }
  // The turn's commands are copied once, into one block the log, the WAL write and the
  // Appends all refer to (raft/core/entry_block.h).
  size_t batch_bytes = 0;
  for (Proposal* p = queued_.front(); p != nullptr; p = p->next) batch_bytes += p->command.size();
  raft::EntryBlockBuilder builder;
  builder.reserve(queued_.size(), batch_bytes);
  for (Proposal* p = queued_.front(); p != nullptr; p = p->next) builder.add(p->command);
  batch_scratch_.clear();
  builder.take(batch_scratch_);
  const raft::ProposeResult outcome = core_.propose(std::move(batch_scratch_));
  batch_scratch_ = {};
  if (const auto* proposed = std::get_if<raft::Proposed>(&outcome)) {
    RR_ASSERT(proposed->last.value() - proposed->first.value() + 1 == queued_.size());
    LogIndex index = proposed->first;
    while (!queued_.empty()) {
      Proposal* proposal = queued_.pop_front();
      proposal->index = index;
      proposal->term = core_.term();
      proposal->command = {};
      proposal->deadline_tick = timeout_ticks_ == 0 ? UINT64_MAX : ticks_ + timeout_ticks_;
      index = LogIndex{index.value() + 1};
      pending_.push_back(proposal);
    }
    return;
  }
  ProposeResult refusal = Failed{FailReason::kFull};
  // A command that starts with the core's reserved membership prefix is not for the state
  // machine (raft/core/membership.h): the batch is refused, so no client forges a change.
  if (std::holds_alternative<raft::ReservedPayload>(outcome))
    refusal = Failed{FailReason::kInvalid};
  if (const auto* not_leader = std::get_if<raft::NotLeader>(&outcome)) {
    refusal = NotLeader{not_leader->leader_hint};
  }
  while (!queued_.empty()) {
    Proposal* proposal = queued_.pop_front();
    proposal->result = refusal;
    resolved.push_back(proposal);
  }
}

void Replica::apply(const std::vector<raft::Entry>& committed, StateMachine& state_machine,
                    std::vector<Proposal*>& resolved) {
  if (committed.empty()) return;
  RR_ASSERT(committed.front().index.value() == applied_index_.value() + 1);
  apply_scratch_.clear();
  slot_scratch_.clear();
  for (const raft::Entry& entry : committed) {
    // The core's own entries, and after a rebuild() those the state machine already has.
    if (entry.payload.empty() || raft::is_membership_entry(entry) ||
        entry.index <= applied_before_rebuild_) {
      slot_scratch_.push_back(SIZE_MAX);
      continue;
    }
    slot_scratch_.push_back(apply_scratch_.size());
    snapshots_.bytes_applied += entry.payload.size();
    apply_scratch_.push_back(CommittedEntry{entry.index, entry.term, ConstByteSpan(entry.payload)});
  }
  results_.clear();
  if (!apply_scratch_.empty()) state_machine.apply(group_, apply_scratch_, results_);
  RR_ASSERT_MSG(results_.count() == apply_scratch_.size(),
                "StateMachine::apply must push one result per entry");
  for (size_t i = 0; i < committed.size(); ++i) {
    settle(committed[i].index, committed[i].term, slot_scratch_[i], resolved);
  }
  applied_index_ = committed.back().index;
}

void Replica::settle(LogIndex index, Term term, size_t result_slot,
                     std::vector<Proposal*>& resolved) {
  while (!pending_.empty()) {
    Proposal* front = pending_.front();
    if (front->index == index && front->term == term) {
      RR_ASSERT(result_slot != SIZE_MAX);
      const ConstByteSpan result = results_.at(result_slot);
      front->result = Committed{index, SmallBytes(result)};
    } else if (front->index <= index || front->term < term) {
      front->result = Failed{FailReason::kOverwritten};
    } else {
      return;
    }
    resolved.push_back(pending_.pop_front());
  }
}

void Replica::record_change(const raft::ChangeOutcome& outcome) {
  if (change_outcomes_.size() == kChangeOutcomesMax)
    change_outcomes_.erase(change_outcomes_.begin());
  change_outcomes_.push_back(NumberedOutcome{++changes_recorded_, outcome});
}

const raft::ChangeOutcome* Replica::change_outcome(uint64_t after,
                                                   const raft::MembershipChange& change) const {
  for (const NumberedOutcome& numbered : change_outcomes_) {
    if (numbered.number > after && numbered.outcome.change == change) return &numbered.outcome;
  }
  return nullptr;
}

void Replica::fail_all(FailReason reason, std::vector<Proposal*>& resolved) {
  while (!queued_.empty()) {
    Proposal* proposal = queued_.pop_front();
    proposal->result = Failed{reason};
    resolved.push_back(proposal);
  }
  while (!pending_.empty()) {
    Proposal* proposal = pending_.pop_front();
    proposal->result = Failed{reason};
    resolved.push_back(proposal);
  }
}

void Replica::installed(LogIndex index, std::vector<Proposal*>& resolved) {
  while (!pending_.empty() && pending_.front()->index <= index) {
    Proposal* proposal = pending_.pop_front();
    proposal->result = Failed{FailReason::kTimedOut};
    resolved.push_back(proposal);
  }
  applied_index_ = std::max(applied_index_, index);
  snapshots_.bytes_applied = 0;
}

void Replica::rebuild(raft::Core core) {
  RR_ASSERT_MSG(queued_.empty() && pending_.empty(), "rebuild() with proposals outstanding");
  applied_before_rebuild_ = applied_index();
  core_ = std::move(core);
  applied_index_ = core_.log().applied();
  written_index_ = core_.log().last_index();
  // applied <= durable before the failure, and every durable entry was recovered.
  RR_ASSERT(core_.log().last_index() >= applied_before_rebuild_);
}

void Replica::tick(std::vector<Proposal*>& resolved) {
  core_.tick();
  ticks_++;
  // Deadlines follow proposal order, which is pending_'s order: expired ones are a prefix.
  while (!pending_.empty() && pending_.front()->deadline_tick <= ticks_) {
    Proposal* proposal = pending_.pop_front();
    proposal->result = Failed{FailReason::kTimedOut};
    resolved.push_back(proposal);
  }
}

void Replica::check_invariants() const {
  core_.check_invariants();
  RR_ASSERT(applied_index_ <= core_.log().committed());
  LogIndex previous{0};
  Term previous_term{0};
  for (const Proposal* p = pending_.front(); p != nullptr; p = p->next) {
    RR_ASSERT_MSG(p->index > previous && p->term >= previous_term,
                  "pending proposals are ordered by index with non-decreasing terms");
    RR_ASSERT(p->index > applied_index_);
    previous = p->index;
    previous_term = p->term;
  }
}

}  // namespace ringraft::replica
