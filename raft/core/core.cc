// Core: construction, role transitions, the term rules every message goes through, dispatch
// to the handlers of election.cc and replication.cc, and the Ready/advance bookkeeping.
#include "raft/core/core.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/assert.h"

namespace ringraft::raft {

const char* role_name(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  RR_UNREACHABLE("unknown Role");
}

Result<Core> Core::create(Config config, InitialState initial) {
  Result<void> valid = config.validate();
  if (!valid) return valid.error();
  const LogIndex snapshot_index =
      initial.snapshot.has_value() ? initial.snapshot->index : LogIndex{0};
  if (initial.hard_state.commit.value() > snapshot_index.value() + initial.entries.size()) {
    return Error(ErrorCode::kInvalidInput, "raft initial state: commit index " +
                                               std::to_string(initial.hard_state.commit.value()) +
                                               " is beyond the last entry");
  }
  for (size_t i = 0; i < initial.entries.size(); ++i) {
    if (initial.entries[i].index.value() != snapshot_index.value() + 1 + i) {
      return Error(ErrorCode::kInvalidInput,
                   "raft initial state: entries do not follow the snapshot index " +
                       std::to_string(snapshot_index.value()) + " contiguously");
    }
  }
  return Core(std::move(config), std::move(initial));
}

Core::Core(Config config, InitialState initial)
    : config_(std::move(config)),
      rng_(config_.seed ^ (config_.id.value() * 0x9e3779b97f4a7c15ULL)),
      term_(initial.hard_state.term),
      vote_(initial.hard_state.vote),
      log_(std::move(initial.entries), initial.hard_state.commit,
           initial.snapshot.has_value() ? initial.snapshot->index : LogIndex{0},
           initial.snapshot.has_value() ? initial.snapshot->term : Term{0}),
      proposals_(config_.proposal_contexts_max),
      history_(Membership{config_.voters, config_.learners}),
      last_hard_state_(initial.hard_state) {
  if (initial.snapshot.has_value()) {
    snapshot_ = std::move(*initial.snapshot);
  } else {
    snapshot_.voters = config_.voters;
    snapshot_.learners = config_.learners;
  }
  load_membership();  // the log's membership entries override the Config's voters
  match_scratch_.reserve(config_.voters.size());
  round_scratch_.reserve(config_.voters.size());
  // A lease can only rest on a round sent within the last election timeout.
  round_sent_ticks_.assign(config_.election_ticks / config_.heartbeat_ticks + 2, 0);
  reset_randomized_election_timeout();
  check_invariants();
}

// ---- role transitions ----------------------------------------------------------------------

void Core::reset(Term term) {
  if (term != term_) {
    RR_ASSERT_MSG(term > term_, "the term never goes back");
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  votes_.clear();
  progress_.clear();
  uncommitted_bytes_ = 0;
  pending_reads_.clear();
  transferee_ = kNoNode;
  transfer_elapsed_ = 0;
  drop_catch_up();
  leaving_progress_ = false;
  heartbeat_round_ = 0;
  quorum_round_ = 0;
  lease_until_tick_ = 0;
}

void Core::become_follower(Term term, NodeId leader) {
  reset(term);
  role_ = Role::kFollower;
  lead_ = leader;
}

void Core::step_down() {
  RR_ASSERT_MSG(!ready_outstanding_, "step_down() between ready() and advance()");
  if (role_ == Role::kFollower) return;
  become_follower(term_, kNoNode);
  after_input();
}

void Core::become_pre_candidate() {
  RR_ASSERT(role_ != Role::kLeader);
  // Term and vote stay: a pre-vote changes nothing durable (Raft thesis §9.6).
  role_ = Role::kPreCandidate;
  lead_ = kNoNode;
  votes_.clear();
  progress_.clear();
}

void Core::become_candidate() {
  RR_ASSERT(role_ != Role::kLeader);
  reset(Term{term_.value() + 1});
  role_ = Role::kCandidate;
  vote_ = config_.id;
  elections_started_++;
}

void Core::become_leader() {
  RR_ASSERT(role_ == Role::kCandidate);
  reset(term_);
  role_ = Role::kLeader;
  lead_ = config_.id;
  elections_won_++;
  const LogIndex next{log_.last_index().value() + 1};
  for (NodeId voter : config_.voters) {
    progress_.emplace(voter,
                      Progress(next, config_.inflight_count_max, config_.inflight_bytes_max));
  }
  for (NodeId learner : config_.learners) {
    progress_.emplace(learner,
                      Progress(next, config_.inflight_count_max, config_.inflight_bytes_max));
  }
  // An empty entry of the new term: entries of earlier terms commit only once an entry of the
  // current term does (Raft §5.4.2), so a new leader commits one right away (§8).
  std::vector<Entry> noop;
  noop.push_back(Entry{term_, next, {}});
  log_.append(std::move(noop));
  progress_.at(config_.id).set_self_match(log_.durable_index(), log_.last_index());
  bcast_append();
}

// ---- inputs ---------------------------------------------------------------------------------

Result<void> Core::step(Message message) {
  RR_ASSERT_MSG(!ready_outstanding_, "step() between ready() and advance()");
  Result<void> valid = validate(message);
  if (!valid) return valid;
  if (from_untracked_peer(message)) return {};  // from a node removed meanwhile: dropped
  if (from_non_voter_candidate(message)) return {};
  if (message.term > term_) {
    if (!on_higher_term(message)) return {};
  } else if (message.term < term_) {
    on_lower_term(message);
    after_input();
    return {};
  }
  switch (message.type) {
    case MessageType::kPreVoteRequest:
    case MessageType::kVoteRequest:
      on_vote_request(message);
      break;
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse:
      on_vote_response(message);
      break;
    case MessageType::kAppend:
      on_append(std::move(message));
      break;
    case MessageType::kAppendResponse:
      on_append_response(message);
      break;
    case MessageType::kHeartbeat:
      on_heartbeat(message);
      break;
    case MessageType::kHeartbeatResponse:
      on_heartbeat_response(message);
      break;
    case MessageType::kSnapshot:
      on_snapshot(std::move(message));
      break;
    case MessageType::kSnapshotResponse:
      on_snapshot_response(message);
      break;
    case MessageType::kReadIndex:
      on_read_index(message);
      break;
    case MessageType::kReadIndexResponse:
      on_read_index_response(message);
      break;
    case MessageType::kTimeoutNow:
      on_timeout_now(message);
      break;
  }
  after_input();
  return {};
}

void Core::tick() {
  RR_ASSERT_MSG(!ready_outstanding_, "tick() between ready() and advance()");
  ++ticks_;
  if (role_ == Role::kLeader) {
    tick_heartbeat();
    if (role_ == Role::kLeader) tick_membership();
    // On a tick, not in the input that commits: the commit goes out to the followers first.
    maybe_step_down_removed();
  } else {
    tick_election();
  }
  after_input();
}

bool Core::is_voter(NodeId node) const {
  return std::find(config_.voters.begin(), config_.voters.end(), node) != config_.voters.end();
}

void Core::campaign() {
  RR_ASSERT_MSG(!ready_outstanding_, "campaign() between ready() and advance()");
  if (role_ == Role::kLeader || !is_voter(config_.id)) return;  // a learner never campaigns
  start_election(config_.pre_vote);
  after_input();
}

namespace {

// The batch's bytes in one shared block: one allocation and one copy for the whole batch.
std::vector<PayloadRef> share(const std::vector<Payload>& batch) {
  size_t batch_bytes = 0;
  for (const Payload& payload : batch) batch_bytes += payload.size();
  EntryBlockBuilder builder;
  builder.reserve(batch.size(), batch_bytes);
  for (const Payload& payload : batch) builder.add(payload);
  std::vector<PayloadRef> shared;
  builder.take(shared);
  return shared;
}

}  // namespace

ProposeResult Core::propose(std::vector<Payload> batch) {
  return append_proposal(share(batch), std::nullopt);
}

ProposeResult Core::propose(std::vector<Payload> batch, uint64_t context) {
  return append_proposal(share(batch), context);
}

ProposeResult Core::propose(std::vector<PayloadRef> batch) {
  return append_proposal(std::move(batch), std::nullopt);
}

ProposeResult Core::propose(std::vector<PayloadRef> batch, uint64_t context) {
  return append_proposal(std::move(batch), context);
}

ProposeResult Core::append_proposal(std::vector<PayloadRef>&& batch,
                                    std::optional<uint64_t> context) {
  RR_ASSERT_MSG(!ready_outstanding_, "propose() between ready() and advance()");
  RR_ASSERT_MSG(!batch.empty(), "propose() of an empty batch");
  if (role_ != Role::kLeader) return NotLeader{lead_};
  if (transferee_ != kNoNode) return NotLeader{transferee_};  // handing over
  for (size_t i = 0; i < batch.size(); ++i) {
    if (is_membership_payload({batch[i].data(), batch[i].size()})) return ReservedPayload{i};
  }
  if (context.has_value() && proposals_.full()) return ProposalsFull{uncommitted_bytes_};
  uint64_t batch_bytes = 0;
  for (const PayloadRef& payload : batch) batch_bytes += payload.size();
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + batch_bytes > config_.uncommitted_bytes_max) {
    return ProposalsFull{uncommitted_bytes_};
  }
  uncommitted_bytes_ += batch_bytes;
  const LogIndex first{log_.last_index().value() + 1};
  std::vector<Entry> entries;
  entries.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    entries.push_back(Entry{term_, LogIndex{first.value() + i}, std::move(batch[i])});
  }
  log_.append(std::move(entries));
  if (context.has_value()) proposals_.track(*context, first, log_.last_index(), term_);
  // The leader's own entries count toward the quorum only once durable (persisted_to).
  progress_.at(config_.id).set_self_match(log_.durable_index(), log_.last_index());
  bcast_append();
  after_input();
  return Proposed{first, log_.last_index(), term_};
}

