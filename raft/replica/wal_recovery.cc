// A failed WAL (disk full, I/O error) and how the engine comes back from it.
//
// The WAL fails for good on ENOSPC, EIO or a failed fdatasync (wal/README.md): it never calls
// durable what it could not make durable, and nothing it wrote after its durable sequence is
// trusted. The engine then:
//   1. at once (fail -> step_down_all): every proposal ends with kWalFailed, new ones fail
//      fast; each group whose leader we are hands over with a TimeoutNow to its most caught-up
//      voter (an election is always safe, and it spares the others an election timeout),
//      then every core steps down: a node that cannot persist cannot count itself, keep a
//      lease or answer reads as leader. The groups go silent (no ticks, inbound ignored), so
//      nothing that is not durable is ever acknowledged: acknowledgements leave only once
//      their WAL batch is durable (PersistQueue), and that never happens now.
//   2. every wal_retry_interval (retry_wal -> reopen_wal): close the failed WAL, recover the
//      directory as a restart would, open a new WAL where recovery ended, and rebuild each
//      group's core from what was recovered (Replica::rebuild). The state machine is kept:
//      it applied only entries that were committed and durable here (applied <= durable in
//      the core's log), so the recovered log holds each of them, and the rebuilt core hands
//      out committed entries again from its own applied index: those up to the old applied
//      index are the same entries (State Machine Safety) and are skipped. The node rejoins
//      as a follower and catches up from the leader. Logged once per change of reason.
//
// Why not a process restart: it recovers the same WAL the same way, and re-applying every
// entry from index 1 into a fresh state machine is what rebuilding the core avoids; nothing
// here depends on process state that a restart would clear. A reopen that fails (the disk is
// still full: the roll cannot create a segment; recovery cannot zero a torn tail) leaves the
// engine failed until the next attempt.
//
// Not covered: after an fdatasync EIO, Linux may have dropped the dirty pages it could not
// write while marking them clean; recovery reads back the page cache and cannot tell. Those
// batches were never acknowledged, but a rebuilt node may acknowledge entries that follow
// them. Detecting it needs the failed WAL's durable position carried into recovery (cut the
// log there); a restart has the same blind spot.
#include <algorithm>
#include <string>
#include <utility>

#include "common/assert.h"
#include "common/log.h"
#include "raft/replica/initial_state_builder.h"
#include "raft/replica/shard_engine.h"
#include "wal/recovery.h"
#include "wal/snapshot_file.h"

