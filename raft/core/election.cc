// Elections (Raft §5.2, thesis §9.6 PreVote and §6.2 CheckQuorum): timers, campaigns, and the
// handling of vote requests and responses.
#include "common/assert.h"
#include "raft/core/core.h"
#include "raft/core/quorum.h"

namespace ringraft::raft {

void Core::reset_randomized_election_timeout() {
  // Uniform in [election_ticks, 2 * election_ticks): spread out so that one node usually
  // times out, wins and sends heartbeats before any other times out (Raft §5.2).
  randomized_election_ticks_ =
      config_.election_ticks + static_cast<uint32_t>(rng_.below(config_.election_ticks));
}

void Core::tick_election() {
  if (!is_voter(config_.id)) return;  // a learner follows whoever leads; it never campaigns
  ++election_elapsed_;
  if (election_elapsed_ >= randomized_election_ticks_) {
    election_elapsed_ = 0;
    start_election(config_.pre_vote);
  }
}

void Core::tick_heartbeat() {
  RR_ASSERT(role_ == Role::kLeader);
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  tick_transfer();
  if (election_elapsed_ >= config_.election_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum && !quorum_active()) {
      // Cut off from a majority for a whole election timeout: a new leader may already serve
      // on the other side. Step down rather than hold on to clients (thesis §6.2).
      become_follower(term_, kNoNode);
      return;
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    start_heartbeat_round();
  }
}

// Whether a majority (this node included) was heard from since the last check; starts the next
// check period.
bool Core::quorum_active() {
  size_t active = 0;
  for (auto& [peer, pr] : progress_) {
    if (is_voter(peer) && (peer == config_.id || pr.recent_active)) ++active;
    pr.recent_active = false;
  }
  return active >= config_.voters.size() / 2 + 1;
}

void Core::start_election(bool pre_vote, bool transfer) {
  RR_ASSERT(role_ != Role::kLeader);
  Term vote_term;
  MessageType request_type;
  if (pre_vote) {
    become_pre_candidate();
    vote_term = Term{term_.value() + 1};  // the term we would campaign at; ours is unchanged
    request_type = MessageType::kPreVoteRequest;
  } else {
    become_candidate();
    vote_term = term_;
    request_type = MessageType::kVoteRequest;
  }
  votes_[config_.id] = true;
  switch (tally_votes(config_.voters, votes_)) {
    case VoteResult::kWon:  // a group of one
      if (pre_vote) {
        start_election(false);
      } else {
        become_leader();
      }
      return;
    case VoteResult::kLost:
      RR_UNREACHABLE("a vote for oneself cannot lose");
    case VoteResult::kPending:
      break;
  }
  for (NodeId voter : config_.voters) {
    if (voter == config_.id) continue;
    send(Message{.type = request_type,
                 .to = voter,
                 .term = vote_term,
                 .log_index = log_.last_index(),
                 .log_term = log_.last_term(),
                 .transfer = transfer});
  }
}

void Core::on_vote_request(const Message& message) {
  const bool pre_vote = message.type == MessageType::kPreVoteRequest;
  const MessageType response_type =
      pre_vote ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  // At most one vote per term (§5.2): repeat a vote already given to this candidate, or give
  // one if we have neither voted nor heard from a leader this term. A pre-vote for a later
  // term binds nothing, so it may be granted whatever we did in ours.
  // A learner has no vote; it answers so that the candidate is not left waiting.
  const bool can_vote =
      is_voter(config_.id) && (vote_ == message.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                               (pre_vote && message.term > term_));
  if (can_vote && log_.is_up_to_date(message.log_index, message.log_term)) {
    // Answer with the request's term: a pre-candidate only counts answers for the term it
    // would campaign at (for a real vote the two are equal by now).
    send(Message{.type = response_type, .to = message.from, .term = message.term});
    if (!pre_vote) {
      vote_ = message.from;  // durable before the answer leaves: messages_after_persist
      election_elapsed_ = 0;
    }
    return;
  }
  send(Message{.type = response_type, .to = message.from, .term = term_, .reject = true});
}

void Core::on_vote_response(const Message& message) {
  const bool expected =
      (role_ == Role::kPreCandidate && message.type == MessageType::kPreVoteResponse) ||
      (role_ == Role::kCandidate && message.type == MessageType::kVoteResponse);
  if (!expected) return;                          // a late answer to an election that is over
  votes_.emplace(message.from, !message.reject);  // the first answer of each voter counts
  switch (tally_votes(config_.voters, votes_)) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        start_election(false);
      } else {
        become_leader();
      }
      break;
    case VoteResult::kLost:
      become_follower(term_, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
}

}  // namespace ringraft::raft
