// Leadership transfer (Raft thesis §3.10): the leader stops taking proposals, brings the
// target's log up to its own, then sends TimeoutNow; the target campaigns at once, and its
// vote requests say so, so that followers which heard from the leader recently still answer
// (CheckQuorum would otherwise make them ignore it). The leader gives up after an election
// timeout if the target never caught up or never won; it then takes proposals again.
#include <string>

#include "common/assert.h"
#include "raft/core/core.h"

namespace ringraft::raft {

Result<void> Core::transfer_leader(NodeId to) {
  RR_ASSERT_MSG(!ready_outstanding_, "transfer_leader() between ready() and advance()");
  const auto refuse = [&](const char* why) {
    return Error(ErrorCode::kInvalidInput, "raft node " + std::to_string(config_.id.value()) +
                                               ": transfer to " + std::to_string(to.value()) +
                                               ": " + why);
  };
  if (role_ != Role::kLeader) return refuse("not the leader");
  if (to == config_.id) return refuse("already the leader");
  if (!is_voter(to)) return refuse("not a voter");
  if (transferee_ == to) return {};  // under way
  transferee_ = to;
  transfer_elapsed_ = 0;
  // The target will be elected without waiting for the followers' election timeouts, so the
  // lease's guarantee (no leader before it ends) no longer holds.
  lease_until_tick_ = 0;
  if (!maybe_send_timeout_now()) send_append(to, true);
  after_input();
  return {};
}

// Sends TimeoutNow once the target holds the leader's whole log. Returns whether it went.
bool Core::maybe_send_timeout_now() {
  RR_ASSERT(role_ == Role::kLeader && transferee_ != kNoNode);
  if (progress_.at(transferee_).match() != log_.last_index()) return false;
  send(Message{.type = MessageType::kTimeoutNow, .to = transferee_, .term = term_});
  return true;
}

void Core::tick_transfer() {
  if (transferee_ == kNoNode) return;
  if (++transfer_elapsed_ >= config_.election_ticks) {
    transferee_ = kNoNode;  // the target did not catch up or win in time: lead on
    transfer_elapsed_ = 0;
  }
}

void Core::on_timeout_now(const Message& message) {
  // Only a voter following the sender in its term campaigns; anything else is stale.
  if (role_ != Role::kFollower || lead_ != message.from || !is_voter(config_.id)) return;
  start_election(/*pre_vote=*/false, /*transfer=*/true);
}

}  // namespace ringraft::raft