namespace ringraft::replica {

Task<Result<ShardEngine::RecoveredWal>> ShardEngine::recover_wal(Io& io,
                                                                 const EngineOptions& options) {
  wal::RecoveryOptions recovery;
  recovery.directory = options.wal.directory;
  recovery.segment_bytes = options.wal.segment_bytes;
  recovery.fsyncs_in_flight_max = options.wal.fsyncs_in_flight_to_recover();
  InitialStateBuilder builder;
  RecoveredWal recovered;
  const wal::LocatedRecordVisitor visitor = [&builder, &recovered](
                                                Seq seq, const wal::Record& record,
                                                const wal::RecordLocation& location) {
    builder.visit(seq, record);
    recovered.index.on_recovered(seq, record, location);
  };
  Result<wal::RecoveryReport> report = co_await wal::recover(io, recovery, visitor);
  if (!report) co_return report.error();
  // The newest valid snapshot of each group: its log continues after it (a damaged newer file
  // falls back to an older one, or the builder refuses).
  Result<std::map<GroupId, wal::SnapshotInfo>> files =
      co_await wal::load_snapshots(io, options.wal.directory);
  if (!files) co_return files.error();
  std::erase_if(files.value(), [&options](const auto& file) {
    return std::find(options.groups.begin(), options.groups.end(), file.first) ==
           options.groups.end();  // not a group of this shard
  });
  Result<std::map<GroupId, raft::InitialState>> states = builder.take(files.value());
  if (!states) co_return states.error();
  recovered.position = report.value().position;
  recovered.states = std::move(states).value();
  recovered.snapshots = std::move(files).value();
  co_return recovered;
}

Result<raft::Core> ShardEngine::build_core(const EngineOptions& options, GroupId group,
                                           std::map<GroupId, raft::InitialState>& states) {
  raft::Config config = options.raft;
  config.id = options.node;
  config.voters = options.voters;
  config.learners = options.learners;
  // Groups of one shard must not time out in lockstep.
  config.seed = options.raft.seed ^ (group.value() * 0xbf58476d1ce4e5b9ULL);
  raft::InitialState initial;
  const auto it = states.find(group);
  if (it != states.end()) initial = std::move(it->second);
  // A version-1 snapshot file records no configuration: take the options' as of its index
  // (what every restart did before files recorded it). Either way, the membership entries of
  // the log after the snapshot override it (Core::load_membership).
  if (initial.snapshot.has_value() && initial.snapshot->voters.empty()) {
    initial.snapshot->voters = options.voters;
    initial.snapshot->learners = options.learners;
  }
  return raft::Core::create(std::move(config), std::move(initial));
}

void ShardEngine::step_down_all() {
  RR_ASSERT(failure_.has_value());
  for (const auto& replica : replicas_) {
    raft::Core& core = replica->core();
    if (core.role() == raft::Role::kLeader) {
      // The voter holding most of our log: it wins the election TimeoutNow starts unless
      // another holds more, and then that one wins after its own timeout.
      NodeId best = raft::kNoNode;
      LogIndex best_match;
      for (NodeId voter : core.membership().voters) {
        const raft::Progress* progress = core.progress(voter);
        if (voter == core.id() || progress == nullptr) continue;
        if (best == raft::kNoNode || progress->match() > best_match) {
          best = voter;
          best_match = progress->match();
        }
      }
      if (best != raft::kNoNode) {
        raft::Message handover;
        handover.type = raft::MessageType::kTimeoutNow;
        handover.from = core.id();
        handover.to = best;
        handover.term = core.term();
        outbox_.add(replica->group(), std::move(handover));
        stats_.leader_handovers++;
        RR_LOG_WARN("engine of node {}: group {}: leader without a WAL, handing over to node {}",
                    options_.node.value(), replica->group().value(), best.value());
      }
    }
    core.step_down();
  }
}

Task<void> ShardEngine::retry_wal() {
  RR_ASSERT(retrying_);
  std::string reported;  // the last kind of error logged: one line per change, not per attempt
  while (!closing_ && failure_) {
    const IoResult slept = co_await retry_timer_.wait_for(options_.wal_retry_interval);
    if (closing_ || !slept.ok()) break;
    stats_.wal_reopen_attempts++;
    const Result<void> reopened = co_await reopen_wal();
    if (reopened) {
      RR_LOG_INFO("engine of node {}: WAL {} reopened after {} attempt(s); groups rebuilt from it",
                  options_.node.value(), options_.wal.directory, stats_.wal_reopen_attempts);
      break;
    }
    // By kind, not by text: each attempt's text names another batch or offset.
    const std::string reason = std::string(error_code_name(reopened.error().code())) + "/" +
                               std::to_string(reopened.error().errno_value());
    if (reason != reported) {
      reported = reason;
      RR_LOG_WARN("engine of node {}: WAL {} still failed, retrying every {} ms: {}",
                  options_.node.value(), options_.wal.directory,
                  std::chrono::duration_cast<std::chrono::milliseconds>(options_.wal_retry_interval)
                      .count(),
                  reopened.error().message());
    }
  }
  retrying_ = false;
}

Task<Result<void>> ShardEngine::reopen_wal() {
  RR_ASSERT(failure_.has_value() && wal_ != nullptr);
  if (!wal_closed_) {
    // Waits for the failed WAL's I/O in flight; its error is the failure we know already.
    const Result<void> closed = co_await wal_->close();
    (void)closed;
    wal_closed_ = true;
  }
  const auto stopped = [] { return Error(ErrorCode::kCancelled, "engine closing"); };
  if (closing_) co_return stopped();
  Result<RecoveredWal> recovered = co_await recover_wal(wal_io(), options_);
  if (!recovered) co_return recovered.error();
  if (closing_) co_return stopped();
  std::vector<raft::Core> cores;
  cores.reserve(replicas_.size());
  for (const auto& replica : replicas_) {
    Result<raft::Core> core = build_core(options_, replica->group(), recovered.value().states);
    if (!core) co_return core.error();
    // Everything applied was durable; a WAL that lost some of it is not one to go on with.
    if (core.value().log().last_index() < replica->applied_index()) {
      co_return Error(
          ErrorCode::kInvalidInput,
          "group " + std::to_string(replica->group().value()) + ": recovered log ends at " +
              std::to_string(core.value().log().last_index().value()) +
              " below the applied index " + std::to_string(replica->applied_index().value()) +
              ": entries reported durable are gone");
    }
    cores.push_back(std::move(core).value());
  }
  Result<std::unique_ptr<wal::Wal>> opened =
      co_await wal::Wal::open(shard_, wal_io(), options_.wal, recovered.value().position,
                              std::move(recovered.value().index));
  if (!opened) co_return opened.error();
  // Proves the disk takes writes again before the groups rejoin (a WAL reopened in the
  // preallocated rest of its segment would otherwise only fail at the next roll): one record
  // that changes nothing, the first group's hard state as recovered, made durable.
  std::unique_ptr<wal::Wal> fresh = std::move(opened).value();
  const raft::HardState hard_state = cores.front().hard_state();
  Result<Seq> probe = fresh->append_hard_state(replicas_.front()->group(), hard_state.term,
                                               hard_state.vote, hard_state.commit);
  if (probe) probe = co_await fresh->wait_durable(probe.value());
  if (!probe || closing_) {
    (void)co_await fresh->close();
    if (!probe) co_return probe.error();
    co_return stopped();
  }
  // Every proposal ended with the failure (before_sleep), and the groups were silent since:
  // nothing refers to the old WAL or the old cores any more.
  wal_stats_closed_ = wal_stats();
  wal_ = std::move(fresh);
  wal_closed_ = false;
  wal_generation_++;
  persist_ = PersistQueue(wal_->durable_seq());
  awaited_seq_ = wal_->durable_seq();
  for (size_t i = 0; i < replicas_.size(); ++i) {
    replicas_[i]->fail_all(FailReason::kWalFailed, resolved_);
    replicas_[i]->rebuild(std::move(cores[i]));
  }
  resume_resolved();
  failure_.reset();
  stats_.wal_reopens++;
  co_return Result<void>{};
}

wal::WalStats ShardEngine::wal_stats() const {
  static_assert(sizeof(wal::WalStats) == 20 * sizeof(uint64_t),
                "a WalStats field was added: add it to the sum below");
  wal::WalStats total = wal_->stats();
  const wal::WalStats& closed = wal_stats_closed_;
  total.records_appended += closed.records_appended;
  total.appends_refused_full += closed.appends_refused_full;
  total.batches_written += closed.batches_written;
  total.batches_durable += closed.batches_durable;
  total.fsyncs_completed += closed.fsyncs_completed;
  total.bytes_written += closed.bytes_written;
  total.segments_created += closed.segments_created;
  total.segments_prepared += closed.segments_prepared;
  total.segments_released += closed.segments_released;
  total.entries_read_from_cache += closed.entries_read_from_cache;
  total.entries_read_from_disk += closed.entries_read_from_disk;
  total.batches_read_from_disk += closed.batches_read_from_disk;
  total.room_waits += closed.room_waits;
  total.segments_recycled += closed.segments_recycled;
  total.segments_reused += closed.segments_reused;
  total.bytes_zero_filled += closed.bytes_zero_filled;
  total.rolls_unprepared += closed.rolls_unprepared;
  // spare_segments is a gauge: the open WAL's, like segments_retained.
  return total;
}

}  // namespace ringraft::replica
