#include "tools/cmd_cluster.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "tools/cli/cluster_state.h"
#include "tools/cli/process.h"

namespace ringraft::tools {

namespace {

using namespace std::chrono_literals;

constexpr uint16_t kDefaultBasePort = 6380;
constexpr uint16_t kPeerPortOffset = 100;
constexpr uint16_t kAdminPortOffset = 200;
constexpr uint32_t kNodeCountMax = 9;
constexpr int kPortBlockTries = 100;

struct ClusterCommand {
  std::string dir = "ringraft-cluster";
  uint32_t node_count = 3;
  uint16_t base_port = 0;  // 0: choose
  std::string fsync = "on";
  double leader_wait_s = 30;
  double stop_grace_s = 10;
  std::string node;  // kill/restart: an id or "leader"
  std::string signal_name = "kill";
  std::string server_executable;  // default: this executable; a test may put a stub here
};

int fail(const std::string& message) {
  fmt::print(stderr, "ringraft cluster: {}\n", message);
  return kClusterExitFailed;
}

bool node_alive(const ClusterState& state, const NodeRecord& node) {
  return node_process_alive(node.pid, state.data_dir(node.id));
}

// Ports for `count` nodes: base+i for clients, base+100+i for Raft and base+200+i for the
// admin port (HTTP /metrics), all free.
Result<uint16_t> choose_base_port(uint32_t count, uint16_t requested) {
  const auto block_free = [count](uint32_t base) {
    if (base + kAdminPortOffset + count > 65535) return false;
    for (uint32_t id = 1; id <= count; ++id) {
      for (uint32_t offset : {0u, uint32_t{kPeerPortOffset}, uint32_t{kAdminPortOffset}}) {
        if (!port_free(static_cast<uint16_t>(base + offset + id))) return false;
      }
    }
    return true;
  };
  if (requested != 0) {
    if (block_free(requested)) return requested;
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("ports {}..{}, {}..{} or {}..{} are taken; pick another --base-port",
                             requested + 1, requested + count, requested + kPeerPortOffset + 1,
                             requested + kPeerPortOffset + count, requested + kAdminPortOffset + 1,
                             requested + kAdminPortOffset + count));
  }
  for (int attempt = 0; attempt < kPortBlockTries; ++attempt) {
    const uint32_t base = kDefaultBasePort + 10u * static_cast<uint32_t>(attempt);
    if (block_free(base)) return static_cast<uint16_t>(base);
  }
  return Error(ErrorCode::kIo, "no free block of ports found above 6380; give --base-port");
}

std::vector<std::string> server_arguments(const ClusterState& state, const NodeRecord& node) {
  std::vector<std::string> arguments = {"server",
                                        "--id",
                                        std::to_string(node.id),
                                        "--peers",
                                        state.peers_flag(),
                                        "--clients",
                                        state.clients_flag(),
                                        "--port",
                                        std::to_string(node.client.port),
                                        "--data-dir",
                                        state.data_dir(node.id),
                                        "--fsync",
                                        state.fsync ? "on" : "off"};
  // Always explicit: 0 (a state file from before admin ports) turns the default one off.
  arguments.push_back("--admin-port");
  arguments.push_back(std::to_string(node.admin.port));
  return arguments;
}

Result<void> start_node(const ClusterCommand& command, const ClusterState& state,
                        NodeRecord& node) {
  std::error_code error;
  std::filesystem::create_directories(state.data_dir(node.id), error);
  if (error)
    return Error(ErrorCode::kIo, "create " + state.data_dir(node.id) + ": " + error.message());
  const std::string& executable =
      command.server_executable.empty() ? state.server_executable : command.server_executable;
  Result<pid_t> pid =
      spawn_detached(executable, server_arguments(state, node), state.log_path(node.id));
  if (!pid.ok()) return pid.error();
  node.pid = pid.value();
  return {};
}

// The id of the node that says it leads (INFO role:master or raft_role:leader), or 0.
uint32_t find_leader(const ClusterState& state) {
  for (const NodeRecord& node : state.nodes) {
    Result<std::string> info = call_once(node.client, {"INFO"}, 500ms);
    if (!info.ok()) continue;
    const std::vector<InfoField> fields = parse_info(info.value());
    if (info_value(fields, "raft_role") == "leader" ||
        (info_value(fields, "raft_role").empty() && info_value(fields, "role") == "master")) {
      return node.id;
    }
  }
  return 0;
}

std::vector<pid_t> live_pids(const ClusterState& state) {
  std::vector<pid_t> pids;
  for (const NodeRecord& node : state.nodes) {
    if (node_alive(state, node)) pids.push_back(node.pid);
  }
  return pids;
}

// Stops every live node: SIGTERM, SIGKILL after the grace. True when none is left.
bool stop_all(ClusterState& state, std::chrono::milliseconds grace) {
  const std::vector<pid_t> left =
      stop_processes(live_pids(state), SIGTERM, grace, [&state](pid_t pid) {
        for (const NodeRecord& node : state.nodes) {
          if (node.pid == pid) return node_alive(state, node);
        }
        return false;
      });
  for (NodeRecord& node : state.nodes) {
    if (std::find(left.begin(), left.end(), node.pid) == left.end()) node.pid = 0;
  }
  return left.empty();
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Waits until some node leads and returns its id; fails at once when a node process exits.
Result<uint32_t> wait_for_leader(const ClusterCommand& command, ClusterState& state) {
  const auto deadline = std::chrono::steady_clock::now() + seconds_to_ms(command.leader_wait_s);
  for (;;) {
    for (const NodeRecord& node : state.nodes) {
      if (reap_if_child(node.pid)) {
        fmt::print(stderr, "node {} exited; the end of {}:\n{}", node.id, state.log_path(node.id),
                   tail_lines(state.log_path(node.id), 20));
        stop_all(state, seconds_to_ms(command.stop_grace_s));
        (void)save_cluster(state);
        return Error(ErrorCode::kIo, fmt::format("node {} did not start", node.id));
      }
    }
    const uint32_t leader = find_leader(state);
    if (leader != 0) return leader;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(ErrorCode::kIo,
                   fmt::format("no leader after {} s; the nodes keep running (see the logs in {}, "
                               "`ringraft cluster down --dir {}` stops them)",
                               command.leader_wait_s, state.dir, state.dir));
    }
    std::this_thread::sleep_for(100ms);  // polling other processes' INFO
  }
}

// The state `up` starts from: the old one when DIR holds a stopped cluster of the same size
// (a full restart keeps its data and ports), otherwise a new one.
Result<ClusterState> state_for_up(const ClusterCommand& command) {
  Result<ClusterState> existing = load_cluster(command.dir);
  if (existing.ok()) {
    for (const NodeRecord& node : existing.value().nodes) {
      if (node_alive(existing.value(), node)) {
        return Error(ErrorCode::kInvalidInput,
                     fmt::format("a cluster is running in {} (node {}, pid {}); `ringraft cluster "
                                 "down --dir {}` first",
                                 command.dir, node.id, node.pid, command.dir));
      }
    }
    if (existing.value().nodes.size() != command.node_count) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{} holds a stopped cluster of {} nodes, not {}; remove it or use "
                               "another --dir",
                               command.dir, existing.value().nodes.size(), command.node_count));
    }
    existing.value().fsync = command.fsync == "on";
    existing.value().server_executable = command.server_executable;
    return existing;
  }
  if (existing.error().code() != ErrorCode::kNotFound) return existing.error();
  Result<uint16_t> base = choose_base_port(command.node_count, command.base_port);
  if (!base.ok()) return base.error();
  ClusterState state;
  state.dir = command.dir;
  state.fsync = command.fsync == "on";
  state.server_executable = command.server_executable;
  for (uint32_t id = 1; id <= command.node_count; ++id) {
    NodeRecord node;
    node.id = id;
    node.client.port = static_cast<uint16_t>(base.value() + id);
    node.peer.port = static_cast<uint16_t>(base.value() + kPeerPortOffset + id);
    node.admin.port = static_cast<uint16_t>(base.value() + kAdminPortOffset + id);
    state.nodes.push_back(node);
  }
  return state;
}