void Core::persisted_to(LogIndex index, Term term) {
  RR_ASSERT_MSG(!ready_outstanding_, "persisted_to() between ready() and advance()");
  log_.durable_to(index, term);
  if (role_ == Role::kLeader) {
    progress_.at(config_.id).set_self_match(log_.durable_index(), log_.last_index());
    if (maybe_commit()) bcast_append();
  }
  after_input();
}

// ---- step plumbing ---------------------------------------------------------------------------

Result<void> Core::validate(const Message& message) const {
  const auto invalid = [&](const char* what) {
    return Error(ErrorCode::kInvalidInput, std::string("raft node ") +
                                               std::to_string(config_.id.value()) + ": " +
                                               message_type_name(message.type) + " from " +
                                               std::to_string(message.from.value()) + ": " + what);
  };
  if (message.to != config_.id) return invalid("addressed to another node");
  if (message.from == config_.id) return invalid("sent by this node to itself");
  if (!is_known_sender(message.from)) return invalid("unknown sender");
  if (message.term == Term{0}) return invalid("term 0 (every message carries a term >= 1)");
  if (message.type == MessageType::kAppend) {
    Term previous_term = message.log_term;
    for (size_t i = 0; i < message.entries.size(); ++i) {
      const Entry& entry = message.entries[i];
      if (entry.index.value() != message.log_index.value() + 1 + i) {
        return invalid("entries do not follow the previous index");
      }
      if (entry.term == Term{0} || entry.term < previous_term || entry.term > message.term) {
        return invalid("entry terms out of order");
      }
      previous_term = entry.term;
    }
  }
  if (message.type == MessageType::kSnapshot) {
    if (message.log_index == LogIndex{0} || message.log_term == Term{0} ||
        message.log_term > message.term) {
      return invalid("snapshot index or term out of range");
    }
    if (message.snapshot_data.size() != message.snapshot_chunk_bytes ||
        message.snapshot_offset > message.snapshot_size_bytes ||
        message.snapshot_chunk_bytes > message.snapshot_size_bytes - message.snapshot_offset) {
      return invalid("snapshot chunk outside the snapshot, or of the wrong length");
    }
  }
  if (message.type == MessageType::kSnapshotResponse && message.term == term_ &&
      role_ == Role::kLeader && message.log_index == snapshot_.index &&
      message.snapshot_offset > snapshot_.size_bytes) {
    return invalid("acknowledges an offset beyond the snapshot's size");
  }
  // An acknowledgement of the current term answers an Append this leader sent, and this
  // leader's log only grows during its term.
  if (message.type == MessageType::kAppendResponse && message.term == term_ &&
      role_ == Role::kLeader && message.log_index > log_.last_index()) {
    return invalid("acknowledges an index beyond the leader's last index");
  }
  return {};
}

