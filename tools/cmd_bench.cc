#include "tools/cmd_bench.h"

#include <fmt/format.h>

#include <random>

#include "tools/cli/bench_report.h"
#include "tools/cli/bench_run.h"
#include "tools/cli/cluster_state.h"

namespace ringraft::tools {

namespace {

struct BenchCommand {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string cluster_dir;
  std::string ratio = "1:1";
  double duration_s = 0;
  uint64_t timeout_ms = 5000;
  bool seed_given = false;
  BenchOptions options;
};

// The targets, from --cluster (leader first) or --host/--port.
Result<std::vector<Endpoint>> resolve_targets(const BenchCommand& command) {
  if (!command.cluster_dir.empty()) {
    Result<ClusterState> cluster = load_cluster(command.cluster_dir);
    if (!cluster.ok()) return cluster.error();
    std::vector<Endpoint> endpoints;
    for (const NodeRecord& node : cluster.value().nodes) endpoints.push_back(node.client);
    return leader_first(endpoints);
  }
  if (command.port == 0) return Error(ErrorCode::kInvalidInput, "give --port or --cluster");
  Endpoint endpoint;
  endpoint.host = command.host;
  endpoint.port = command.port;
  return std::vector<Endpoint>{endpoint};
}

// Fills in the options from the flags; a usage error says which flag is wrong.
Result<void> prepare(BenchCommand& command) {
  Result<Ratio> ratio = parse_ratio(command.ratio);
  if (!ratio.ok()) return ratio.error();
  command.options.ratio = ratio.value();
  if (command.duration_s < 0 || command.duration_s > 24 * 3600) {
    return Error(ErrorCode::kInvalidInput, "--duration must be between 0 and 86400 seconds");
  }
  command.options.duration =
      std::chrono::milliseconds(static_cast<int64_t>(command.duration_s * 1000));
  command.options.request_timeout = std::chrono::milliseconds(command.timeout_ms);
  if (!command.seed_given) command.options.seed = std::random_device{}();
  Result<std::vector<Endpoint>> targets = resolve_targets(command);
  if (!targets.ok()) return targets.error();
  command.options.targets = targets.value();
  return validate(command.options);
}

// A first PING, so that a wrong port fails at once instead of after the reconnect bound.
bool any_target_answers(const std::vector<Endpoint>& targets) {
  for (const Endpoint& target : targets) {
    if (call_once(target, {"PING"}, std::chrono::milliseconds(2000)).ok()) return true;
  }
  return false;
}

int run_command(BenchCommand& command) {
  Result<void> prepared = prepare(command);
  if (!prepared.ok()) {
    fmt::print(stderr, "ringraft bench: {}\n", prepared.error().context());
    return prepared.error().code() == ErrorCode::kInvalidInput ? kBenchExitUsage : kBenchExitFailed;
  }
  const BenchOptions& options = command.options;
  if (!any_target_answers(options.targets)) {
    fmt::print(stderr, "ringraft bench: no answer to PING from {} (is the server running?)\n",
               options.targets[0].to_string());
    return kBenchExitFailed;
  }
  fmt::print(stderr,
             "bench: {} connections, pipeline {}, {} keys, {} B values, ratio {}:{} (SET:GET), {}, "
             "seed {}, target {}\n",
             options.connections, options.pipeline, options.keys, options.value_bytes,
             options.ratio.write_weight, options.ratio.read_weight,
             options.requests != 0 && options.duration.count() == 0
                 ? fmt::format("{} requests", options.requests)
                 : fmt::format("{:.1f} s", static_cast<double>(options.duration.count()) / 1000.0),
             options.seed, options.targets[0].to_string());
  Result<BenchResult> result = run_bench(options);
  if (!result.ok()) {
    fmt::print(stderr, "ringraft bench: {}\n", result.error().message());
    return kBenchExitFailed;
  }
  fmt::print("{}", format_table(result.value()));
  int exit_code = result.value().replies_ok() > 0 ? kBenchExitOk : kBenchExitFailed;
  if (!options.json_path.empty()) {
    Result<void> written = write_file(options.json_path, format_json(options, result.value()));
    if (written.ok()) {
      fmt::print("JSON: {}\n", options.json_path);
    } else {
      fmt::print(stderr, "ringraft bench: {}\n", written.error().message());
      exit_code = kBenchExitFailed;
    }
  }
  if (!options.plot_path.empty()) {
    Result<void> plotted = write_plot(options.plot_path, result.value());
    if (plotted.ok()) {
      fmt::print("plot: {}\n", options.plot_path);
    } else if (plotted.error().code() == ErrorCode::kUnsupported) {
      fmt::print(stderr, "bench: no plot: {}\n", plotted.error().context());
    } else {
      fmt::print(stderr, "ringraft bench: {}\n", plotted.error().message());
      exit_code = kBenchExitFailed;
    }
  }
  return exit_code;
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto command = std::make_shared<BenchCommand>();
  CLI::App* bench = app.add_subcommand(
      "bench", "Drive a RESP server or local cluster with SET/GET load; report ops/s and latency");
  bench->footer("Exit codes: 0 ok, 1 nothing succeeded or server unreachable, 2 usage.");
  bench->add_option("--host", command->host, "Server address (with --port)")->capture_default_str();
  bench->add_option("--port", command->port, "Server port");
  bench->add_option("--cluster", command->cluster_dir,
                    "A directory made by `ringraft cluster up`: load goes to its leader and moves "
                    "to the other nodes when a connection fails");
  BenchOptions& options = command->options;
  bench->add_option("--connections,-c", options.connections, "Connections")->capture_default_str();
  bench->add_option("--pipeline,-P", options.pipeline, "Requests in flight per connection")
      ->capture_default_str();
  bench->add_option("--keys", options.keys, "Key space (uniform)")->capture_default_str();
  bench->add_option("--value-bytes,-d", options.value_bytes, "SET value size")
      ->capture_default_str();
  bench->add_option("--ratio", command->ratio, "SET:GET weights, e.g. 1:1, 9:1, 0:1")
      ->capture_default_str();
  bench->add_option("--duration", command->duration_s,
                    "Seconds to run (default 10 unless --requests)");
  bench->add_option("--requests,-n", options.requests, "Requests to send in all (0: no bound)");
  bench
      ->add_option("--timeout-ms", command->timeout_ms,
                   "A connection silent this long is closed; its requests count as errors")
      ->capture_default_str();
  bench->add_option("--seed", options.seed, "Seed of the key and op choice (default random)")
      ->each([command](const std::string&) { command->seed_given = true; });
  bench->add_option("--json", options.json_path, "Write the results as JSON to this file");
  bench->add_option("--plot", options.plot_path, "Draw throughput and latency CDF (PNG, gnuplot)");
  bench->add_flag("!--no-progress", options.progress_on_terminal,
                  "Plain progress lines even on a terminal");
  bench->callback([command, exit_code] { *exit_code = run_command(*command); });
}

}  // namespace ringraft::tools