std::string admin_text(const NodeRecord& node) {
  if (node.admin.port == 0) return "no admin port";
  return "metrics http://" + node.admin.to_string() + "/metrics";
}

void print_connect_help(const ClusterState& state, uint32_t leader) {
  fmt::print("cluster of {} nodes up in {} (fsync {}), leader: node {}\n", state.nodes.size(),
             state.dir, state.fsync ? "on" : "off", leader);
  for (const NodeRecord& node : state.nodes) {
    fmt::print("  node {}: redis-cli -p {}    pid {}, raft {}, {}, log {}\n", node.id,
               node.client.port, node.pid, node.peer.to_string(), admin_text(node),
               state.log_path(node.id));
  }
  fmt::print(
      "status: ringraft status --dir {}\nload:   ringraft bench --cluster {}\n"
      "stop:   ringraft cluster down --dir {}\n",
      state.dir, state.dir, state.dir);
}

int run_up(ClusterCommand& command) {
  Result<ClusterState> prepared = state_for_up(command);
  if (!prepared.ok()) return fail(prepared.error().context());
  ClusterState& state = prepared.value();
  std::error_code error;
  std::filesystem::create_directories(state.dir, error);
  if (error) return fail("create " + state.dir + ": " + error.message());
  for (NodeRecord& node : state.nodes) {
    Result<void> started = start_node(command, state, node);
    if (!started.ok()) {
      stop_all(state, seconds_to_ms(command.stop_grace_s));
      return fail(fmt::format("node {}: {}", node.id, started.error().message()));
    }
  }
  Result<void> saved = save_cluster(state);
  if (!saved.ok()) {
    stop_all(state, seconds_to_ms(command.stop_grace_s));
    return fail(saved.error().message());
  }
  Result<uint32_t> leader = wait_for_leader(command, state);
  if (!leader.ok()) return fail(leader.error().context());
  print_connect_help(state, leader.value());
  return kClusterExitOk;
}

