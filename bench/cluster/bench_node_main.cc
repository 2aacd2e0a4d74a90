// ringraft-bench-node: one node of the 3-process replication benchmark (bench/run_cluster.sh).
// Flags -> BenchNodeOptions; one reactor shard runs the node (bench_node.h); SIGINT/SIGTERM
// end a follower's run (the measuring node ends on its own once its cells are done). The
// report goes to --out (written whole through a .tmp, so a reader never sees half of it) or
// stdout. Exit code 0 on success, 1 on a failed run, 2 on bad flags.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/cluster/bench_node.h"
#include "reactor/reactor.h"
#include "reactor/stop_signals.h"

namespace {

using namespace ringraft;

struct Flags {
  uint64_t id = 0;
  uint64_t measure_node = 1;
  std::string peers;
  uint32_t groups = 1;
  std::string entry_bytes = "100";
  std::string in_flight = "64";
  uint64_t duration_ms = 2000;
  uint64_t entries_max = 2'000'000;
  uint64_t leader_timeout_ms = 30000;
  std::string data_dir;
  std::string out;
  std::string fsync = "on";
  uint32_t fsyncs_in_flight = 4;
  uint64_t tick_ms = 10;
};

Result<bench::BenchNodeOptions> build_options(const Flags& flags) {
  bench::BenchNodeOptions options;
  options.id = NodeId{flags.id};
  options.measure_node = NodeId{flags.measure_node};
  auto peers = bench::parse_bench_peers(flags.peers);
  if (!peers.ok()) return peers.error();
  options.peers = std::move(peers.value());
  options.group_count = flags.groups;
  auto sizes = bench::parse_count_list(flags.entry_bytes, "--entry-bytes");
  if (!sizes.ok()) return sizes.error();
  options.entry_bytes = std::move(sizes.value());
  auto in_flight = bench::parse_count_list(flags.in_flight, "--in-flight");
  if (!in_flight.ok()) return in_flight.error();
  options.in_flight = std::move(in_flight.value());
  options.cell_duration = std::chrono::milliseconds(flags.duration_ms);
  options.cell_entries_max = flags.entries_max;
  options.leader_timeout = std::chrono::milliseconds(flags.leader_timeout_ms);
  options.data_dir = flags.data_dir;
  options.out_path = flags.out;
  if (flags.fsync != "on" && flags.fsync != "off") {
    return Error(ErrorCode::kInvalidInput, "--fsync must be on or off");
  }
  options.fsync = flags.fsync == "on";
  options.fsyncs_in_flight = flags.fsyncs_in_flight;
  options.tick = std::chrono::milliseconds(flags.tick_ms);
  if (Result<void> valid = options.validate(); !valid.ok()) return valid.error();
  return options;
}

bool write_report(const std::string& path, const std::string& json) {
  if (path.empty()) {
    fmt::print("{}\n", json);
    return true;
  }
  const std::string partial = path + ".tmp";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << json << '\n';
    if (!out.good()) return false;
  }
  std::error_code renamed;
  std::filesystem::rename(partial, path, renamed);
  return !renamed;
}

int run(const bench::BenchNodeOptions& options) {
  StopSignals stop_signals;  // before any thread starts: all inherit the mask

  ReactorConfig config;
  config.shard_count = 1;
  config.pin_threads = false;
  Reactor reactor(config);
  Latch stop_requested(1);
  stop_signals.start(reactor, stop_requested);
  Result<std::string> report = Error(ErrorCode::kCancelled, "the node did not run");
  Result<void> ran = reactor.run([&](Shard& shard) -> Task<void> {
    report = co_await bench::run_bench_node(shard, options, stop_requested);
    shard.reactor().stop();
  });
  stop_signals.stop();
  if (!ran.ok() || !report.ok()) {
    const Error& error = ran.ok() ? report.error() : ran.error();
    fmt::print(stderr, "ringraft-bench-node {}: {}\n", options.id.value(), error.message());
    return 1;
  }
  if (!write_report(options.out_path, report.value())) {
    fmt::print(stderr, "ringraft-bench-node {}: cannot write {}\n", options.id.value(),
               options.out_path);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"One node of ringraft's 3-process replication benchmark (bench/run_cluster.sh)"};
  Flags flags;
  app.add_option("--id", flags.id, "This node's id")->required();
  app.add_option("--peers", flags.peers, "Every member: 1=127.0.0.1:7001,2=...,3=...")->required();
  app.add_option("--measure-node", flags.measure_node, "The node that leads and loads (1)");
  app.add_option("--groups", flags.groups, "Raft groups, all on the one shard (1)");
  app.add_option("--entry-bytes", flags.entry_bytes, "Entry sizes, comma-separated (100)");
  app.add_option("--in-flight", flags.in_flight, "Proposals in flight, comma-separated (64)");
  app.add_option("--duration-ms", flags.duration_ms, "Each cell's duration (2000)");
  app.add_option("--entries-max", flags.entries_max, "Each cell's entry bound (2000000)");
  app.add_option("--leader-timeout-ms", flags.leader_timeout_ms,
                 "Time the measuring node waits to lead every group (30000)");
  app.add_option("--data-dir", flags.data_dir, "This node's data directory")->required();
  app.add_option("--out", flags.out, "The JSON report's file (default stdout)");
  app.add_option("--fsync", flags.fsync, "on|off (on)");
  app.add_option("--tick-ms", flags.tick_ms, "The engine's Raft tick (10)");
  app.add_option("--fsyncs-in-flight", flags.fsyncs_in_flight,
                 "WAL batches flushing at once (4, as ringraft server)");
  CLI11_PARSE(app, argc, argv);
  Result<bench::BenchNodeOptions> options = build_options(flags);
  if (!options.ok()) {
    fmt::print(stderr, "ringraft-bench-node: {}\n", options.error().context());
    return 2;
  }
  return run(options.value());
}