// A message of a newer term (Raft §5.1: a node that sees a newer term adopts it and becomes a
// follower), with the PreVote and CheckQuorum exceptions of thesis §9.6. Returns whether the
// message should still be handled.
bool Core::on_higher_term(const Message& message) {
  const bool vote_request =
      message.type == MessageType::kPreVoteRequest || message.type == MessageType::kVoteRequest;
  if (vote_request && !message.transfer && config_.check_quorum && lead_ != kNoNode &&
      election_elapsed_ < config_.election_ticks) {
    // We heard from a live leader within the minimum election timeout: the requester is
    // probably a node rejoining from a partition. Neither adopt its term nor vote.
    return false;
  }
  if (message.type == MessageType::kPreVoteRequest) return true;  // never changes our term
  if (message.type == MessageType::kPreVoteResponse && !message.reject) {
    return true;  // a grant for our own pre-vote carries the term we would campaign at
  }
  const bool from_leader = message.type == MessageType::kAppend ||
                           message.type == MessageType::kHeartbeat ||
                           message.type == MessageType::kSnapshot;
  become_follower(message.term, from_leader ? message.from : kNoNode);
  return true;
}

void Core::on_lower_term(const Message& message) {
  const bool from_leader = message.type == MessageType::kAppend ||
                           message.type == MessageType::kHeartbeat ||
                           message.type == MessageType::kSnapshot;
  if (from_leader && (config_.check_quorum || config_.pre_vote || !is_voter(message.from))) {
    // A stale leader (e.g. cut off, then back): with PreVote or CheckQuorum our term may be
    // ahead of it without it ever hearing of the new term, so tell it; it steps down. So is a
    // removed one: no leader of the new configuration will ever write to it.
    send(Message{.type = MessageType::kAppendResponse, .to = message.from, .term = term_});
  } else if (message.type == MessageType::kPreVoteRequest) {
    // Tell a pre-candidate with an old term that it cannot win, and the term it is behind.
    send(Message{
        .type = MessageType::kPreVoteResponse, .to = message.from, .term = term_, .reject = true});
  }
  // Anything else from an older term is stale: dropped.
}

