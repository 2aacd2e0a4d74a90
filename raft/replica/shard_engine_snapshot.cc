// ShardEngine's snapshots: taking one (snapshot_now, or automatically after
// EngineOptions::snapshot_entries / snapshot_log_bytes), restoring the newest at open, sending
// one in chunks to a follower behind the compaction point, and installing one received.
//
// Serving goes on meanwhile. The state machine serialises its image in memory, as of the last
// applied entry: at once, or in steps over later turns from a view it captures at once
// (StateMachine::snapshot_view; snapshot_image.h); the file is then written,
// fsynced and renamed through io_uring operations by a task of its own, so no reactor turn
// waits for the file. Only then does the core drop the entries the snapshot covers and the WAL
// get its snapshot mark (after the file is durable: a mark never names a snapshot a crash
// could take away). One snapshot per group at a time: taking and installing exclude each other.
//
// A follower's incoming chunks are appended to a temporary snapshot file in order; its Readies
// wait until the chunks of the previous one are written (their acknowledgements leave after).
// The last chunk completes the file: it is made durable, the state machine restores from it,
// and the WAL records the mark (then a truncate of whatever the old log held beyond it), all
// durable before the Ready's hard state, entries and acknowledgements follow. A transfer cut by
// a crash starts over: the core's receiving offset is not persistent, and load_snapshots
// deletes the temporary file.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "common/log.h"
#include "raft/replica/shard_engine.h"
#include "raft/replica/snapshot_image.h"
#include "wal/batch_format.h"

