// ShardEngine's administrative operations on one group: membership changes (one server at a
// time, raft/core/membership.h), leadership transfer, and status. Each ends with a clear
// result: the change's committed index or why it did not happen; the new leader or why not.
#include <string>

#include "common/assert.h"
#include "raft/replica/group_status.h"
#include "raft/replica/shard_engine.h"

namespace ringraft::replica {
namespace {

Error not_leader(GroupId group, const raft::Core& core, const char* what) {
  return Error(ErrorCode::kNotFound,
               std::string(what) + ": node " + std::to_string(core.id().value()) +
                   " does not lead group " + std::to_string(group.value()) + " (leader hint " +
                   std::to_string(core.leader().value()) + ")");
}

}  // namespace

Task<Result<LogIndex>> ShardEngine::change_membership(GroupId group,
                                                      raft::MembershipChange change) {
  Replica* replica = find(group);
  if (replica == nullptr) {
    co_return Error(ErrorCode::kNotFound,
                    "change_membership: group " + std::to_string(group.value()) + " is not here");
  }
  if (closing_ || failure_) co_return Error(ErrorCode::kCancelled, "change_membership: stopped");
  raft::Core& core = replica->core();
  if (core.role() != raft::Role::kLeader) co_return not_leader(group, core, "change_membership");
  const uint64_t seen = replica->changes_recorded();
  Result<void> started = core.change_membership(change);
  if (!started) co_return started.error();  // kFull: one is pending; kInvalidInput: bad change
  // The core reports the fate in a later Ready: committed, dropped (leadership lost, entry
  // overwritten), timed out (promotion). The deadline covers a leader that lost its quorum
  // with the entry in its log: nothing resolves until a leader commits past it.
  const uint64_t deadline = ticks_ + (uint64_t{options_.raft.promote_timeout_elections} + 3) *
                                         options_.raft.election_ticks;
  co_await wait_until([this, replica, seen, change, deadline] {
    return failure_ || ticks_ >= deadline || replica->change_outcome(seen, change) != nullptr;
  });
  const raft::ChangeOutcome* outcome = replica->change_outcome(seen, change);
  const std::string what = std::string(raft::membership_op_name(change.op)) + " " +
                           std::to_string(change.node.value()) + " in group " +
                           std::to_string(group.value());
  if (outcome == nullptr) {
    co_return Error(ErrorCode::kCancelled,
                    what + ": no outcome in time (engine stopped or no quorum); check status()");
  }
  switch (outcome->fate) {
    case raft::ChangeFate::kCommitted:
      co_return outcome->index;
    case raft::ChangeFate::kTimedOut:
      co_return Error(ErrorCode::kCancelled, what + ": the learner did not catch up in time");
    case raft::ChangeFate::kDropped:
      co_return Error(ErrorCode::kCancelled,
                      what + ": dropped (leadership changed before it committed); retry");
    case raft::ChangeFate::kUnknown:
      break;
  }
  co_return Error(ErrorCode::kCancelled, what + ": outcome unknown (a snapshot covered it)");
}

Task<Result<LogIndex>> ShardEngine::add_learner(GroupId group, NodeId node) {
  raft::MembershipChange change;
  change.op = raft::MembershipOp::kAddLearner;
  change.node = node;
  co_return co_await change_membership(group, change);
}

Task<Result<LogIndex>> ShardEngine::promote(GroupId group, NodeId node) {
  raft::MembershipChange change;
  change.op = raft::MembershipOp::kPromote;
  change.node = node;
  co_return co_await change_membership(group, change);
}

Task<Result<LogIndex>> ShardEngine::remove_member(GroupId group, NodeId node) {
  raft::MembershipChange change;
  change.op = raft::MembershipOp::kRemove;
  change.node = node;
  co_return co_await change_membership(group, change);
}

Task<Result<void>> ShardEngine::transfer_leader(GroupId group, NodeId to) {
  Replica* replica = find(group);
  if (replica == nullptr) {
    co_return Error(ErrorCode::kNotFound,
                    "transfer_leader: group " + std::to_string(group.value()) + " is not here");
  }
  if (closing_ || failure_) co_return Error(ErrorCode::kCancelled, "transfer_leader: stopped");
  raft::Core& core = replica->core();
  if (core.role() != raft::Role::kLeader) co_return not_leader(group, core, "transfer_leader");
  Result<void> started = core.transfer_leader(to);
  if (!started) co_return started.error();
  // The core gives up after an election timeout; the target then needs up to one more to win.
  const uint64_t deadline = ticks_ + 3 * uint64_t{options_.raft.election_ticks};
  co_await wait_until([this, replica, to, deadline] {
    const raft::Core& now = replica->core();
    return failure_ || ticks_ >= deadline || now.leader() == to ||
           (now.role() == raft::Role::kLeader && now.transferee() == raft::kNoNode);
  });
  if (replica->core().leader() == to) co_return Result<void>{};
  co_return Error(ErrorCode::kCancelled,
                  "transfer_leader: node " + std::to_string(to.value()) +
                      " did not take over group " + std::to_string(group.value()) +
                      " in time (behind or cut off); this node leads on if it can");
}

Result<GroupStatus> ShardEngine::status(GroupId group) const {
  const Replica* replica = this->replica(group);
  if (replica == nullptr) {
    return Error(ErrorCode::kNotFound,
                 "status: group " + std::to_string(group.value()) + " is not here");
  }
  return group_status(group, replica->core(), replica->applied_index());
}

GroupStatus group_status(GroupId group, const raft::Core& core, LogIndex applied) {
  GroupStatus status;
  status.group = group;
  status.role = core.role();
  status.term = core.term();
  status.commit = core.log().committed();
  status.applied = applied;
  status.last_index = core.log().last_index();
  status.leader = core.leader();
  status.membership = core.membership();
  status.transferee = core.transferee();
  status.promoting = core.promoting();
  if (core.role() != raft::Role::kLeader) return status;
  const auto add = [&](NodeId node, bool voter) {
    const raft::Progress* progress = core.progress(node);
    if (node == core.id() || progress == nullptr) return;
    PeerStatus peer;
    peer.node = node;
    peer.voter = voter;
    peer.match = progress->match();
    peer.next = progress->next();
    peer.state = progress->state();
    status.peers.push_back(peer);
  };
  for (NodeId voter : status.membership.voters) add(voter, true);
  for (NodeId learner : status.membership.learners) add(learner, false);
  return status;
}

std::string describe(const GroupStatus& status) {
  std::string text = "group " + std::to_string(status.group.value()) + " " +
                     raft::role_name(status.role) + " term=" + std::to_string(status.term.value()) +
                     " commit=" + std::to_string(status.commit.value()) +
                     " applied=" + std::to_string(status.applied.value()) +
                     " leader=" + std::to_string(status.leader.value()) + " " +
                     raft::describe(status.membership);
  for (const PeerStatus& peer : status.peers) {
    text += " [" + std::to_string(peer.node.value()) + " " + raft::progress_state_name(peer.state) +
            " match=" + std::to_string(peer.match.value()) + "]";
  }
  return text;
}

}  // namespace ringraft::replica
