#include "tools/cmd_status.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "tools/cli/cluster_state.h"
#include "tools/cli/info_client.h"
#include "tools/cli/json_text.h"

namespace ringraft::tools {

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

struct StatusCommand {
  std::string dir;
  std::string nodes;
  bool watch = false;
  double interval_s = 1.0;
  uint64_t count = 0;  // --watch refreshes before exiting; 0: until interrupted
  bool json = false;
};

struct Target {
  std::string name;  // node id from the cluster state, or the address
  Endpoint endpoint;
};

// One node's last INFO, kept between refreshes for the ops/s delta.
struct Sample {
  bool answered = false;
  std::string error;
  std::vector<InfoField> fields;
  SteadyClock::time_point at{};
};

// Columns of the table and fields of --json: keys of RINGRAFT.STATUS (node_metrics.h) or, from
// a server without it (plain Redis), of INFO; the first one present wins.
enum class Format : uint8_t { kText, kNumber, kBytes };
struct Column {
  const char* title;  // the table's
  const char* name;   // the JSON field's
  std::vector<const char*> keys;
  Format format = Format::kNumber;
};

const std::vector<Column>& columns() {
  static const std::vector<Column> kColumns = {
      {"role", "role", {"raft_role", "role"}, Format::kText},
      {"term", "term", {"raft_term", "term"}},
      {"leader", "leader", {"raft_leader", "leader"}},
      {"commit", "commit", {"raft_commit", "commit"}},
      {"applied", "applied", {"raft_applied", "applied"}},
      {"log", "log_size_bytes", {"log_size_bytes"}, Format::kBytes},
      {"snap", "snapshot_size_bytes", {"snapshot_size_bytes"}, Format::kBytes},
      {"ops/s", "ops_per_second", {"ops_per_second"}},
      {"p50us", "latency_p50_us", {"latency_p50_us"}},
      {"p99us", "latency_p99_us", {"latency_p99_us"}},
      {"elect", "elections", {"elections_started"}},
      {"rpcerr", "rpc_errors", {"rpc_errors"}},
      {"fsync/s", "fsyncs_per_second", {"fsyncs_per_second"}},
      {"ent/fs", "entries_per_fsync", {"entries_per_fsync"}},
  };
  return kColumns;
}

// The raw value of `column` in `sample`, or "" when the node does not report it.
std::string raw_value(const Sample& sample, const Column& column) {
  if (std::string_view(column.name) == "rpc_errors") {
    // One column for the three kinds a node counts apart.
    double total = 0;
    bool any = false;
    for (const char* key : {"rpc_inbound_refused", "rpc_sends_dropped", "rpc_connection_errors"}) {
      const std::string value = info_value(sample.fields, key);
      if (value.empty()) continue;
      any = true;
      total += std::strtod(value.c_str(), nullptr);
    }
    return any ? fmt::format("{:.0f}", total) : std::string();
  }
  for (const char* key : column.keys) {
    std::string value = info_value(sample.fields, key);
    if (!value.empty()) return value;
  }
  return "";
}

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "K", "M", "G", "T"};
  size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f}B", bytes) : fmt::format("{:.1f}{}", bytes, kUnits[unit]);
}

std::string column_value(const Sample& sample, const Column& column) {
  std::string value = raw_value(sample, column);
  if (value.empty()) return "-";
  if (column.format == Format::kBytes) return human_bytes(std::strtod(value.c_str(), nullptr));
  return value;
}

Result<std::vector<Target>> resolve_targets(const StatusCommand& command) {
  std::vector<Target> targets;
  if (!command.nodes.empty()) {
    std::string_view list = command.nodes;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      const std::string_view item = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      Result<Endpoint> endpoint = parse_endpoint(item);
      if (!endpoint.ok()) return endpoint.error();
      targets.push_back(Target{endpoint.value().to_string(), endpoint.value()});
    }
    return targets;
  }
  Result<ClusterState> cluster =
      load_cluster(command.dir.empty() ? "ringraft-cluster" : command.dir);
  if (!cluster.ok()) return cluster.error();
  for (const NodeRecord& node : cluster.value().nodes) {
    targets.push_back(Target{std::to_string(node.id), node.client});
  }
  return targets;
}

