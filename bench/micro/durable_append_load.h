// The durable-append load on one Wal that the WAL benchmarks and the engine's ceiling row both
// measure: `in_flight` appenders on one shard, each appending one entry of `entry_bytes`,
// awaiting its durability, and repeating until the time budget or a cap is spent. Group
// commit shares the fdatasyncs among the appenders in flight.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/micro/reactor_bench_support.h"
#include "reactor/task.h"
#include "wal/wal.h"

namespace ringraft::bench {

struct DurableAppendLoad {
  // What to run.
  size_t entry_bytes = 100;
  uint32_t in_flight = 1;
  std::chrono::milliseconds time_budget{1000};
  uint64_t appends_max = UINT64_MAX;  // appends issued
  uint64_t bytes_max = UINT64_MAX;    // payload bytes made durable
  bool record_latencies = false;      // append to durable, in latencies_ns
  // Compaction as a state machine drives it: after every snapshot_every_bytes of durable
  // payload, a snapshot mark at an index already durable, so the oldest segments are released
  // (and recycled as spares). 0: no marks.
  uint64_t snapshot_every_bytes = 0;
  // Continue the log already in options.directory (Wal::recover_and_open) instead of opening
  // an empty one.
  bool continue_log = false;

  // What happened.
  uint64_t issued = 0;
  uint64_t completed = 0;     // appends made durable
  uint64_t bytes = 0;         // their payload bytes
  uint64_t refused_full = 0;  // appends refused by a full batch (they wait_for_room)
  uint64_t cpu_ns = 0;        // user + system CPU of the whole process over the run
  uint64_t snapshot_marks = 0;
  std::vector<uint32_t> latencies_ns;
  wal::WalStats stats;
  std::string error;
  BenchClock::time_point started, finished;

  double seconds() const { return seconds_between(started, finished); }
};

// Opens a Wal with `options` on `shard` (an error when O_DIRECT is kRequired but not in use),
// runs `load` on it, closes it and stops the reactor
// (run it through run_reactor_workload with one shard).
Task<void> run_durable_appends(Shard& shard, wal::WalOptions options, DurableAppendLoad& load);

}  // namespace ringraft::bench