namespace ringraft::replica {
namespace {

std::string group_name(GroupId group) {
  return "group " + std::to_string(group.value());
}

// What a snapshot file records of the configuration as of its index: nothing if it has no
// voter (never from a core; the file is then version 1, and a restart takes the options').
std::optional<wal::SnapshotMembership> file_membership(const std::vector<NodeId>& voters,
                                                       const std::vector<NodeId>& learners) {
  if (voters.empty()) return std::nullopt;
  wal::SnapshotMembership membership;
  membership.voters = voters;
  membership.learners = learners;
  return membership;
}

}  // namespace

Result<void> ShardEngine::restore_at_open(const std::map<GroupId, wal::SnapshotInfo>& files,
                                          const std::map<GroupId, std::vector<std::byte>>& images) {
  for (const auto& [group, info] : files) {
    Replica* replica = find(group);
    RR_ASSERT(replica != nullptr);
    ImageReader reader(images.at(group));
    Result<void> restored = state_machine_.restore(group, reader);
    if (!restored) {
      return Error(restored.error().code(), group_name(group) +
                                                ": restoring the state machine "
                                                "from " +
                                                info.path + ": " + restored.error().message());
    }
    replica->snapshots().latest = info;
    stats_.snapshots_restored++;
    RR_LOG_INFO("node {}: {} restored from its snapshot at index {}; replaying the log after it",
                options_.node.value(), group_name(group), info.index.value());
  }
  return {};
}

// ---- taking ---------------------------------------------------------------------------------

Task<Result<LogIndex>> ShardEngine::snapshot_now(GroupId group) {
  Replica* replica = find(group);
  if (replica == nullptr) {
    co_return Error(ErrorCode::kNotFound,
                    "snapshot_now: " + group_name(group) + " is not on this shard");
  }
  if (closing_ || failure_) co_return Error(ErrorCode::kCancelled, "snapshot_now: engine stopped");
  SnapshotState& state = replica->snapshots();
  if (state.taking || state.installing) {
    co_return Error(ErrorCode::kFull, "snapshot_now: " + group_name(group) +
                                          " is taking or installing a snapshot already: retry");
  }
  const LogIndex index = replica->applied_index();
  const LogIndex latest = replica->core().snapshot().index;
  if (index <= latest) co_return latest;  // nothing applied since
  const std::optional<Term> term = replica->core().log().term_at(index);
  RR_ASSERT_MSG(term.has_value(), "an applied index above the compaction point has a term");
  state.taking = true;
  tasks_live_++;
  Result<LogIndex> taken = co_await take_snapshot(*replica, index, *term);
  state.taking = false;
  tasks_live_--;
  co_return taken;
}

Task<Result<LogIndex>> ShardEngine::take_snapshot(Replica& replica, LogIndex index, Term term) {
  const GroupId group = replica.group();
  SnapshotState& state = replica.snapshots();
  ImageWriter image;
  // The image is about the size of the last one (the store changes little between two): an
  // eighth more, so that a growing store still fits in the one allocation.
  if (state.latest.has_value()) {
    const uint64_t last_bytes = state.latest->content_bytes;
    image.reserve(static_cast<size_t>(last_bytes + last_bytes / 8));
  }
  const uint64_t bytes_covered = state.bytes_applied;
  // As of `index`, taken now: a change appended later is not the snapshot's.
  const raft::Membership& as_of_index = replica.core().membership_at(index);
  std::optional<wal::SnapshotMembership> membership =
      file_membership(as_of_index.voters, as_of_index.learners);
  Result<void> written = co_await write_image(group, image);
  if (!written) {
    if (written.error().code() == ErrorCode::kUnsupported) state.unsupported = true;
    co_return written.error();
  }
  Result<wal::SnapshotInfo> file =
      co_await write_image_file(shard_.io(), options_.wal.directory, group, index, term,
                                std::move(membership), image.bytes());
  if (!file) co_return file.error();
  if (closing_ || failure_) co_return Error(ErrorCode::kCancelled, "snapshot_now: engine stopped");
  raft::Core& core = replica.core();
  if (index <= core.snapshot().index) co_return core.snapshot().index;  // one was installed
  state.latest = file.value();
  Result<void> compacted = core.compact(index, file.value().content_bytes);
  if (!compacted) co_return compacted.error();
  state.bytes_applied -= std::min(state.bytes_applied, bytes_covered);
  Result<Seq> mark = co_await append_mark(group, index, term, false);
  if (!mark) co_return mark.error();
  Result<Seq> durable = co_await wal_->wait_durable(mark.value());
  if (!durable) co_return durable.error();
  stats_.snapshots_taken++;
  co_return index;
}

// The state machine's image of `group` as of now, into `image`: in steps of kSnapshotStepBytes,
// one per turn, from a view it takes now (the turns between apply entries and serve as usual),
// or at once if it has no views. The view is taken before the first suspension, so that the
// image is that of the index the caller read.
Task<Result<void>> ShardEngine::write_image(GroupId group, ImageWriter& image) {
  std::unique_ptr<SnapshotView> view = state_machine_.snapshot_view(group);
  if (view == nullptr) co_return state_machine_.snapshot(group, image);
  while (true) {
    Result<bool> step = view->write_some(image, kSnapshotStepBytes);
    if (!step) co_return step.error();
    if (step.value()) break;
    stats_.snapshot_steps_deferred++;
    co_await shard_.yield();
    if (closing_ || failure_) {
      co_return Error(ErrorCode::kCancelled, "snapshot_now: engine stopped");
    }
  }
  co_return Result<void>{};
}

void ShardEngine::maybe_snapshot(Replica& replica) {
  const SnapshotState& state = replica.snapshots();
  if (state.taking || state.installing || state.unsupported || closing_ || failure_) return;
  if (replica.applied_index() < state.auto_retry_index) return;
  const uint64_t entries =
      replica.applied_index().value() - replica.core().snapshot().index.value();
  const bool by_entries = options_.snapshot_entries != 0 && entries >= options_.snapshot_entries;
  const bool by_bytes =
      options_.snapshot_log_bytes != 0 && state.bytes_applied >= options_.snapshot_log_bytes;
  if (by_entries || by_bytes) shard_.spawn(auto_snapshot(replica.group()));
}

Task<void> ShardEngine::auto_snapshot(GroupId group) {
  tasks_live_++;
  Result<LogIndex> taken = co_await snapshot_now(group);
  if (!taken && taken.error().code() == ErrorCode::kUnsupported) {
    RR_LOG_INFO("node {}: {}: the state machine takes no snapshots; automatic snapshots off",
                options_.node.value(), group_name(group));
  } else if (!taken && taken.error().code() != ErrorCode::kCancelled &&
             taken.error().code() != ErrorCode::kFull) {
    RR_LOG_WARN("node {}: {}: automatic snapshot failed: {}", options_.node.value(),
                group_name(group), taken.error().message());
    // Not again on every apply: after as many entries again (or 1024 when counting bytes).
    if (Replica* replica = find(group)) {
      const uint64_t wait = options_.snapshot_entries != 0 ? options_.snapshot_entries : 1024;
      replica->snapshots().auto_retry_index = LogIndex{replica->applied_index().value() + wait};
    }
  }
  tasks_live_--;
}

Task<Result<Seq>> ShardEngine::append_mark(GroupId group, LogIndex index, Term term,
                                           bool truncate_after) {
  const size_t bytes =
      wal::kSnapshotMarkRecordBytes + (truncate_after ? wal::kTruncateRecordBytes : 0);
  while (!wal_->batch_fits(bytes)) {
    if (closing_ || failure_) co_return Error(ErrorCode::kCancelled, "engine stopped");
    Result<void> room = co_await wal_->wait_for_room(bytes);
    if (!room) co_return room.error();
  }
  if (closing_ || failure_) co_return Error(ErrorCode::kCancelled, "engine stopped");
  Result<Seq> seq = wal_->append_snapshot_mark(group, index, term);
  if (seq && truncate_after) seq = wal_->append_truncate(group, LogIndex{index.value() + 1});
  if (!seq) fail(seq.error());
  co_return seq;
}

// ---- sending (leader) -----------------------------------------------------------------------

void ShardEngine::fill_snapshot_chunk(Replica& replica, raft::Message message) {
  const std::optional<wal::SnapshotInfo>& latest = replica.snapshots().latest;
  if (!latest.has_value() || latest->index != message.log_index ||
      snapshot_reads_in_flight_ >= kSnapshotReadsInFlightMax) {
    stats_.snapshot_chunks_dropped++;  // the core resends after the next heartbeat answer
    return;
  }
  snapshot_reads_in_flight_++;
  shard_.spawn(read_snapshot_chunk(replica.group(), *latest, std::move(message)));
}

Task<void> ShardEngine::read_snapshot_chunk(GroupId group, wal::SnapshotInfo info,
                                            raft::Message message) {
  tasks_live_++;
  Result<std::vector<std::byte>> chunk = co_await read_image_range(
      shard_.io(), std::move(info), message.snapshot_offset, message.snapshot_chunk_bytes);
  snapshot_reads_in_flight_--;
  if (chunk && !closing_ && !failure_) {
    message.snapshot_data = std::move(chunk).value();
    outbox_.add(group, std::move(message));  // leaves with the next turn's flush
    stats_.snapshot_chunks_sent++;
  } else {
    // A newer snapshot replaced the file meanwhile (the core restarts the transfer), or I/O.
    stats_.snapshot_chunks_dropped++;
  }
  tasks_live_--;
}

// ---- installing (follower) ------------------------------------------------------------------

Task<void> ShardEngine::install_snapshot(Replica& replica, raft::Ready ready) {
  tasks_live_++;
  Result<void> done = co_await write_chunks(replica, ready);
  if (done && ready.snapshot.has_value() && !closing_) {
    done = co_await install_image(replica, *ready.snapshot);
  }
  if (!closing_ && !failure_) {
    if (done) {
      // Entries committed before the snapshot arrived are in the restored state already.
      std::erase_if(ready.committed_entries, [&replica](const raft::Entry& entry) {
        return entry.index <= replica.applied_index();
      });
      take_ready(replica, std::move(ready));
    } else {
      RR_LOG_ERROR("node {}: {}: installing the leader's snapshot failed: {}",
                   options_.node.value(), group_name(replica.group()), done.error().message());
      fail(done.error());
    }
  }
  replica.snapshots().installing = false;
  tasks_live_--;
}

Task<Result<void>> ShardEngine::write_chunks(Replica& replica, raft::Ready& ready) {
  SnapshotState& state = replica.snapshots();
  for (raft::SnapshotChunk& chunk : ready.snapshot_chunks) {
    if (closing_) co_return Result<void>{};
    if (chunk.offset == 0) {  // a new transfer: the partial one, if any, goes
      if (state.incoming != nullptr) co_await state.incoming->abort();
      state.incoming.reset();
      Result<std::unique_ptr<wal::SnapshotWriter>> created = co_await wal::SnapshotWriter::create(
          shard_.io(), options_.wal.directory, replica.group(), chunk.meta.index, chunk.meta.term,
          file_membership(chunk.meta.voters, chunk.meta.learners));
      if (!created) co_return created.error();
      state.incoming = std::move(created).value();
    }
    if (state.incoming == nullptr || state.incoming->content_bytes() != chunk.offset) {
      co_return Error(ErrorCode::kInvalidInput,
                      group_name(replica.group()) + ": snapshot chunk at offset " +
                          std::to_string(chunk.offset) + " does not follow what was written");
    }
    Result<void> appended = co_await state.incoming->append(chunk.data);
    if (!appended) co_return appended;
  }
  co_return Result<void>{};
}

Task<Result<void>> ShardEngine::install_image(Replica& replica, const raft::SnapshotMeta& meta) {
  const GroupId group = replica.group();
  SnapshotState& state = replica.snapshots();
  if (state.incoming == nullptr || state.incoming->content_bytes() != meta.size_bytes) {
    co_return Error(ErrorCode::kInvalidInput, group_name(group) + ": the snapshot at index " +
                                                  std::to_string(meta.index.value()) +
                                                  " completed without its bytes");
  }
  Result<wal::SnapshotInfo> file = co_await state.incoming->finish();
  state.incoming.reset();
  if (!file) co_return file.error();
  Result<std::vector<std::byte>> image = co_await read_image_file(shard_.io(), file.value());
  if (!image) co_return image.error();
  if (closing_) co_return Result<void>{};
  ImageReader reader(image.value());
  Result<void> restored = state_machine_.restore(group, reader);
  if (!restored) co_return restored;
  replica.installed(meta.index, resolved_);
  state.latest = file.value();
  stats_.snapshots_installed++;
  // The mark follows this group's earlier records, then the Ready's continue after it.
  co_await wait_until([this, &replica] { return failure_ || !persist_.has_unwritten(replica); });
  if (closing_ || failure_) co_return Result<void>{};
  Result<Seq> mark = co_await append_mark(group, meta.index, meta.term, true);
  if (!mark) co_return mark.error();
  replica.set_written_index(meta.index);
  Result<Seq> durable = co_await wal_->wait_durable(mark.value());
  if (!durable) co_return durable.error();
  co_return Result<void>{};
}

}  // namespace ringraft::replica