// Requests per second between two samples, from a server that does not report its own rate
// (INFO's total_commands_processed).
std::string ops_per_s(const Sample& now, const Sample& before) {
  if (!now.answered || !before.answered) return "-";
  const auto parse = [](const Sample& sample) {
    return std::strtod(info_value(sample.fields, "total_commands_processed").c_str(), nullptr);
  };
  const double seconds = std::chrono::duration<double>(now.at - before.at).count();
  if (seconds <= 0) return "-";
  return fmt::format("{:.0f}", std::max(0.0, (parse(now) - parse(before)) / seconds));
}

// raft_* fields that have no column, e.g. raft_leader_addr.
std::string other_fields(const Sample& sample) {
  std::string text;
  for (const InfoField& field : sample.fields) {
    // ringraft's own fields; Redis's replication offsets and ids would drown the table.
    if (field.key.rfind("raft_", 0) != 0 && field.section != "Raft") continue;
    const bool shown = std::any_of(columns().begin(), columns().end(), [&](const Column& column) {
      return std::find(column.keys.begin(), column.keys.end(), field.key) != column.keys.end();
    });
    if (!shown) text += fmt::format(" {}={}", field.key, field.value);
  }
  return text;
}

// The ops/s column: the node's own rate over its last second, or (plain Redis) the change of
// its command count between two refreshes.
std::string ops_column(const Sample& sample, const Sample& previous, bool with_rate) {
  if (!sample.answered) return "-";
  const std::string own = info_value(sample.fields, "ops_per_second");
  if (!own.empty()) return fmt::format("{:.0f}", std::strtod(own.c_str(), nullptr));
  return with_rate ? ops_per_s(sample, previous) : "-";
}

std::string render(const std::vector<Target>& targets, const std::vector<Sample>& samples,
                   const std::vector<Sample>& previous, bool with_rate) {
  std::string out = fmt::format("{:<5} {:<16} {:<5}", "node", "address", "state");
  for (const Column& column : columns()) out += fmt::format(" {:>9}", column.title);
  out += "\n";
  std::string notes;
  for (size_t i = 0; i < targets.size(); ++i) {
    const Sample& sample = samples[i];
    out += fmt::format("{:<5} {:<16} {:<5}", targets[i].name, targets[i].endpoint.to_string(),
                       sample.answered ? "up" : "down");
    for (const Column& column : columns()) {
      std::string value = "-";
      if (std::string_view(column.name) == "ops_per_second") {
        value = ops_column(sample, previous[i], with_rate);
      } else if (sample.answered) {
        value = column_value(sample, column);
      }
      out += fmt::format(" {:>9}", value);
    }
    out += "\n";
    if (!sample.answered) {
      notes += fmt::format("node {}: {}\n", targets[i].name, sample.error);
    } else if (const std::string other = other_fields(sample); !other.empty()) {
      notes += fmt::format("node {}:{}\n", targets[i].name, other);
    }
  }
  return out + notes;
}

// One JSON array, an object per node with every column's field (null when not reported).
std::string render_json(const std::vector<Target>& targets, const std::vector<Sample>& samples) {
  std::string out = "[";
  for (size_t i = 0; i < targets.size(); ++i) {
    const Sample& sample = samples[i];
    out += fmt::format("{}\n  {{\"node\":{},\"address\":{},\"up\":{}", i == 0 ? "" : ",",
                       json_string(targets[i].name), json_string(targets[i].endpoint.to_string()),
                       sample.answered ? "true" : "false");
    for (const Column& column : columns()) {
      const std::string value = sample.answered ? raw_value(sample, column) : std::string();
      std::string rendered = "null";
      if (!value.empty() && column.format == Format::kText) {
        rendered = json_string(value);
      } else if (!value.empty()) {
        char* end = nullptr;
        const double number = std::strtod(value.c_str(), &end);
        if (end != value.c_str() && *end == '\0' && std::isfinite(number)) rendered = value;
      }
      out += fmt::format(",{}:{}", json_string(column.name), rendered);
    }
    if (!sample.answered) out += ",\"error\":" + json_string(sample.error);
    out += "}";
  }
  return out + "\n]\n";
}