int run_down(const ClusterCommand& command) {
  Result<ClusterState> loaded = load_cluster(command.dir);
  if (!loaded.ok()) return fail(loaded.error().context());
  ClusterState& state = loaded.value();
  const size_t running = live_pids(state).size();
  const bool stopped = stop_all(state, seconds_to_ms(command.stop_grace_s));
  Result<void> saved = save_cluster(state);
  if (!stopped) return fail("some nodes would not stop even after SIGKILL: " + state.dir);
  if (!saved.ok()) return fail(saved.error().message());
  fmt::print(
      "cluster in {} stopped ({} node{} were running); data kept, `ringraft cluster up "
      "--dir {} -n {}` starts it again\n",
      state.dir, running, running == 1 ? "" : "s", state.dir, state.nodes.size());
  return kClusterExitOk;
}

// The node named by `kill`/`restart`: an id, or "leader" (asks the nodes).
Result<NodeRecord*> named_node(ClusterState& state, const std::string& name) {
  uint32_t id = 0;
  if (name == "leader") {
    id = find_leader(state);
    if (id == 0) return Error(ErrorCode::kNotFound, "no node says it is the leader right now");
  } else {
    id = static_cast<uint32_t>(std::strtoul(name.c_str(), nullptr, 10));
  }
  NodeRecord* node = state.find(id);
  if (node == nullptr) {
    return Error(ErrorCode::kInvalidInput, fmt::format("no node '{}' in {} (ids 1..{} or 'leader')",
                                                       name, state.dir, state.nodes.size()));
  }
  return node;
}

// Loads the cluster in command.dir and runs `body(command, state, node)` on the node that
// command.node names; a missing cluster or node is reported and fails.
int on_named_node(const ClusterCommand& command,
                  int (*body)(const ClusterCommand&, ClusterState&, NodeRecord&)) {
  Result<ClusterState> loaded = load_cluster(command.dir);
  if (!loaded.ok()) return fail(loaded.error().context());
  ClusterState& state = loaded.value();
  Result<NodeRecord*> named = named_node(state, command.node);
  if (!named.ok()) return fail(named.error().context());
  NodeRecord& node = *named.value();
  return body(command, state, node);
}

int run_kill(const ClusterCommand& command, ClusterState& state, NodeRecord& node) {
  if (!node_alive(state, node)) return fail(fmt::format("node {} is not running", node.id));
  const int signal_number = command.signal_name == "term" ? SIGTERM : SIGKILL;
  const pid_t pid = node.pid;
  const std::vector<pid_t> left =
      stop_processes({pid}, signal_number, seconds_to_ms(command.stop_grace_s),
                     [&state, &node](pid_t) { return node_alive(state, node); });
  if (!left.empty()) return fail(fmt::format("node {} (pid {}) would not stop", node.id, pid));
  node.pid = 0;
  Result<void> saved = save_cluster(state);
  if (!saved.ok()) return fail(saved.error().message());
  fmt::print("node {} (pid {}, {}) stopped with SIG{}\n", node.id, pid, node.client.to_string(),
             signal_number == SIGTERM ? "TERM" : "KILL");
  return kClusterExitOk;
}

int run_restart(const ClusterCommand& command, ClusterState& state, NodeRecord& node) {
  if (state.server_executable.empty()) {
    Result<std::string> self = self_executable();
    if (!self.ok()) return fail(self.error().message());
    state.server_executable = self.value();
  }
  if (node_alive(state, node)) {
    const std::vector<pid_t> left =
        stop_processes({node.pid}, SIGTERM, seconds_to_ms(command.stop_grace_s),
                       [&state, &node](pid_t) { return node_alive(state, node); });
    if (!left.empty()) return fail(fmt::format("node {} would not stop", node.id));
  }
  Result<void> started = start_node(command, state, node);
  if (!started.ok()) return fail(started.error().message());
  Result<void> saved = save_cluster(state);
  if (!saved.ok()) return fail(saved.error().message());
  // Bounded wait until it answers, so that a script can use it right after.
  const auto deadline = std::chrono::steady_clock::now() + seconds_to_ms(command.leader_wait_s);
  while (!call_once(node.client, {"PING"}, 500ms).ok()) {
    if (reap_if_child(node.pid) || std::chrono::steady_clock::now() >= deadline) {
      return fail(fmt::format("node {} did not come back; the end of {}:\n{}", node.id,
                              state.log_path(node.id), tail_lines(state.log_path(node.id), 20)));
    }
    std::this_thread::sleep_for(100ms);  // polling another process
  }
  fmt::print("node {} restarted (pid {}, redis-cli -p {})\n", node.id, node.pid, node.client.port);
  return kClusterExitOk;
}

