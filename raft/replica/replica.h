// Replica: one Raft group on this node. It owns the group's Core and its proposals, and turns
// a Ready's committed entries into state machine calls and proposal outcomes. It does no I/O:
// the ShardEngine persists its Readies and sends its messages (one WAL batch and one send per
// peer for all the groups of a shard).
//
// Proposals move  queued_ (arrived this turn) -> pending_ (in the log, index and term known)
// -> resolved (the engine resumes the proposer). pending_ is ordered by index, and its terms
// never decrease, so every outcome is decided at the front or as a prefix:
//   - an applied entry at a pending index: Committed if the terms match, else Overwritten;
//   - an applied entry of term T: every pending entry of a term below T is Overwritten (Log
//     Matching: a log holding a committed entry of term T has only terms >= T after it).
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "raft/core/core.h"
#include "raft/replica/proposal.h"
#include "raft/replica/state_machine.h"
#include "wal/snapshot_file.h"

namespace ringraft::replica {

// A group's snapshots on this node (shard_engine_snapshot.cc drives them).
struct SnapshotState {
  std::optional<wal::SnapshotInfo> latest;  // the newest durable file: what a leader sends
  bool taking = false;                      // snapshot_now() under way: one at a time
  bool installing = false;                  // a leader's snapshot being written or installed here
  bool unsupported = false;  // the state machine refused (kUnsupported): no automatic trigger
  std::unique_ptr<wal::SnapshotWriter> incoming;  // a follower's transfer being received
  uint64_t bytes_applied = 0;                     // payload bytes applied since the latest snapshot
  // After an automatic snapshot failed (an I/O error): the next try waits for this index.
  LogIndex auto_retry_index{};
};

class Replica {
 public:
  // Proposals pending longer than proposal_timeout_ticks end as kTimedOut (0: never).
  Replica(GroupId group, raft::Core core, uint64_t proposal_timeout_ticks);

  GroupId group() const { return group_; }
  raft::Core& core() { return core_; }
  const raft::Core& core() const { return core_; }
  // What the state machine holds: applied by this core, or before the last rebuild().
  LogIndex applied_index() const { return std::max(applied_index_, applied_before_rebuild_); }
  // The last index written to the WAL (persisted or on its way): a Ready starting at or below
  // it overwrites a conflicting suffix.
  LogIndex written_index() const { return written_index_; }
  void set_written_index(LogIndex index) { written_index_ = index; }
  size_t proposals_outstanding() const { return queued_.size() + pending_.size(); }

  // A proposal for the next turn's batch.
  void enqueue(Proposal* proposal) { queued_.push_back(proposal); }
  bool has_queued() const { return !queued_.empty(); }
  // Hands the queued proposals to the core as one batch. Refused ones go to `resolved`.
  void flush_proposals(std::vector<Proposal*>& resolved);
  // Applies a Ready's committed entries and decides the proposals they settle.
  void apply(const std::vector<raft::Entry>& committed, StateMachine& state_machine,
             std::vector<Proposal*>& resolved);
  // Ends every queued and pending proposal with `reason` (shutdown, WAL failure).
  void fail_all(FailReason reason, std::vector<Proposal*>& resolved);
  // The WAL was reopened after a failure (wal_recovery.cc): `core` is this group rebuilt from
  // what the WAL holds, as a restart would build it. The state machine keeps what it applied;
  // the new core hands out committed entries from its own applied index again, and those up
  // to the old applied index are not applied twice (they are the same entries: State Machine
  // Safety, Raft §5.4.3; and applied <= durable, so the WAL holds them all). Every proposal
  // must have ended before (fail_all).
  void rebuild(raft::Core core);
  // One tick of the core, and of the proposals' deadlines: pending proposals past theirs end
  // as kTimedOut. Their outcome is unknown, not failed.
  void tick(std::vector<Proposal*>& resolved);

  // Membership outcomes (Ready::membership_changes), numbered in arrival order; the latest
  // kChangeOutcomesMax are kept for the change_membership() callers that wait for them.
  struct NumberedOutcome {
    uint64_t number;
    raft::ChangeOutcome outcome;
  };
  static constexpr size_t kChangeOutcomesMax = 16;
  void record_change(const raft::ChangeOutcome& outcome);
  uint64_t changes_recorded() const { return changes_recorded_; }
  // The first outcome numbered above `after` for `change`, or nullptr.
  const raft::ChangeOutcome* change_outcome(uint64_t after,
                                            const raft::MembershipChange& change) const;

  SnapshotState& snapshots() { return snapshots_; }
  const SnapshotState& snapshots() const { return snapshots_; }
  // The state machine was restored from a snapshot at `index` (installed from the leader):
  // proposals pending at or below it end as kTimedOut (their outcome is unknown: the snapshot
  // does not say which entries it holds), and applying resumes after it.
  void installed(LogIndex index, std::vector<Proposal*>& resolved);

  void check_invariants() const;

 private:
  void settle(LogIndex index, Term term, size_t result_slot, std::vector<Proposal*>& resolved);

  GroupId group_;
  raft::Core core_;
  LogIndex applied_index_;
  LogIndex applied_before_rebuild_;  // entries up to it are in the state machine already
  uint64_t ticks_ = 0;
  uint64_t timeout_ticks_;
  LogIndex written_index_;
  ProposalList queued_;
  ProposalList pending_;
  // Reused per apply() (no allocation once warm).
  std::vector<raft::PayloadRef> batch_scratch_;
  std::vector<CommittedEntry> apply_scratch_;
  std::vector<size_t> slot_scratch_;  // committed[i]'s result slot, or SIZE_MAX (empty entry)
  ApplyResults results_;
  std::vector<NumberedOutcome> change_outcomes_;
  uint64_t changes_recorded_ = 0;
  SnapshotState snapshots_;
};

}  // namespace ringraft::replica
