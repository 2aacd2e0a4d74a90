// The measuring node's proposers for one cell (see bench_load.h).
#include "bench/cluster/bench_load.h"

#include <sys/resource.h>

#include <chrono>
#include <fstream>

#include "common/assert.h"
#include "reactor/latch.h"
#include "reactor/ops.h"

namespace ringraft::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Shared by the proposers of one cell (all on one shard: no synchronisation).
struct CellRun {
  const CellSpec& spec;
  CellResult& result;
  Clock::time_point deadline;
  uint64_t issued = 0;

  bool more() const {
    return issued < spec.entries_max && Clock::now() < deadline && result.failed == 0;
  }
};

Task<void> propose_loop(Shard& shard, replica::ShardEngine& engine, GroupId group,
                        ConstByteSpan payload, CellRun& run, Latch& done) {
  while (run.more()) {
    run.issued++;
    const Clock::time_point proposed = Clock::now();
    const replica::ProposeResult outcome = co_await engine.propose(group, payload);
    if (std::holds_alternative<replica::Committed>(outcome)) {
      run.result.committed++;
      const auto latency = Clock::now() - proposed;
      run.result.latency.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count()));
      continue;
    }
    const auto* failed = std::get_if<replica::Failed>(&outcome);
    if (failed != nullptr && failed->reason == replica::FailReason::kFull) {
      run.issued--;
      run.result.refused_full++;
      co_await ops::nop(shard.io());  // the engine's turn drains its backlog; try after it
      continue;
    }
    if (run.result.failed++ == 0) {
      run.result.first_failure = failed != nullptr ? std::string("proposal failed: ") +
                                                         replica::fail_reason_name(failed->reason)
                                                   : "leadership moved during the run (NotLeader)";
    }
  }
  done.count_down();
}

}  // namespace

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& value) {
    return static_cast<double>(value.tv_sec) + static_cast<double>(value.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double shard_runq_wait_seconds() {
  std::ifstream schedstat("/proc/thread-self/schedstat");
  uint64_t running_ns = 0;
  uint64_t waiting_ns = 0;
  if (!(schedstat >> running_ns >> waiting_ns)) return 0.0;
  return static_cast<double>(waiting_ns) / 1e9;
}

Task<void> run_cell(Shard& shard, replica::ShardEngine& engine, const std::vector<GroupId>& groups,
                    const CellSpec& spec, CellResult& result) {
  RR_ASSERT(!groups.empty());
  RR_ASSERT(spec.entry_bytes >= 1 && spec.in_flight >= 1 && spec.cell < 256);
  result.spec = spec;
  // The entries' bytes: borrowed by every proposal of the cell, alive until the last ends.
  std::vector<std::byte> payload(spec.entry_bytes, std::byte{0x5a});
  payload[0] = static_cast<std::byte>(spec.cell);
  Latch done(spec.in_flight);
  const uint64_t fsyncs_before = engine.wal().stats().fsyncs_completed;
  const double cpu_before = process_cpu_seconds();
  const double runq_before = shard_runq_wait_seconds();
  const Clock::time_point started = Clock::now();
  CellRun run{spec, result, started + spec.duration};
  for (uint32_t i = 0; i < spec.in_flight; i++) {
    shard.spawn(propose_loop(shard, engine, groups[i % groups.size()], payload, run, done));
  }
  co_await done.wait();
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.cpu_seconds = process_cpu_seconds() - cpu_before;
  result.runq_wait_seconds = shard_runq_wait_seconds() - runq_before;
  result.fsyncs = engine.wal().stats().fsyncs_completed - fsyncs_before;
  RR_ASSERT(result.committed == result.latency.count());
}

}  // namespace ringraft::bench