void Core::send(Message message) {
  RR_ASSERT(message.to != config_.id && message.to != kNoNode);
  RR_ASSERT(message.term != Term{0});
  message.from = config_.id;
  const bool leader_replication = message.type == MessageType::kAppend ||
                                  message.type == MessageType::kHeartbeat ||
                                  message.type == MessageType::kSnapshot;
  const bool read_traffic =
      message.type == MessageType::kReadIndex || message.type == MessageType::kReadIndexResponse;
  if (read_traffic) {
    messages_.push_back(std::move(message));  // depends on nothing this Ready persists
  } else if (leader_replication) {
    // The leader's term and vote went out in an earlier Ready, ahead of its vote requests,
    // which only leave once durable: sending in parallel with this Ready's write is safe.
    RR_ASSERT(role_ == Role::kLeader && last_hard_state_.term == term_ &&
              last_hard_state_.vote == vote_);
    messages_.push_back(std::move(message));
  } else {
    messages_after_persist_.push_back(std::move(message));
  }
}

void Core::after_input() const {
#ifndef NDEBUG
  check_invariants();
#endif
}

// ---- Ready -------------------------------------------------------------------------------------

bool Core::has_ready() const {
  return hard_state() != last_hard_state_ || log_.has_unwritten() || !messages_.empty() ||
         !messages_after_persist_.empty() || log_.applicable_index() > log_.applied() ||
         proposals_.has_resolved() || !snapshot_chunks_.empty() ||
         snapshot_to_install_.has_value() || !read_states_.empty() || membership_changed_ ||
         !change_outcomes_.empty();
}

Ready Core::ready() {
  RR_ASSERT_MSG(!ready_outstanding_, "ready() twice without advance()");
  Ready ready;
  if (hard_state() != last_hard_state_) ready.hard_state = hard_state();
  ready.snapshot = std::move(snapshot_to_install_);
  snapshot_to_install_.reset();
  ready.snapshot_chunks = std::move(snapshot_chunks_);
  snapshot_chunks_.clear();
  ready.read_states = std::move(read_states_);
  read_states_.clear();
  // Copies of entries share their payload blocks (entry_block.h): no byte is copied here.
  const LogView unwritten = log_.unwritten();
  ready.entries.assign(unwritten.begin(), unwritten.end());
  ready.messages = std::move(messages_);
  messages_.clear();
  ready.messages_after_persist = std::move(messages_after_persist_);
  messages_after_persist_.clear();
  const LogView to_apply = log_.view(LogIndex{log_.applied().value() + 1}, log_.applicable_index());
  ready.committed_entries.assign(to_apply.begin(), to_apply.end());
  proposals_.resolve(log_, log_.applicable_index());
  ready.proposals = proposals_.take_resolved();
  if (membership_changed_) ready.membership = history_.current();
  membership_changed_ = false;
  resolve_changes(log_.applicable_index());
  ready.membership_changes = std::move(change_outcomes_);
  change_outcomes_.clear();
  ready_outstanding_ = true;
  return ready;
}

