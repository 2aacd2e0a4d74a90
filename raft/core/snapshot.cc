// Snapshots (Raft §7): compaction of the applied prefix, and InstallSnapshot in chunks. The
// leader sends one chunk per follower at a time and resumes from the offset the follower
// acknowledged; the follower passes each chunk to its caller (Ready::snapshot_chunks) and
// installs the snapshot once the last byte arrived. Snapshot bytes never stay in the core.
#include <algorithm>
#include <string>

#include "common/assert.h"
#include "raft/core/core.h"

namespace ringraft::raft {

Result<void> Core::compact(LogIndex index, uint64_t snapshot_size_bytes) {
  RR_ASSERT_MSG(!ready_outstanding_, "compact() between ready() and advance()");
  if (index <= log_.snapshot_index() || index > log_.applied()) {
    return Error(ErrorCode::kInvalidInput,
                 "raft node " + std::to_string(config_.id.value()) + ": compact to " +
                     std::to_string(index.value()) + " outside (last compaction " +
                     std::to_string(log_.snapshot_index().value()) + ", applied " +
                     std::to_string(log_.applied().value()) + "]");
  }
  log_.compact(index);
  snapshot_.index = index;
  snapshot_.term = log_.snapshot_term();
  snapshot_.size_bytes = snapshot_size_bytes;
  // The configuration as of `index`: a later, uncommitted change is not the snapshot's.
  snapshot_.voters = membership_at(index).voters;
  snapshot_.learners = membership_at(index).learners;
  history_.compact_to(index);
  if (role_ == Role::kLeader) {
    // The caller keeps only its latest snapshot: transfers of the older one start over.
    for (auto& [peer, pr] : progress_) {
      if (peer == config_.id || pr.state() != ProgressState::kSnapshot) continue;
      pr.become_snapshot(index);
      send_snapshot_chunk(peer);
    }
  }
  after_input();
  return {};
}

// Sends `to` the next chunk of the latest snapshot (its entries before snapshot_.index are
// gone from the log). The caller fills in the chunk's bytes.
bool Core::send_snapshot_chunk(NodeId to) {
  RR_ASSERT(role_ == Role::kLeader && snapshot_.index > LogIndex{0});
  Progress& pr = progress_.at(to);
  if (pr.state() != ProgressState::kSnapshot || pr.pending_snapshot() != snapshot_.index) {
    pr.become_snapshot(snapshot_.index);
  }
  const uint64_t offset = std::min(pr.snapshot_offset(), snapshot_.size_bytes);
  const uint64_t chunk_bytes =
      std::min(config_.snapshot_chunk_bytes_max, snapshot_.size_bytes - offset);
  send(Message{.type = MessageType::kSnapshot,
               .to = to,
               .term = term_,
               .log_index = snapshot_.index,
               .log_term = snapshot_.term,
               .commit = log_.committed(),
               .snapshot_offset = offset,
               .snapshot_size_bytes = snapshot_.size_bytes,
               .snapshot_chunk_bytes = chunk_bytes,
               .snapshot_voters = snapshot_.voters,
               .snapshot_learners = snapshot_.learners});
  pr.sent_snapshot_chunk();
  return true;
}

void Core::answer_snapshot(const Message& message, uint64_t next_offset, bool reject) {
  send(Message{.type = MessageType::kSnapshotResponse,
               .to = message.from,
               .term = term_,
               .log_index = message.log_index,
               .log_term = message.log_term,
               .reject = reject,
               .snapshot_offset = next_offset});
}

void Core::on_snapshot(Message message) {
  if (role_ == Role::kLeader) return;  // one leader per term
  if (role_ != Role::kFollower) become_follower(message.term, message.from);
  election_elapsed_ = 0;
  lead_ = message.from;
  const LogIndex index = message.log_index;
  const Term term = message.log_term;
  if (index <= log_.committed() || log_.match_term(index, term)) {
    // This log already holds the snapshot's entries (committed ones match the leader's; a
    // matching entry implies a matching prefix, Raft §5.3): nothing to install.
    log_.commit_to(index);
    receiving_snapshot_.reset();
    answer_snapshot(message, message.snapshot_size_bytes, false);
    return;
  }
  // A transfer is named by (leader, term, snapshot index): two leaders' files of the same
  // snapshot need not have the same bytes, so a new one starts over from offset 0.
  const bool same_transfer = receiving_snapshot_.has_value() &&
                             receiving_snapshot_->index == index && receiving_from_ == lead_ &&
                             receiving_term_ == term_;
  if (!same_transfer) {
    if (message.snapshot_offset != 0) return answer_snapshot(message, 0, true);
    receiving_snapshot_ =
        SnapshotMeta{index, term, message.snapshot_size_bytes, std::move(message.snapshot_voters),
                     std::move(message.snapshot_learners)};
    receiving_offset_ = 0;
    receiving_from_ = lead_;
    receiving_term_ = term_;
  }
  if (message.snapshot_offset != receiving_offset_) {
    return answer_snapshot(message, receiving_offset_, true);  // lost or duplicate: resume
  }
  receiving_offset_ += message.snapshot_data.size();
  snapshot_chunks_.push_back(SnapshotChunk{*receiving_snapshot_, message.snapshot_offset,
                                           std::move(message.snapshot_data)});
  if (receiving_offset_ == receiving_snapshot_->size_bytes) {
    log_.restore(index, term);
    snapshot_ = std::move(*receiving_snapshot_);
    snapshot_to_install_ = snapshot_;
    receiving_snapshot_.reset();
    on_snapshot_installed();  // the snapshot's configuration replaces the log's
  }
  answer_snapshot(message, receiving_offset_, false);
}

void Core::on_snapshot_response(const Message& message) {
  if (role_ != Role::kLeader) return;
  Progress& pr = progress_.at(message.from);
  pr.recent_active = true;
  if (pr.state() != ProgressState::kSnapshot || message.log_index != pr.pending_snapshot()) {
    return;  // about a transfer that is over
  }
  if (!message.reject && message.snapshot_offset >= snapshot_.size_bytes) {
    pr.maybe_update(message.log_index);  // the follower holds it: probe on from there
    send_append(message.from, true);
    maybe_finish_catch_up();
    return;
  }
  pr.on_snapshot_response(message.snapshot_offset);
  send_append(message.from, true);
}

}  // namespace ringraft::raft
