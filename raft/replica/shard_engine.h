// ShardEngine: one shard's share of the replication engine. It owns the shard's WAL, its
// Replicas (many Raft groups: multi-raft), a tick Timer and an Outbox over the MessageBus, and
// runs them once per reactor turn from a before_sleep hook registered BEFORE the WAL's own, so
// that everything the groups produce in a turn joins the WAL batch that leaves in that turn:
//
//   1. release: Readies whose WAL batch became durable -> core.persisted_to(), and their
//      messages_after_persist (votes, Append acknowledgements) go to the Outbox
//   2. proposals queued this turn -> one core.propose() per group
//   3. every group with a Ready: ready(), advance(); `messages` to the Outbox at once (a leader
//      sends before its own fsync, Raft thesis §10.2.1); committed entries applied to the
//      StateMachine and proposals resolved; hard state and entries to the PersistQueue
//   4. the PersistQueue appends to the WAL batch (the WAL's hook then writes it: one write and
//      one fdatasync for every group); a task awaits its durability, which wakes a later turn
//   5. the Outbox encodes per peer and sends; resolved proposers are resumed
// Ticks come from their own Timer, so a slow fsync never delays a heartbeat.
//
// Restart: open() loads each group's newest valid snapshot file and restores the state machine
// from it, rebuilds every group's hard state and log after it from wal::recover's records, then
// opens the WAL where recovery ended; only entries after the snapshot are applied again.
// Snapshots (taken, sent in chunks, installed): shard_engine_snapshot.cc.
//
// Bounds: proposals outstanding per shard <= proposals_pending_max (fail fast or wait, see
// EngineOptions); the WAL batch (kFull -> the PersistQueue waits for the next batch); the
// Outbox holds one turn.
//
// A WAL failure (disk full, I/O error; wal_recovery.cc): every proposal fails with
// kWalFailed, leaders step down at once and hand over with TimeoutNow, the groups go silent
// (as a crashed node would: nothing more is acknowledged), and every wal_retry_interval the
// engine closes the failed WAL, recovers it from disk and rebuilds its groups as a restart
// would, keeping the state machine (entries it applied are not applied again).
#pragma once

#include <coroutine>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "raft/replica/engine_options.h"
#include "raft/replica/group_status.h"
#include "raft/replica/message_bus.h"
#include "raft/replica/outbox.h"
#include "raft/replica/persist_queue.h"
#include "raft/replica/proposal.h"
#include "raft/replica/replica.h"
#include "raft/replica/state_machine.h"
#include "raft/replica/wire.h"
#include "reactor/shard.h"
#include "reactor/task.h"
#include "reactor/timer.h"
#include "wal/snapshot_file.h"
#include "wal/wal.h"

namespace ringraft::replica {

class ImageWriter;

// Bytes of a snapshot image a state machine's view writes per turn (StateMachine::snapshot_view):
// about a millisecond of serialising, then the shard serves a turn.
inline constexpr size_t kSnapshotStepBytes = size_t{1} << 20;

struct EngineStats {
  uint64_t turns_with_work = 0;
  uint64_t readies = 0;
  uint64_t proposals_refused_full = 0;
  uint64_t inbound_messages = 0;
  uint64_t inbound_refused = 0;  // wire decode errors and kInvalidInput from core.step()
  uint64_t inbound_unknown_group = 0;
  // Snapshots (shard_engine_snapshot.cc).
  uint64_t snapshots_taken = 0;
  // Turns a snapshot of a state machine with views (StateMachine::snapshot_view) went on after
  // writing a step: the image was written over that many more turns instead of at once.
  uint64_t snapshot_steps_deferred = 0;
  uint64_t snapshots_installed = 0;      // a leader's, received in chunks
  uint64_t snapshots_restored = 0;       // at open, from the newest valid file
  uint64_t snapshot_chunks_sent = 0;     // filled from the file and handed to the Outbox
  uint64_t snapshot_chunks_dropped = 0;  // no file for it, a read failed, or reads at their bound
  // Raft entries whose WAL batch became durable (counted per Ready, not per entry): with
  // WalStats::fsyncs_completed, the entries each fsync carried.
  uint64_t entries_durable = 0;
  // WAL failures and recovery (wal_recovery.cc).
  uint64_t wal_failures = 0;
  uint64_t wal_reopen_attempts = 0;
  uint64_t wal_reopens = 0;       // successful: the groups were rebuilt and rejoined
  uint64_t leader_handovers = 0;  // TimeoutNow sent by a leader whose WAL failed
};

class ShardEngine {
 public:
  // Recovers the WAL directory, builds every group and opens the WAL. `bus` and
  // `state_machine` must outlive the engine. Await it where it is called (arguments are held
  // by reference until it finishes).
  static Task<Result<std::unique_ptr<ShardEngine>>> open(Shard& shard, const EngineOptions& options,
                                                         MessageBus& bus,
                                                         StateMachine& state_machine);
  ~ShardEngine();
  ShardEngine(const ShardEngine&) = delete;
  ShardEngine& operator=(const ShardEngine&) = delete;