void Core::advance(const Ready& ready) {
  RR_ASSERT_MSG(ready_outstanding_, "advance() without ready()");
  if (ready.hard_state.has_value()) last_hard_state_ = *ready.hard_state;
  if (!ready.entries.empty()) log_.written_to(ready.entries.back().index);
  if (!ready.committed_entries.empty()) log_.applied_to(ready.committed_entries.back().index);
  ready_outstanding_ = false;
  after_input();
}

// ---- observation ----------------------------------------------------------------------------

const Progress* Core::progress(NodeId peer) const {
  const auto it = progress_.find(peer);
  return it == progress_.end() ? nullptr : &it->second;
}

// The payload bytes of this term's entries above the commit index (check_invariants only).
uint64_t Core::uncommitted_bytes_of_term() const {
  uint64_t total_bytes = 0;
  for (const Entry& entry : log_.view(LogIndex{log_.committed().value() + 1}, log_.last_index())) {
    if (entry.term == term_) total_bytes += entry.size_bytes();
  }
  return total_bytes;
}

void Core::check_invariants() const {
  log_.check_invariants();
  proposals_.check_invariants();
  RR_ASSERT(randomized_election_ticks_ >= config_.election_ticks &&
            randomized_election_ticks_ < 2 * config_.election_ticks);
  switch (role_) {
    case Role::kFollower:
      break;
    case Role::kPreCandidate:
      RR_ASSERT(lead_ == kNoNode);
      break;
    case Role::kCandidate:
      RR_ASSERT(vote_ == config_.id);
      RR_ASSERT(lead_ == kNoNode);
      break;
    case Role::kLeader:
      RR_ASSERT(vote_ == config_.id && lead_ == config_.id);
      RR_ASSERT(uncommitted_bytes_ == uncommitted_bytes_of_term());
      // Every member, the leader itself (which may have just removed itself), and until the
      // removal commits (and the next tick) a removed node: a compaction may have dropped the
      // configurations that named it.
      RR_ASSERT(progress_.find(config_.id) != progress_.end());
      for (NodeId voter : config_.voters) RR_ASSERT(progress_.find(voter) != progress_.end());
      for (NodeId learner : config_.learners) RR_ASSERT(progress_.find(learner) != progress_.end());
      for (const auto& [peer, pr] : progress_) {
        RR_ASSERT(peer == config_.id || history_.current().is_member(peer) || leaving_progress_);
      }
      for (const auto& [peer, pr] : progress_) {
        pr.check_invariants();
        RR_ASSERT_MSG(pr.next().value() <= log_.last_index().value() + 1,
                      "progress: next beyond the leader's last index + 1");
      }
      RR_ASSERT(progress_.at(config_.id).match() <= log_.durable_index());
      break;
  }
  if (role_ != Role::kLeader) {
    RR_ASSERT(progress_.empty() && uncommitted_bytes_ == 0 && pending_reads_.empty());
    RR_ASSERT(transferee_ == kNoNode && !catch_up_.has_value());
  }
  history_.check_invariants();
  RR_ASSERT(config_.voters == history_.current().voters &&
            config_.learners == history_.current().learners);
  RR_ASSERT(quorum_round_ <= heartbeat_round_);
  RR_ASSERT(pending_reads_.size() <= config_.read_index_pending_max);
  for (size_t i = 0; i < pending_reads_.size(); ++i) {
    RR_ASSERT(pending_reads_[i].round <= heartbeat_round_ + 1);
    if (i > 0) RR_ASSERT(pending_reads_[i - 1].round <= pending_reads_[i].round);
  }
}

}  // namespace ringraft::raft
