// EngineOptions: everything a ShardEngine needs to know at open, with defaults that work on a
// laptop or a small VM, and validate() naming the first bad setting.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "raft/core/config.h"
#include "reactor/io.h"
#include "reactor/operation.h"
#include "wal/wal.h"

namespace ringraft::replica {

// What propose() does when proposals_pending_max proposals are already outstanding.
enum class WhenFull : uint8_t {
  kFailFast,  // answer Failed{kFull} at once (the caller backs off)
  kWait,      // wait for a slot (the caller's coroutine is the queue; FIFO)
};

struct EngineOptions {
  NodeId node;                 // this node
  std::vector<NodeId> voters;  // every voter of every group, this node included
  // Learners every group starts with. A node joining groups that already run starts with
  // their current voters and learners, itself among the learners, and waits to be added
  // (ShardEngine::add_learner on the leader); the groups' logs then rule the configuration.
  std::vector<NodeId> learners{};
  std::vector<GroupId> groups;  // the Raft groups this shard hosts
  wal::WalOptions wal;          // the shard's WAL (directory required)
  // Template for every group's core: id and voters are set from the fields above, the seed is
  // mixed with the group id so that groups do not time out in lockstep.
  raft::Config raft;
  // One Raft tick. With the core's defaults (election 10 ticks, heartbeat 1 tick) a leader
  // heartbeats every 10 ms and followers wait 100-200 ms before campaigning.
  Duration tick_interval = std::chrono::milliseconds(10);
  // Bound on proposals outstanding on the shard (queued, in the log and not yet applied).
  uint32_t proposals_pending_max = 16384;
  WhenFull when_full = WhenFull::kFailFast;
  // A proposal without an outcome after this long ends as Failed{kTimedOut}: UNKNOWN, it may
  // still commit (a leader cut off from its quorum cannot tell). Zero: wait for the outcome
  // (it then ends when the partition heals or the engine closes). Counted in ticks.
  Duration proposal_timeout = std::chrono::seconds(10);
  // Automatic snapshots (shard_engine_snapshot.cc): a group takes one once this many entries
  // were applied, or this many payload bytes, since its latest snapshot; 0 turns that trigger
  // off (both 0: only ShardEngine::snapshot_now). The state machine serialises its image in
  // memory at once, so the bytes bound also bounds how much log a restart replays.
  uint64_t snapshot_entries = 100000;
  uint64_t snapshot_log_bytes = uint64_t{64} << 20;
  static constexpr uint64_t kSnapshotLogBytesMin = 4096;
  // After a WAL failure (disk full, I/O error) the engine tries to reopen the WAL from disk
  // this often (wal_recovery.cc); zero: never, the failure is final. Logged once per change.
  Duration wal_retry_interval = std::chrono::seconds(1);
  // The I/O the WAL and its recovery go through; nullptr: the shard's. Tests pass a
  // fault-injecting wrapper here (a full disk, EIO). Must outlive the engine.
  Io* wal_io = nullptr;

  Result<void> validate() const;
  // proposal_timeout in ticks, rounded up (0: no timeout).
  uint64_t proposal_timeout_ticks() const;
};

}  // namespace ringraft::replica
