// The replication engine end to end against its own disk ceiling, in the same run.
//
//   BM_Replica/engine/<entry bytes>/<in flight>     3 nodes in one process (one Reactor, shard k
//                                                   hosts node k + 1, the test ShardBus between
//                                                   shards, fsync on): proposers on the leader's
//                                                   shard, each: propose, await Committed, repeat
//   BM_Replica/wal_alone/<entry bytes>/<in flight>  the ceiling: one Wal, each appender: append
//                                                   one entry, await its durability, repeat
//
//   BM_Replica/engine_4_groups/<bytes>/<in flight>  the same with 4 groups, the proposers split
//                                                   evenly among the groups' leaders
//
// Counters: commit latency percentiles p50_us / p99_us / p999_us (propose call to Committed, or
// append to durable), samples (how many latencies they rest on), and on engine rows
// wal_fraction (entries/s ÷ the wal_alone row's with the same arguments, measured once per
// process), fsyncs (fdatasyncs completed, summed over the run's WALs: three for the engine,
// setup included). items_per_second is committed entries/s. Each run is bounded by kTimeBudget and
// kEntriesMax. Engine WAL directories are the cluster's (under /tmp: put /tmp on the disk you
// mean to measure; on tmpfs fdatasync is free); the wal_alone directory is under
// $RINGRAFT_BENCH_DIR (default /tmp). Both use WalOptions' defaults for segments and batches.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bench/micro/durable_append_load.h"
#include "bench/micro/reactor_bench_support.h"
#include "reactor/latch.h"
#include "reactor/ops.h"
#include "tests/replica/cluster.h"
#include "wal/wal.h"

namespace ringraft::bench {
namespace {

using replica::testing::Cluster;
using replica::testing::on_shard;

constexpr std::chrono::milliseconds kTimeBudget(2000);
// Bounds memory too: the cluster's state machine keeps every applied command on every node.
constexpr uint64_t kEntriesMax = 20000;
constexpr GroupId kGroup{1};

struct LoadRun {
  uint64_t entries_max = kEntriesMax;
  uint64_t issued = 0;
  uint64_t completed = 0;
  uint64_t refused_full = 0;  // proposals refused by a bound, retried
  uint64_t fsyncs = 0;        // fdatasyncs completed, summed over the run's WALs
  std::vector<uint32_t> latencies_ns;
  std::string error;
  BenchClock::time_point started, finished;

