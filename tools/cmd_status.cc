#include "tools/cmd_status.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "tools/cli/cluster_state.h"
#include "tools/cli/info_client.h"

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

// Columns of the table: INFO keys, first one present wins (ringraft's raft_* then Redis's own).
struct Column {
  const char* title;
  std::vector<const char*> keys;
};

const std::vector<Column>& columns() {
  static const std::vector<Column> kColumns = {
      {"role", {"raft_role", "role"}},
      {"term", {"raft_term"}},
      {"leader", {"raft_leader"}},
      {"commit", {"raft_commit"}},
      {"applied", {"raft_applied"}},
      {"clients", {"connected_clients"}},
      {"keys", {"db0"}},
      {"commands", {"total_commands_processed"}},
  };
  return kColumns;
}

std::string column_value(const Sample& sample, const Column& column) {
  for (const char* key : column.keys) {
    std::string value = info_value(sample.fields, key);
    if (value.empty()) continue;
    if (std::string_view(key) == "db0") {  // "keys=12,expires=0,..." -> 12
      const size_t start = value.find("keys=");
      if (start == std::string::npos) return value;
      return value.substr(start + 5, value.find(',', start) - start - 5);
    }
    return value;
  }
  return "-";
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

std::string render(const std::vector<Target>& targets, const std::vector<Sample>& samples,
                   const std::vector<Sample>& previous, bool with_rate) {
  std::string out = fmt::format("{:<5} {:<16} {:<5}", "node", "address", "state");
  for (const Column& column : columns()) out += fmt::format(" {:>10}", column.title);
  if (with_rate) out += fmt::format(" {:>9}", "ops/s");
  out += "\n";
  std::string notes;
  for (size_t i = 0; i < targets.size(); ++i) {
    const Sample& sample = samples[i];
    out += fmt::format("{:<5} {:<16} {:<5}", targets[i].name, targets[i].endpoint.to_string(),
                       sample.answered ? "up" : "down");
    for (const Column& column : columns()) {
      out += fmt::format(" {:>10}", sample.answered ? column_value(sample, column) : "-");
    }
    if (with_rate) out += fmt::format(" {:>9}", ops_per_s(sample, previous[i]));
    out += "\n";
    if (!sample.answered) {
      notes += fmt::format("node {}: {}\n", targets[i].name, sample.error);
    } else if (const std::string other = other_fields(sample); !other.empty()) {
      notes += fmt::format("node {}:{}\n", targets[i].name, other);
    }
  }
  return out + notes;
}

std::vector<Sample> sample_all(const std::vector<Target>& targets) {
  std::vector<Sample> samples(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    Result<std::string> info = call_once(targets[i].endpoint, {"INFO"}, 1000ms);
    samples[i].at = SteadyClock::now();
    if (!info.ok()) {
      samples[i].error = info.error().message();
      continue;
    }
    samples[i].answered = true;
    samples[i].fields = parse_info(info.value());
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
    fmt::print("{}", render(targets.value(), previous, previous, false));
    const bool any = std::any_of(previous.begin(), previous.end(),
                                 [](const Sample& sample) { return sample.answered; });
    return any ? 0 : 1;
  }
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  const auto interval = std::chrono::milliseconds(static_cast<int64_t>(command.interval_s * 1000));
  for (uint64_t refresh = 1; command.count == 0 || refresh <= command.count; ++refresh) {
    std::this_thread::sleep_for(interval);  // the refresh period of a view a person watches
    std::vector<Sample> samples = sample_all(targets.value());
    std::string frame = render(targets.value(), samples, previous, true);
    if (terminal) {
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
  CLI::App* status = app.add_subcommand("status", "Show every node's role, term, leader, indexes");
  status->footer("Exit codes: 0 a node answered, 1 none did, 2 usage.");
  CLI::Option* dir = status->add_option("--dir", command->dir,
                                        "Cluster directory of `ringraft cluster up` (default "
                                        "./ringraft-cluster)");
  status->add_option("--nodes", command->nodes, "host:port,... of RESP servers")->excludes(dir);
  status->add_flag("--watch,-w", command->watch, "Refresh until interrupted, with ops/s");
  status->add_option("--interval", command->interval_s, "Seconds between refreshes")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  status->add_option("--count", command->count, "With --watch: refreshes before exiting");
  status->callback([command, exit_code] { *exit_code = run_status(*command); });
}

}  // namespace ringraft::tools
