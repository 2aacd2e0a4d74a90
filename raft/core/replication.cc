// Replication (Raft §5.3, §5.4.2): the leader's Appends and heartbeats, the follower's answers
// with conflict hints for fast backtracking, and the commit rule.
#include <algorithm>

#include "common/assert.h"
#include "raft/core/core.h"
#include "raft/core/quorum.h"

namespace ringraft::raft {

// Sends `to` the entries from its `next` on, as far as the batch limits and its inflight
// window allow. With send_if_empty, an empty Append still goes out (a probe, or news of the
// commit index). Returns whether an Append was sent.
bool Core::send_append(NodeId to, bool send_if_empty) {
  RR_ASSERT(role_ == Role::kLeader && to != config_.id);
  Progress& pr = progress_.at(to);
  if (pr.is_paused()) return false;
  if (pr.state() == ProgressState::kSnapshot || pr.next() <= log_.snapshot_index()) {
    return send_snapshot_chunk(to);  // the entries it needs were compacted away
  }
  const LogIndex prev_index{pr.next().value() - 1};
  uint64_t bytes_max = config_.append_bytes_max;
  if (pr.state() == ProgressState::kReplicate) {
    // Keep the window within its byte bound (a single larger entry still goes alone).
    bytes_max = std::min(bytes_max, config_.inflight_bytes_max - pr.inflights().size_bytes());
  }
  std::vector<Entry> entries = log_.slice(pr.next(), config_.append_entries_max, bytes_max);
  if (entries.empty() && !send_if_empty) return false;
  const auto entry_count = static_cast<uint32_t>(entries.size());
  const LogIndex last_sent = entries.empty() ? prev_index : entries.back().index;
  const uint64_t payload_bytes = entries_size_bytes(entries);
  send(Message{.type = MessageType::kAppend,
               .to = to,
               .term = term_,
               .log_index = prev_index,
               .log_term = log_.term_of(prev_index),
               .entries = std::move(entries),
               .commit = log_.committed()});
  pr.sent_append(entry_count, last_sent, payload_bytes);
  return true;
}

void Core::bcast_append() {
  for (const auto& [peer, pr] : progress_) {  // voters and learners
    if (peer != config_.id) send_append(peer, true);
  }
}

void Core::bcast_heartbeat() {
  for (const auto& [peer, pr] : progress_) {  // voters and learners
    if (peer == config_.id) continue;
    // Never tell a follower to commit past what it is known to hold: its log beyond `match`
    // may still differ from ours.
    const LogIndex commit = std::min(pr.match(), log_.committed());
    send(Message{.type = MessageType::kHeartbeat,
                 .to = peer,
                 .term = term_,
                 .commit = commit,
                 .context = heartbeat_round_});
  }
}

// Raft §5.3 and §5.4.2: the highest index stored on a majority commits, but only if its entry
// is of the current term (entries of earlier terms then commit with it). The leader's own
// match is its durable index, so its vote counts only for entries already on its disk.
bool Core::maybe_commit() {
  RR_ASSERT(role_ == Role::kLeader);
  match_scratch_.clear();
  for (NodeId voter : config_.voters) match_scratch_.push_back(progress_.at(voter).match());
  const LogIndex index = majority_index(match_scratch_);
  if (index <= log_.committed() || log_.term_of(index) != term_) return false;
  for (const Entry& entry : log_.view(LogIndex{log_.committed().value() + 1}, index)) {
    if (entry.term != term_) continue;
    RR_ASSERT(uncommitted_bytes_ >= entry.size_bytes());
    uncommitted_bytes_ -= entry.size_bytes();
  }
  log_.commit_to(index);
  release_reads();  // reads wait for the first commit of the term
  return true;
}

void Core::on_append(Message message) {
  if (role_ == Role::kLeader) return;  // one leader per term (§5.2): cannot come from a peer
  if (role_ != Role::kFollower) become_follower(message.term, message.from);
  election_elapsed_ = 0;
  lead_ = message.from;
  if (message.log_index < log_.committed()) {
    // Everything up to our commit index matches; say how far that is.
    send(Message{.type = MessageType::kAppendResponse,
                 .to = message.from,
                 .term = term_,
                 .log_index = log_.committed()});
    return;
  }
  const LogIndex commit = message.commit;
  const std::optional<LogIndex> last_new =
      log_.maybe_append(message.log_index, message.log_term, std::move(message.entries));
  if (last_new.has_value()) {
    on_log_changed(LogIndex{message.log_index.value() + 1});  // membership entries in or out
    log_.commit_to(std::min(commit, *last_new));
    send(Message{.type = MessageType::kAppendResponse,
                 .to = message.from,
                 .term = term_,
                 .log_index = *last_new});
    return;
  }
  // Rejected: hint at the last entry that could still match, so the leader skips a whole
  // term's worth of entries per round trip instead of one index (Raft §5.3, the optimization
  // at its end; etcd-io/raft's findConflictByTerm). No entry after the hint can match, as
  // the leader's entry at message.log_index has message.log_term.
  const LogIndex hint_index =
      log_.find_conflict_by_term(std::min(message.log_index, log_.last_index()), message.log_term);
  send(Message{.type = MessageType::kAppendResponse,
               .to = message.from,
               .term = term_,
               .log_index = message.log_index,
               .reject = true,
               .reject_hint_index = hint_index,
               .reject_hint_term = log_.term_of(hint_index)});
}

void Core::on_append_response(const Message& message) {
  if (role_ != Role::kLeader) return;
  Progress& pr = progress_.at(message.from);
  pr.recent_active = true;
  if (message.reject) {
    // The follower's log holds (hint_index, hint_term) and nothing between them that could
    // match: continue from the last index of ours whose term is <= hint_term.
    LogIndex probe_from = message.reject_hint_index;
    if (message.reject_hint_term > Term{0}) {
      probe_from = log_.find_conflict_by_term(message.reject_hint_index, message.reject_hint_term);
    }
    if (pr.maybe_decrease_to(message.log_index, probe_from)) send_append(message.from, true);
    return;
  }
  const bool was_paused = pr.is_paused();
  // A probe answered at `match` itself (e.g. right after a snapshot) also shows where the logs
  // agree, though it moves nothing forward.
  const bool probe_answered =
      pr.state() == ProgressState::kProbe && message.log_index == pr.match();
  if (!pr.maybe_update(message.log_index) && !probe_answered) return;  // an older one
  if (pr.state() == ProgressState::kProbe) pr.become_replicate();
  if (message.from == transferee_) maybe_send_timeout_now();  // caught up: hand over
  maybe_finish_catch_up();                                    // a promotion's round is done?
  if (maybe_commit()) {
    bcast_append();  // tells every follower the new commit index
  } else if (was_paused) {
    send_append(message.from, true);
  }
  // Fill the freed window. Bounded: each round sends entries or stops, and the window holds
  // at most inflight_count_max Appends.
  for (uint32_t round = 0; round <= config_.inflight_count_max; ++round) {
    if (!send_append(message.from, false)) return;
  }
}

void Core::on_heartbeat(const Message& message) {
  if (role_ == Role::kLeader) return;  // one leader per term
  if (role_ != Role::kFollower) become_follower(message.term, message.from);
  election_elapsed_ = 0;
  lead_ = message.from;
  // The leader sends min(match, commit), so everything up to it matches the leader's log.
  log_.commit_to(std::min(message.commit, log_.last_index()));
  send(Message{.type = MessageType::kHeartbeatResponse,
               .to = message.from,
               .term = term_,
               .context = message.context});
}

void Core::on_heartbeat_response(const Message& message) {
  if (role_ != Role::kLeader) return;
  Progress& pr = progress_.at(message.from);
  pr.recent_active = true;
  pr.on_heartbeat_response();
  on_heartbeat_round_acked(message.from, message.context);
  if (pr.match() < log_.last_index()) send_append(message.from, true);
}

}  // namespace ringraft::raft