  double seconds() const { return seconds_between(started, finished); }
  bool more(BenchClock::time_point deadline) const {
    return error.empty() && issued < entries_max && BenchClock::now() < deadline;
  }
  void record(BenchClock::time_point since) {
    completed++;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(BenchClock::now() - since);
    latencies_ns.push_back(static_cast<uint32_t>(std::min<int64_t>(ns.count(), UINT32_MAX)));
  }
};

double percentile_us(std::vector<uint32_t>& sorted, double fraction) {
  if (sorted.empty()) return 0.0;
  const auto rank = static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return static_cast<double>(sorted[rank]) / 1e3;
}

// ---- the engine ---------------------------------------------------------------------------

// One proposer on the group leader's shard: propose, await the outcome, repeat.
Task<void> propose_loop(Shard& shard, replica::ShardEngine& engine, GroupId group,
                        ConstByteSpan payload, BenchClock::time_point deadline, LoadRun& run,
                        Latch& done) {
  while (run.more(deadline)) {
    run.issued++;
    const BenchClock::time_point proposed = BenchClock::now();
    const replica::ProposeResult result = co_await engine.propose(group, payload);
    if (std::holds_alternative<replica::Committed>(result)) {
      run.record(proposed);
      continue;
    }
    const auto* failed = std::get_if<replica::Failed>(&result);
    if (failed != nullptr && failed->reason == replica::FailReason::kFull) {
      run.issued--;
      run.refused_full++;
      co_await ops::nop(shard.io());  // the shard's round drains the backlog; try again after
      continue;
    }
    run.error = failed != nullptr
                    ? "proposal failed, reason " + std::to_string(static_cast<int>(failed->reason))
                    : "leadership moved during the run";
  }
  done.count_down();
}

Task<void> drive_leader(Shard& shard, replica::ShardEngine& engine, GroupId group,
                        size_t entry_bytes, uint32_t in_flight, LoadRun& run) {
  const std::vector<std::byte> payload(entry_bytes, std::byte{0x5a});
  Latch done(in_flight);
  run.started = BenchClock::now();
  const BenchClock::time_point deadline = run.started + kTimeBudget;
  for (uint32_t i = 0; i < in_flight; i++) {
    shard.spawn(propose_loop(shard, engine, group, payload, deadline, run, done));
  }
  co_await done.wait();
  run.finished = BenchClock::now();
}

// One group's load, run on the shard of that group's leader.
struct GroupLoad {
  GroupId group;
  replica::ShardEngine* engine = nullptr;
  NodeId leader;
  LoadRun run;
  replica::testing::CrossCall call;
};

// Every group's leader driven at once (each on its own leader's shard; groups may share one).
Task<void> run_cluster(Shard& here, Cluster& cluster, size_t entry_bytes, uint32_t in_flight,
                       std::vector<GroupLoad>& loads) {
  co_await cluster.start_all(here);
  for (GroupLoad& load : loads) {
    load.leader = co_await cluster.wait_leader(here, NodeId(1), load.group);
    if (load.leader == NodeId(0)) break;
    co_await cluster.on_node(here, load.leader,
                             [&load](replica::ShardEngine* engine) { load.engine = engine; });
  }
  const uint32_t per_group = std::max<uint32_t>(1, in_flight / static_cast<uint32_t>(loads.size()));
  bool ready = true;
  for (GroupLoad& load : loads) ready = ready && load.engine != nullptr;
  if (!ready) {
    loads.front().run.error = "no leader elected";
  } else {
    for (GroupLoad& load : loads) {
      load.call.fn = [&load, entry_bytes, per_group](Shard& shard) {
        return drive_leader(shard, *load.engine, load.group, entry_bytes, per_group, load.run);
      };
      co_await replica::testing::post(here, ShardId(static_cast<uint32_t>(load.leader.value() - 1)),
                                      load.call);
    }
    for (GroupLoad& load : loads) co_await replica::testing::wait(load.call);
  }
  for (uint32_t k = 0; k < cluster.size(); k++) {  // what the three WALs flushed for it
    co_await cluster.on_node(here, Cluster::node_id(k), [&loads](replica::ShardEngine* engine) {
      if (engine != nullptr) loads.front().run.fsyncs += engine->wal().stats().fsyncs_completed;
    });
  }
  co_await cluster.stop_all(here);
  here.reactor().stop();
}

// Shard 0 drives the run (through on_shard, as the engine suites do); the others serve.
Task<void> cluster_main(Shard& shard, Cluster& cluster, size_t entry_bytes, uint32_t in_flight,
                        std::vector<GroupLoad>& loads) {
  if (shard.id() != ShardId(0)) co_return;
  co_await run_cluster(shard, cluster, entry_bytes, in_flight, loads);
}

// The groups' runs as one: entries and latencies summed, the window from first start to last
// finish.
LoadRun merge(std::vector<GroupLoad>& loads) {
  LoadRun total;
  total.started = loads.front().run.started;
  total.finished = loads.front().run.finished;
  for (GroupLoad& load : loads) {
    const LoadRun& run = load.run;
    total.completed += run.completed;
    total.refused_full += run.refused_full;
    total.fsyncs += run.fsyncs;
    total.latencies_ns.insert(total.latencies_ns.end(), run.latencies_ns.begin(),
                              run.latencies_ns.end());
    if (total.error.empty()) total.error = run.error;
    total.started = std::min(total.started, run.started);
    total.finished = std::max(total.finished, run.finished);
  }
  return total;
}

LoadRun engine_run(size_t entry_bytes, uint32_t in_flight, uint32_t groups, std::string& error) {
  Cluster cluster(3, groups);  // outlives the reactor: the engines' directories and buses
  cluster.tune = [](replica::EngineOptions& options) {
    const wal::WalOptions defaults;
    options.wal.segment_bytes = defaults.segment_bytes;
    options.wal.batch_bytes_max = defaults.batch_bytes_max;
  };
  std::vector<GroupLoad> loads(groups);
  for (uint32_t g = 0; g < groups; g++) {
    loads[g].group = cluster.groups()[g];
    loads[g].run.entries_max = kEntriesMax / groups;
    loads[g].run.latencies_ns.reserve(loads[g].run.entries_max);
  }
  const ReactorRunReport ran =
      run_reactor_workload(cluster.size(), [&](Shard& shard) -> Task<void> {
        return cluster_main(shard, cluster, entry_bytes, in_flight, loads);
      });
  LoadRun run = merge(loads);
  error = !ran.ok() ? ran.error : run.error;
  return run;
}

// ---- the ceiling: one Wal alone ------------------------------------------------------------

// The same load as wal_bench's BM_Wal/wal rows (durable_append_load.h), bounded like the
// engine's runs.
LoadRun wal_run(size_t entry_bytes, uint32_t in_flight, std::string& error) {
  LoadRun run;
  TempDir directory;
  if (!directory.ok()) {
    error = directory.error();
    return run;
  }
  wal::WalOptions options;
  options.directory = directory.path();
  DurableAppendLoad load;
  load.entry_bytes = entry_bytes;
  load.in_flight = in_flight;
  load.time_budget = kTimeBudget;
  load.appends_max = kEntriesMax;
  load.record_latencies = true;
  load.latencies_ns.reserve(kEntriesMax);
  const ReactorRunReport ran = run_reactor_workload(
      1, [&](Shard& shard) -> Task<void> { return run_durable_appends(shard, options, load); });
  run.issued = load.issued;
  run.completed = load.completed;
  run.refused_full = load.refused_full;
  run.fsyncs = load.stats.fsyncs_completed;
  run.latencies_ns = std::move(load.latencies_ns);
  run.error = load.error;
  run.started = load.started;
  run.finished = load.finished;
  error = !ran.ok() ? ran.error : run.error;
  return run;
}

// ---- reporting ------------------------------------------------------------------------------

double entries_per_second(const LoadRun& run) {
  return run.seconds() > 0 ? static_cast<double>(run.completed) / run.seconds() : 0.0;
}

// The ceiling's entries/s per (entry bytes, in flight), kept from its own row or measured here
// when the engine row comes first (random interleaving).
double wal_ceiling(size_t entry_bytes, uint32_t in_flight, double measured = 0.0) {
  static std::map<std::pair<size_t, uint32_t>, double> ceilings;
  const auto key = std::make_pair(entry_bytes, in_flight);
  if (measured > 0) ceilings[key] = measured;
  if (ceilings.count(key) == 0) {
    std::string error;
    const LoadRun run = wal_run(entry_bytes, in_flight, error);
    ceilings[key] = error.empty() ? entries_per_second(run) : 0.0;
  }
  return ceilings[key];
}

void report(benchmark::State& state, LoadRun& run) {
  state.SetIterationTime(run.seconds());
  state.SetItemsProcessed(static_cast<int64_t>(run.completed));
  state.SetBytesProcessed(
      static_cast<int64_t>(run.completed * static_cast<uint64_t>(state.range(0))));
  std::sort(run.latencies_ns.begin(), run.latencies_ns.end());
  state.counters["p50_us"] = percentile_us(run.latencies_ns, 0.50);
  state.counters["p99_us"] = percentile_us(run.latencies_ns, 0.99);
  state.counters["p999_us"] = percentile_us(run.latencies_ns, 0.999);
  state.counters["samples"] = static_cast<double>(run.latencies_ns.size());
  state.counters["refused_full"] = static_cast<double>(run.refused_full);
  state.counters["fsyncs"] = static_cast<double>(run.fsyncs);
}

void BM_Engine(benchmark::State& state, uint32_t groups) {
  const auto entry_bytes = static_cast<size_t>(state.range(0));
  const auto in_flight = static_cast<uint32_t>(state.range(1));
  const double ceiling = wal_ceiling(entry_bytes, in_flight);
  for (auto _ : state) {
    std::string error;
    LoadRun run = engine_run(entry_bytes, in_flight, groups, error);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
    report(state, run);
    state.counters["wal_fraction"] = ceiling > 0 ? entries_per_second(run) / ceiling : 0.0;
  }
}

void BM_WalAlone(benchmark::State& state) {
  const auto entry_bytes = static_cast<size_t>(state.range(0));
  const auto in_flight = static_cast<uint32_t>(state.range(1));
  for (auto _ : state) {
    std::string error;
    LoadRun run = wal_run(entry_bytes, in_flight, error);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
    wal_ceiling(entry_bytes, in_flight, entries_per_second(run));
    report(state, run);
  }
}

void one_run(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgsProduct({{100, 1024}, {1, 64, 1024}})
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_WalAlone)->Name("BM_Replica/wal_alone")->Apply(one_run);
BENCHMARK_CAPTURE(BM_Engine, one_group, 1)->Name("BM_Replica/engine")->Apply(one_run);
BENCHMARK_CAPTURE(BM_Engine, four_groups, 4)
    ->Name("BM_Replica/engine_4_groups")
    ->ArgsProduct({{100, 1024}, {64, 1024}})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ringraft::bench