  // Proposes `command` (non-empty; borrowed until the task ends) to `group`. Always ends.
  Task<ProposeResult> propose(GroupId group, ConstByteSpan command);
  // A verified message from `from`, on this shard. Errors are counted and returned; nothing
  // the network sends can crash the engine.
  Result<void> receive(NodeId from, const wire::Message& message);

  // A linearizable read barrier (ReadIndex, Raft thesis §6.4): resolves with an index once
  // `group`'s leader confirmed it is still leader and this node applied up to that index, so
  // a read of the state machine now sees every write acknowledged before the call. Fails with
  // kNotFound (unknown group, or no leader known: retry later), kFull (the leader holds its
  // bound of reads), kCancelled (no answer within 2 election timeouts, e.g. leadership
  // changed: retry; or the engine closed or failed).
  Task<Result<LogIndex>> read_index(GroupId group);
  // Resume once `group` applied `index` (or the engine closed).
  Task<void> wait_applied(GroupId group, LogIndex index);
  // Resume once `group` knows a leader other than `other_than`; returns it. Returns kNoNode
  // if the engine closed or failed, or when `limit` (counted in ticks, rounded up) passed
  // first: a minority partition never learns of a leader.
  Task<NodeId> wait_leader(GroupId group, NodeId other_than = NodeId{0},
                           std::optional<Duration> limit = std::nullopt);

  // Membership of `group`, one server at a time (shard_engine_admin.cc), on its leader. Each
  // resolves with the index of the committed change, or fails: kNotFound (not the leader; the
  // message names the hint), kFull (another change pending, or the leader has not committed
  // in its term yet: retry), kInvalidInput (the change does not apply: already a member, not
  // a learner, the last voter), kCancelled (dropped by a leadership change, a promotion whose
  // learner did not catch up within Config::promote_timeout_elections, no outcome in time).
  // A node being added runs with EngineOptions::learners naming itself. Removing this node
  // itself: it leads until the change commits, then hands over and steps down.
  Task<Result<LogIndex>> change_membership(GroupId group, raft::MembershipChange change);
  Task<Result<LogIndex>> add_learner(GroupId group, NodeId node);
  Task<Result<LogIndex>> promote(GroupId group, NodeId node);
  Task<Result<LogIndex>> remove_member(GroupId group, NodeId node);
  // Hands leadership of `group` to voter `to`; resolves once this node sees `to` lead, or
  // fails (kNotFound: not the leader; kInvalidInput: not a voter; kCancelled: not in time).
  Task<Result<void>> transfer_leader(GroupId group, NodeId to);
  // Takes a snapshot of `group` now (shard_engine_snapshot.cc): the state machine writes its
  // image as of the last applied entry, the image becomes a durable snapshot file, the core
  // drops the entries it covers, and a WAL snapshot mark lets the WAL release segments.
  // Resolves with the snapshot's index once the mark is durable (the index of the latest
  // snapshot if nothing was applied since). Fails with kNotFound (unknown group), kFull
  // (a snapshot of this group is being taken or installed: one at a time), kCancelled (the
  // engine closed or failed), the state machine's error (kUnsupported if it has none), or
  // the file's I/O error (the previous snapshot stays in force).
  Task<Result<LogIndex>> snapshot_now(GroupId group);
  // Role, term, commit, applied, leader, configuration, and on the leader every peer's progress.
  Result<GroupStatus> status(GroupId group) const;

  // Ends every proposal (kShuttingDown), stops the timer, closes the WAL. Call before
  // destroying the engine.
  Task<Result<void>> close();

  NodeId node() const { return options_.node; }
  Shard& shard() const { return shard_; }
  const EngineOptions& options() const { return options_; }
  const Replica* replica(GroupId group) const;
  const EngineStats& stats() const { return stats_; }
  const Outbox& outbox() const { return outbox_; }
  const wal::Wal& wal() const { return *wal_; }
  // The WAL's counters since open, across reopens after a failure (each reopen starts a new
  // Wal whose own counters start at zero); gauges (segments retained) are the current WAL's.
  wal::WalStats wal_stats() const;
  // The WAL failed and the engine has not reopened it yet (see wal_recovery.cc).
  bool failed() const { return failure_.has_value(); }
  const std::optional<Error>& failure() const { return failure_; }
  void check_invariants() const;

 private:
  struct StateWaiter {
    std::function<bool()> ready;
    std::coroutine_handle<> handle;
  };
  // A read_index() call waiting for its ReadState (lives in the caller's coroutine frame).
  struct PendingRead {
    GroupId group;
    uint64_t context = 0;
    std::optional<LogIndex> index;
  };
  class ProposalAwaiter;
  class SpaceAwaiter;
  class StateAwaiter;

