// The Core's side of membership changes (membership.h): the leader's requests and the
// promotion's catch-up rounds, adoption of the configuration of the log's last membership
// entry (on append, rolled back on truncation), the leader that removed itself stepping down,
// and the fates of changes reported in Ready::membership_changes.
#include <algorithm>
#include <string>

#include "common/assert.h"
#include "raft/core/core.h"

namespace ringraft::raft {

Result<void> Core::change_membership(MembershipChange change) {
  RR_ASSERT_MSG(!ready_outstanding_, "change_membership() between ready() and advance()");
  const auto refuse = [&](ErrorCode code, const char* why) {
    return Error(code, "raft node " + std::to_string(config_.id.value()) + ": " +
                           membership_op_name(change.op) + " " +
                           std::to_string(change.node.value()) + ": " + why);
  };
  if (role_ != Role::kLeader) return refuse(ErrorCode::kInvalidInput, "not the leader");
  // One change at a time (thesis §4.1): the previous one must be committed, and a leader must
  // have committed an entry of its own term first (the fix to the one-server algorithm of
  // Ongaro's 2015 raft-dev post), or a change could be lost with a leader of an older config.
  if (catch_up_.has_value() || history_.current_index() > log_.committed()) {
    return refuse(ErrorCode::kFull, "another membership change is pending");
  }
  if (!committed_in_term()) {
    return refuse(ErrorCode::kFull, "the leader has not committed an entry of its term yet");
  }
  if (transferee_ != kNoNode) return refuse(ErrorCode::kFull, "a leadership transfer is under way");
  AppliedChange applied = apply_change(history_.current(), change);
  if (!applied.result.has_value()) return refuse(ErrorCode::kInvalidInput, applied.refusal);
  if (change.op == MembershipOp::kPromote) {
    // Thesis §4.2.1: replicate in rounds; once a round (everything the leader held when it
    // began) completes within an election timeout, the learner is close enough to vote.
    catch_up_ = CatchUp{change, ticks_, log_.last_index(), ticks_};
    maybe_finish_catch_up();
  } else {
    append_membership_entry(change, *applied.result);
  }
  after_input();
  return {};
}

void Core::append_membership_entry(const MembershipChange& change, const Membership& result) {
  RR_ASSERT(role_ == Role::kLeader);
  const LogIndex index{log_.last_index().value() + 1};
  std::vector<Entry> entries;
  entries.push_back(Entry{term_, index, encode_membership(change, result)});
  uncommitted_bytes_ += entries.back().size_bytes();
  log_.append(std::move(entries));
  history_.push(index, term_, result);
  tracked_changes_.push_back(TrackedChange{change, index, term_});
  adopt(result);  // takes effect when appended (thesis §4.1), before it commits
  progress_.at(config_.id).set_self_match(log_.durable_index(), log_.last_index());
  bcast_append();
}

void Core::maybe_finish_catch_up() {
  if (!catch_up_.has_value() || role_ != Role::kLeader) return;
  const Progress* pr = progress(catch_up_->change.node);
  RR_ASSERT(pr != nullptr);  // adopt() drops the catch-up of a node that left
  if (pr->match() < catch_up_->round_target) return;
  if (ticks_ - catch_up_->round_started_tick < config_.election_ticks) {
    const MembershipChange change = catch_up_->change;
    catch_up_.reset();
    AppliedChange applied = apply_change(history_.current(), change);
    RR_ASSERT(applied.result.has_value());  // no other change could come in meanwhile
    append_membership_entry(change, *applied.result);
    return;
  }
  catch_up_->round_target = log_.last_index();  // a slow round: one more
  catch_up_->round_started_tick = ticks_;
}

void Core::tick_membership() {
  if (!catch_up_.has_value()) return;
  const uint64_t timeout_ticks =
      uint64_t{config_.promote_timeout_elections} * config_.election_ticks;
  if (ticks_ - catch_up_->started_tick >= timeout_ticks) {
    change_outcomes_.push_back(ChangeOutcome{catch_up_->change, ChangeFate::kTimedOut, {}});
    catch_up_.reset();
    return;
  }
  maybe_finish_catch_up();
}

void Core::drop_catch_up() {
  if (!catch_up_.has_value()) return;
  change_outcomes_.push_back(ChangeOutcome{catch_up_->change, ChangeFate::kDropped, {}});
  catch_up_.reset();
}

// The configuration in effect changed: the node's view of voters and learners follows, and a
// leader tracks the members and itself (which it may have just removed). A removed node keeps
// its progress until the removal commits, so that it most likely learns of its removal (and
// stops campaigning) rather than being cut off mid-log.
void Core::adopt(const Membership& membership) {
  for (NodeId voter : config_.voters) {
    if (!membership.is_member(voter)) remember_departed(voter);
  }
  for (NodeId learner : config_.learners) {
    if (!membership.is_member(learner)) remember_departed(learner);
  }
  config_.voters = membership.voters;
  config_.learners = membership.learners;
  membership_changed_ = true;
  if (catch_up_.has_value() && !membership.is_learner(catch_up_->change.node)) drop_catch_up();
  if (role_ != Role::kLeader) return;
  if (transferee_ != kNoNode && !membership.is_voter(transferee_)) transferee_ = kNoNode;
  for (const auto& [peer, pr] : progress_) {
    if (peer != config_.id && !membership.is_member(peer)) leaving_progress_ = true;
  }
  const LogIndex next{log_.last_index().value() + 1};
  const auto track = [&](NodeId node) {
    progress_.try_emplace(node, next, config_.inflight_count_max, config_.inflight_bytes_max);
  };
  for (NodeId voter : membership.voters) track(voter);
  for (NodeId learner : membership.learners) track(learner);
}

// A removed node may still send (it may not know yet, or a message was in flight): its
// messages are dropped, not refused as malformed. Bounded: the oldest are forgotten.
void Core::remember_departed(NodeId node) {
  if (std::find(departed_.begin(), departed_.end(), node) != departed_.end()) return;
  if (departed_.size() == kDepartedMax) departed_.erase(departed_.begin());
  departed_.push_back(node);
}

bool Core::is_known_sender(NodeId node) const {
  return history_.knows(node) ||
         std::find(departed_.begin(), departed_.end(), node) != departed_.end();
}

// A leader's answers from a node it no longer tracks (removed since the request left).
bool Core::from_untracked_peer(const Message& message) const {
  const bool answer = message.type == MessageType::kAppendResponse ||
                      message.type == MessageType::kHeartbeatResponse ||
                      message.type == MessageType::kSnapshotResponse ||
                      message.type == MessageType::kReadIndex;
  return role_ == Role::kLeader && answer && progress_.find(message.from) == progress_.end();
}

// A vote request from a node that is not a voter here: most likely a removed node that missed
// its removal and campaigns on. Ignored whole, its term included: refusing a vote, or not
// adopting a term, never breaks safety, and it keeps such a node from deposing leaders over
// and over (thesis §4.2.3). Should the configuration here be an uncommitted one that a
// truncation rolls back, the node is heard again from then on.
bool Core::from_non_voter_candidate(const Message& message) const {
  const bool vote_request =
      message.type == MessageType::kPreVoteRequest || message.type == MessageType::kVoteRequest;
  return vote_request && !is_voter(message.from);
}

// Construction: the base is the snapshot's configuration (or the Config's), then every
// membership entry of the log in order.
void Core::load_membership() {
  if (snapshot_.index > LogIndex{0} && !snapshot_.voters.empty()) {
    history_.reset(Membership{snapshot_.voters, snapshot_.learners}, snapshot_.index);
  }
  record_membership_entries(log_.first_index());
  config_.voters = history_.current().voters;
  config_.learners = history_.current().learners;
}

// Records the membership entries in [from, last] not recorded yet; true if any.
bool Core::record_membership_entries(LogIndex from) {
  if (from <= history_.current_index()) from = LogIndex{history_.current_index().value() + 1};
  if (from < log_.first_index()) from = log_.first_index();
  if (from > log_.last_index()) return false;
  bool found = false;
  for (const Entry& entry : log_.view(from, log_.last_index())) {
    if (!is_membership_entry(entry)) continue;
    std::optional<DecodedMembership> decoded =
        decode_membership({entry.payload.data(), entry.payload.size()});
    if (!decoded.has_value()) continue;  // malformed: the configuration stays (logged nowhere)
    history_.push(entry.index, entry.term, std::move(decoded->result));
    found = true;
  }
  return found;
}

// A follower's log changed from `from` on (an Append was taken): forget the configurations of
// overwritten entries, record the new ones, and adopt the last.
void Core::on_log_changed(LogIndex from) {
  const bool dropped =
      history_.drop_overwritten(from, [&](LogIndex index) { return log_.term_at(index); });
  const bool found = record_membership_entries(from);
  if (dropped || found) adopt(history_.current());
}

// A follower installed a snapshot: its configuration replaces the log's.
void Core::on_snapshot_installed() {
  history_.reset(Membership{snapshot_.voters, snapshot_.learners}, snapshot_.index);
  adopt(history_.current());
}

// The configuration in effect at `index` (compaction: the snapshot records it).
const Membership& Core::membership_at(LogIndex index) const {
  return history_.at(index);
}

// A leader that removed itself leads until the change commits (it still replicates it, without
// counting itself), then, at its next tick, hands over to a caught-up voter and steps down
// (thesis §4.2.2). The same tick stops replicating to a removed node once its removal commits.
void Core::maybe_step_down_removed() {
  if (role_ != Role::kLeader || log_.committed() < history_.current_index()) return;
  if (leaving_progress_) {  // the removal committed: stop replicating to the removed node
    leaving_progress_ = false;
    for (auto it = progress_.begin(); it != progress_.end();) {
      if (it->first != config_.id && !history_.current().is_member(it->first)) {
        it = progress_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (is_voter(config_.id)) return;
  NodeId successor = kNoNode;
  for (NodeId voter : config_.voters) {
    if (progress_.at(voter).match() == log_.last_index()) successor = voter;
  }
  if (successor != kNoNode) {
    send(Message{.type = MessageType::kTimeoutNow, .to = successor, .term = term_});
  }
  become_follower(term_, kNoNode);
}

// Ready: the fates of changes whose entry the state machine reaches in this Ready.
void Core::resolve_changes(LogIndex applicable) {
  for (auto it = tracked_changes_.begin(); it != tracked_changes_.end();) {
    if (it->index > applicable) {
      ++it;
      continue;
    }
    const std::optional<Term> term = log_.term_at(it->index);
    ChangeFate fate = ChangeFate::kUnknown;
    if (term.has_value() && it->index > log_.snapshot_index()) {
      fate = *term == it->term ? ChangeFate::kCommitted : ChangeFate::kDropped;
    }
    change_outcomes_.push_back(ChangeOutcome{it->change, fate, it->index});
    it = tracked_changes_.erase(it);
  }
}

}  // namespace ringraft::raft