int run_ls(const ClusterCommand& command) {
  Result<ClusterState> loaded = load_cluster(command.dir);
  if (!loaded.ok()) return fail(loaded.error().context());
  const ClusterState& state = loaded.value();
  fmt::print("{:<5} {:>8} {:<8} {:<16} {:<16} {:<16} {}\n", "node", "pid", "state", "client",
             "raft", "admin", "log");
  for (const NodeRecord& node : state.nodes) {
    const bool alive = node_alive(state, node);
    fmt::print("{:<5} {:>8} {:<8} {:<16} {:<16} {:<16} {}\n", node.id,
               alive ? std::to_string(node.pid) : "-", alive ? "running" : "stopped",
               node.client.to_string(), node.peer.to_string(),
               node.admin.port == 0 ? "-" : node.admin.to_string(), state.log_path(node.id));
  }
  return kClusterExitOk;
}

void add_dir_option(CLI::App* command, ClusterCommand& options) {
  command->add_option("--dir", options.dir, "Cluster directory")->capture_default_str();
  command
      ->add_option("--grace", options.stop_grace_s,
                   "Seconds a node gets to stop after SIGTERM before SIGKILL")
      ->capture_default_str();
}

}  // namespace

void add_cluster_commands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ClusterCommand>();
  CLI::App* cluster = app.add_subcommand("cluster", "Run a local cluster of ringraft servers");
  cluster->require_subcommand(1);
  cluster->footer("Exit codes: 0 done, 1 failed, 2 usage.");
  // Resolved when a command runs: the nodes run this very build.
  const auto executable = [options]() -> bool {
    if (!options->server_executable.empty()) return true;
    Result<std::string> self = self_executable();
    if (!self.ok()) return false;
    options->server_executable = self.value();
    return true;
  };

  CLI::App* up = cluster->add_subcommand("up", "Start the nodes and wait for a leader");
  add_dir_option(up, *options);
  up->add_option("-n,--nodes", options->node_count, "Number of nodes")
      ->check(CLI::Range(1u, kNodeCountMax))
      ->capture_default_str();
  up->add_option("--base-port", options->base_port,
                 "Node N serves RESP on base+N, Raft on base+100+N, HTTP /metrics on base+200+N "
                 "(default: first free block "
                 "from 6380)");
  up->add_option("--fsync", options->fsync, "fsync the WAL before acknowledging")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  up->add_option("--wait", options->leader_wait_s, "Seconds to wait for a leader")
      ->capture_default_str();
  up->add_option("--server-exe", options->server_executable,
                 "Program run as `PROGRAM server --id ...` (default: this ringraft)")
      ->group("");  // hidden: tests put a stand-in server here
  up->callback([options, exit_code, executable] {
    *exit_code = executable() ? run_up(*options) : fail("cannot find this executable");
  });

  CLI::App* down = cluster->add_subcommand("down", "Stop every node (SIGTERM, then SIGKILL)");
  add_dir_option(down, *options);
  down->callback([options, exit_code] { *exit_code = run_down(*options); });

  CLI::App* kill = cluster->add_subcommand("kill", "Stop one node abruptly (SIGKILL by default)");
  add_dir_option(kill, *options);
  kill->add_option("node", options->node, "Node id, or 'leader'")->required();
  kill->add_option("--signal", options->signal_name, "kill (crash) or term (clean stop)")
      ->check(CLI::IsMember({"kill", "term"}))
      ->capture_default_str();
  kill->callback([options, exit_code] { *exit_code = on_named_node(*options, run_kill); });

  CLI::App* restart = cluster->add_subcommand("restart", "Stop a node if it runs, start it again");
  add_dir_option(restart, *options);
  restart->add_option("node", options->node, "Node id, or 'leader'")->required();
  restart->add_option("--wait", options->leader_wait_s, "Seconds to wait until it answers")
      ->capture_default_str();
  restart->callback([options, exit_code] { *exit_code = on_named_node(*options, run_restart); });

  CLI::App* ls = cluster->add_subcommand("ls", "List the nodes: pid, running or not, addresses");
  add_dir_option(ls, *options);
  ls->callback([options, exit_code] { *exit_code = run_ls(*options); });
}

}  // namespace ringraft::tools