  ShardEngine(Shard& shard, const EngineOptions& options, MessageBus& bus,
              StateMachine& state_machine, std::vector<std::unique_ptr<Replica>> replicas);
  // What recovery found in the WAL directory: each group's restart state and where the WAL
  // continues (wal_recovery.cc; used by open() and by reopen_wal()).
  wal::WalStats wal_stats_closed_;  // counters of the WALs closed by reopen_wal()
  struct RecoveredWal {
    wal::WalPosition position;
    std::map<GroupId, raft::InitialState> states;
    std::map<GroupId, wal::SnapshotInfo> snapshots;  // the newest valid file of each group here
    // The WAL's read index as recovery found it: compaction must know every group's pins from
    // before the restart, or a snapshot mark would release segments another group still needs.
    wal::WalIndex index;
  };
  static Task<Result<RecoveredWal>> recover_wal(Io& io, const EngineOptions& options);
  static Result<raft::Core> build_core(const EngineOptions& options, GroupId group,
                                       std::map<GroupId, raft::InitialState>& states);
  Io& wal_io() const { return options_.wal_io != nullptr ? *options_.wal_io : shard_.io(); }
  Replica* find(GroupId group);
  // Resumes once `ready` holds (checked after every turn) or the engine closes.
  Task<void> wait_until(std::function<bool()> ready);

  void before_sleep();
  void run_round();
  void release_durable();
  void collect_readies();
  // A Ready's committed entries, membership outcomes, reads and persistence.
  void take_ready(Replica& replica, raft::Ready ready);
  // Snapshots (shard_engine_snapshot.cc).
  static constexpr uint32_t kSnapshotReadsInFlightMax = 8;
  Result<void> restore_at_open(const std::map<GroupId, wal::SnapshotInfo>& files,
                               const std::map<GroupId, std::vector<std::byte>>& images);
  Task<Result<LogIndex>> take_snapshot(Replica& replica, LogIndex index, Term term);
  Task<Result<void>> write_image(GroupId group, ImageWriter& image);
  void maybe_snapshot(Replica& replica);
  Task<void> auto_snapshot(GroupId group);
  void fill_snapshot_chunk(Replica& replica, raft::Message message);
  Task<void> read_snapshot_chunk(GroupId group, wal::SnapshotInfo info, raft::Message message);
  Task<void> install_snapshot(Replica& replica, raft::Ready ready);
  Task<Result<void>> write_chunks(Replica& replica, raft::Ready& ready);
  Task<Result<void>> install_image(Replica& replica, const raft::SnapshotMeta& meta);
  Task<Result<Seq>> append_mark(GroupId group, LogIndex index, Term term, bool truncate_after);
  void write_wal();
  void resume_resolved();
  void notify_state_waiters(bool all);
  void fail(const Error& error);
  // wal_recovery.cc: what a WAL failure does at once, and the retries that end it.
  void step_down_all();
  Task<void> retry_wal();
  Task<Result<void>> reopen_wal();
  Task<void> tick_loop();
  Task<void> await_durable(Seq seq);

  Shard& shard_;
  const EngineOptions options_;
  StateMachine& state_machine_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::unordered_map<GroupId, Replica*> by_group_;
  std::unique_ptr<wal::Wal> wal_;
  uint64_t wal_generation_ = 0;  // bumped by each reopen: a stale await_durable ignores it
  bool wal_closed_ = false;      // the failed WAL was closed by reopen_wal()
  bool retrying_ = false;        // retry_wal() runs
  PersistQueue persist_;
  Outbox outbox_;
  WireDecoder decoder_;
  Timer tick_timer_;
  Timer retry_timer_;  // retry_wal()'s
  Shard::HookId hook_ = 0;
  bool hook_added_ = false;
  bool closing_ = false;
  std::optional<Error> failure_;
  Seq awaited_seq_;          // highest batch an await_durable task waits for
  uint32_t tasks_live_ = 0;  // tick_loop and await_durable tasks that still hold `this`
  size_t proposals_outstanding_ = 0;
  std::vector<Proposal*> resolved_;  // outcomes decided this round, proposers not yet resumed
  std::vector<Proposal*> resuming_;
  std::vector<std::coroutine_handle<>> space_waiters_;
  std::vector<StateWaiter*> state_waiters_;
  std::vector<GroupMessage> inbound_scratch_;
  // read_index() calls in flight: at most one per waiting caller, and the core bounds how
  // many a leader queues (ReadsFull).
  std::vector<PendingRead*> reads_;
  uint64_t read_context_last_ = 0;
  uint64_t ticks_ = 0;  // ticks since open: read deadlines
  uint32_t snapshot_reads_in_flight_ = 0;
  EngineStats stats_;
};

}  // namespace ringraft::replica
