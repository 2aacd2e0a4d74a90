// Linearizable reads (Raft thesis §6.4). ReadIndex: the leader notes its commit index, proves
// it is still the leader with one heartbeat round acknowledged by a quorum, and hands out the
// index; the caller serves the read once it applied that far. The leader must have committed
// an entry of its term first (its commit index may lag the previous leader's until then).
//
// Batching: every heartbeat carries the round number; a read waits for the first round sent
// after it arrived. At most one round is started for reads at a time: reads that arrive while
// one is out all share the next, so a burst of reads costs one or two rounds, not one each.
// Periodic heartbeats are rounds too.
//
// Lease (thesis §6.4.1): a round a quorum acknowledged, sent at tick T, shows that no other
// leader can be elected before T + election_ticks (CheckQuorum followers refuse votes that
// long); minus a drift margin, the leader answers reads without a round until then.
#include <algorithm>

#include "common/assert.h"
#include "raft/core/core.h"
#include "raft/core/quorum.h"

namespace ringraft::raft {

ReadIndexResult Core::read_index(uint64_t context) {
  RR_ASSERT_MSG(!ready_outstanding_, "read_index() between ready() and advance()");
  if (role_ != Role::kLeader) {
    if (lead_ == kNoNode) return NotLeader{kNoNode};
    send(Message{.type = MessageType::kReadIndex, .to = lead_, .term = term_, .context = context});
    after_input();
    return ReadQueued{};
  }
  if (in_lease()) {
    answer_read(kNoNode, context, log_.committed());
    after_input();
    return ReadQueued{};
  }
  if (pending_reads_.size() >= config_.read_index_pending_max) return ReadsFull{};
  const bool round_out =
      !pending_reads_.empty() && pending_reads_.front().round <= heartbeat_round_;
  pending_reads_.push_back(PendingRead{kNoNode, context, heartbeat_round_ + 1});
  if (!round_out) start_heartbeat_round();
  after_input();
  return ReadQueued{};
}

bool Core::committed_in_term() const {
  return log_.term_of(log_.committed()) == term_;
}

bool Core::in_lease() const {
  return config_.lease_reads && role_ == Role::kLeader && committed_in_term() &&
         ticks_ < lease_until_tick_;
}

// A heartbeat to every voter, carrying a new round number; records when it left.
void Core::start_heartbeat_round() {
  RR_ASSERT(role_ == Role::kLeader);
  ++heartbeat_round_;
  round_sent_ticks_[heartbeat_round_ % round_sent_ticks_.size()] = ticks_;
  bcast_heartbeat();
  on_heartbeat_round_acked(config_.id, heartbeat_round_);  // a group of one confirms at once
}

void Core::on_heartbeat_round_acked(NodeId peer, uint64_t round) {
  Progress& pr = progress_.at(peer);
  if (round > heartbeat_round_) return;  // not a round of this term: ignore
  pr.heartbeat_round_acked = std::max(pr.heartbeat_round_acked, round);
  round_scratch_.clear();
  for (NodeId voter : config_.voters) {
    round_scratch_.push_back(voter == config_.id ? heartbeat_round_
                                                 : progress_.at(voter).heartbeat_round_acked);
  }
  const uint64_t quorum_round = majority_value(round_scratch_);
  if (quorum_round <= quorum_round_) return;
  quorum_round_ = quorum_round;
  // The ring remembers the send time of the last size() rounds; an older round is too old to
  // extend a lease anyway (rounds leave at least once per heartbeat_ticks).
  if (heartbeat_round_ - quorum_round_ < round_sent_ticks_.size()) {
    const uint64_t sent_tick = round_sent_ticks_[quorum_round_ % round_sent_ticks_.size()];
    const uint64_t lease_ticks = config_.election_ticks - config_.lease_drift_ticks;
    lease_until_tick_ = std::max(lease_until_tick_, sent_tick + lease_ticks);
  }
  release_reads();
}

// Hands out every read whose round a quorum acknowledged, once an entry of this term is
// committed; then starts the round the remaining reads wait for.
void Core::release_reads() {
  if (role_ != Role::kLeader || pending_reads_.empty() || !committed_in_term()) return;
  while (!pending_reads_.empty() && pending_reads_.front().round <= quorum_round_) {
    const PendingRead read = pending_reads_.front();
    pending_reads_.pop_front();
    answer_read(read.from, read.context, log_.committed());
  }
  if (!pending_reads_.empty() && pending_reads_.front().round > heartbeat_round_) {
    start_heartbeat_round();
  }
}

void Core::answer_read(NodeId from, uint64_t context, LogIndex index) {
  if (from == kNoNode) {
    read_states_.push_back(ReadState{context, index});
    return;
  }
  send(Message{.type = MessageType::kReadIndexResponse,
               .to = from,
               .term = term_,
               .log_index = index,
               .context = context});
}

void Core::on_read_index(const Message& message) {
  // Dropped unless leader (the follower's caller retries after its timeout), or when full.
  if (role_ != Role::kLeader) return;
  if (in_lease()) return answer_read(message.from, message.context, log_.committed());
  if (pending_reads_.size() >= config_.read_index_pending_max) return;
  const bool round_out =
      !pending_reads_.empty() && pending_reads_.front().round <= heartbeat_round_;
  pending_reads_.push_back(PendingRead{message.from, message.context, heartbeat_round_ + 1});
  if (!round_out) start_heartbeat_round();
}

void Core::on_read_index_response(const Message& message) {
  if (role_ == Role::kLeader) return;
  read_states_.push_back(ReadState{message.context, message.log_index});
}

}  // namespace ringraft::raft
