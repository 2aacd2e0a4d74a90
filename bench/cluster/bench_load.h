// The measuring node's load: one cell of the matrix (an entry size, a number of proposals in
// flight) driven against the groups this node leads, and what it measured.
//
// Each of the `in_flight` proposers is a task on the shard: propose, await the outcome, record
// the commit latency (propose call to Committed), repeat, until the cell's deadline or entry
// bound. Proposer i proposes to group i mod group_count, so "1 in flight" is one proposal in the
// whole cluster, whatever the number of groups. Every entry's first byte is the cell's number:
// the followers' state machines see where a cell begins (BenchStateMachine in bench_node.cc).
//
// A proposal refused as kFull (a bound of the engine) is retried on the next turn and counted;
// any other failure ends the proposer and is reported (leadership moved, the WAL failed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/types.h"
#include "raft/replica/shard_engine.h"
#include "reactor/shard.h"
#include "reactor/task.h"
#include "tools/cli/latency_histogram.h"

namespace ringraft::bench {

struct CellSpec {
  uint32_t cell = 0;  // 0..254, the first byte of every entry
  uint32_t entry_bytes = 100;
  uint32_t in_flight = 1;
  std::chrono::milliseconds duration{2000};
  uint64_t entries_max = 0;
};

struct CellResult {
  CellSpec spec;
  uint64_t committed = 0;
  uint64_t refused_full = 0;     // kFull answers, retried
  uint64_t failed = 0;           // proposals that ended otherwise (the proposer stopped)
  std::string first_failure;     // what the first of those was
  double seconds = 0;            // first proposal to last outcome
  double cpu_seconds = 0;        // this process's user + system CPU over the cell
  double runq_wait_seconds = 0;  // time the shard thread was runnable but waited for a CPU
  uint64_t fsyncs = 0;           // fdatasyncs this node's WAL completed during the cell
  tools::LatencyHistogram latency;
};

// Runs one cell on `groups` (all led by this node) and fills `result`. Returns when every
// proposer ended.
Task<void> run_cell(Shard& shard, replica::ShardEngine& engine, const std::vector<GroupId>& groups,
                    const CellSpec& spec, CellResult& result);

// This process's user + system CPU seconds so far (getrusage).
double process_cpu_seconds();
// Seconds the calling thread (the shard's: it runs the engine, the proposers and apply) has
// been runnable but waiting for a CPU so far (the run delay of /proc/thread-self/schedstat; 0
// where the kernel has no schedstat). On a loaded machine this, not our CPU time, is what
// stretches every hop of a commit. (The io_uring workers that wait in fdatasync come and go,
// so a sum over all threads would not be monotonic.)
double shard_runq_wait_seconds();

}  // namespace ringraft::bench