// RINGRAFT.STATUS (every field, node_metrics.h); INFO from a server that has no such command.
std::vector<Sample> sample_all(const std::vector<Target>& targets) {
  std::vector<Sample> samples(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    Result<std::string> reply = call_once(targets[i].endpoint, {"RINGRAFT.STATUS"}, 1000ms);
    if (!reply.ok() && reply.error().code() == ErrorCode::kInvalidInput) {
      reply = call_once(targets[i].endpoint, {"INFO"}, 1000ms);  // an error reply: not ringraft
    }
    samples[i].at = SteadyClock::now();
    if (!reply.ok()) {
      samples[i].error = reply.error().message();
      continue;
    }
    samples[i].answered = true;
    samples[i].fields = parse_info(reply.value());
  }
  return samples;
}

int run_status(const StatusCommand& command) {
  Result<std::vector<Target>> targets = resolve_targets(command);
  if (!targets.ok()) {
    fmt::print(stderr, "ringraft status: {}\n", targets.error().context());
    return targets.error().code() == ErrorCode::kInvalidInput ? 2 : 1;
  }
  std::vector<Sample> previous = sample_all(targets.value());
  if (!command.watch) {
    if (command.json) {
      fmt::print("{}", render_json(targets.value(), previous));
    } else {
      fmt::print("{}", render(targets.value(), previous, previous, false));
    }
    const bool any = std::any_of(previous.begin(), previous.end(),
                                 [](const Sample& sample) { return sample.answered; });
    return any ? 0 : 1;
  }
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  const auto interval = std::chrono::milliseconds(static_cast<int64_t>(command.interval_s * 1000));
  for (uint64_t refresh = 1; command.count == 0 || refresh <= command.count; ++refresh) {
    std::this_thread::sleep_for(interval);  // the refresh period of a view a person watches
    std::vector<Sample> samples = sample_all(targets.value());
    std::string frame = command.json ? render_json(targets.value(), samples)
                                     : render(targets.value(), samples, previous, true);
    if (terminal && !command.json) {
      fmt::print("\033[H\033[2J{}(every {:.1f} s, Ctrl-C to stop)\n", frame, command.interval_s);
    } else {
      fmt::print("{}\n", frame);
    }
    std::fflush(stdout);
    previous = std::move(samples);
  }
  return 0;
}

}  // namespace

void add_status_command(CLI::App& app, int* exit_code) {
  auto command = std::make_shared<StatusCommand>();
  CLI::App* status = app.add_subcommand(
      "status", "Show every node's role, term, leader, indexes, sizes, rates and latency");
  status->footer("Exit codes: 0 a node answered, 1 none did, 2 usage.");
  CLI::Option* dir = status->add_option("--dir", command->dir,
                                        "Cluster directory of `ringraft cluster up` (default "
                                        "./ringraft-cluster)");
  status->add_option("--nodes", command->nodes, "host:port,... of RESP servers")->excludes(dir);
  status->add_flag("--watch,-w", command->watch, "Refresh until interrupted");
  status->add_flag("--json", command->json,
                   "A JSON array, one object per node with every column (with --watch: one "
                   "array per refresh)");
  status->add_option("--interval", command->interval_s, "Seconds between refreshes")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  status->add_option("--count", command->count, "With --watch: refreshes before exiting");
  status->callback([command, exit_code] { *exit_code = run_status(*command); });
}

}  // namespace ringraft::tools
