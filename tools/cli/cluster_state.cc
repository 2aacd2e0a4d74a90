#include "tools/cli/cluster_state.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "tools/cli/bench_report.h"

namespace ringraft::tools {

namespace {

constexpr const char* kHeader = "ringraft-cluster";

Error bad_state(const std::string& path, const std::string& what) {
  return Error(ErrorCode::kInvalidInput,
               fmt::format("{}: {} (remove the directory if no node runs from it)", path, what));
}

// "key=value" -> value, when `word` starts with `key=`.
bool take_field(const std::string& word, std::string_view key, std::string& value) {
  if (word.size() <= key.size() || word.compare(0, key.size(), key) != 0 ||
      word[key.size()] != '=') {
    return false;
  }
  value = word.substr(key.size() + 1);
  return true;
}

Result<NodeRecord> parse_node(std::istringstream& words, const std::string& path) {
  NodeRecord node;
  std::string word;
  std::string value;
  if (!(words >> node.id) || node.id == 0) return bad_state(path, "a node line without an id");
  bool have_client = false;
  bool have_peer = false;
  while (words >> word) {
    if (take_field(word, "pid", value)) {
      node.pid = static_cast<pid_t>(std::strtol(value.c_str(), nullptr, 10));
    } else if (take_field(word, "client", value)) {
      Result<Endpoint> endpoint = parse_endpoint(value);
      if (!endpoint.ok()) return bad_state(path, endpoint.error().context());
      node.client = endpoint.value();
      have_client = true;
    } else if (take_field(word, "peer", value)) {
      Result<Endpoint> endpoint = parse_endpoint(value);
      if (!endpoint.ok()) return bad_state(path, endpoint.error().context());
      node.peer = endpoint.value();
      have_peer = true;
    } else if (take_field(word, "admin", value)) {
      Result<Endpoint> endpoint = parse_endpoint(value);
      if (!endpoint.ok()) return bad_state(path, endpoint.error().context());
      node.admin = endpoint.value();
    }
  }
  if (!have_client || !have_peer) return bad_state(path, "a node line without client= or peer=");
  return node;
}

}  // namespace

NodeRecord* ClusterState::find(uint32_t id) {
  for (NodeRecord& node : nodes) {
    if (node.id == id) return &node;
  }
  return nullptr;
}

std::string ClusterState::peers_flag() const {
  std::string flag;
  for (const NodeRecord& node : nodes) {
    flag += fmt::format("{}{}={}", flag.empty() ? "" : ",", node.id, node.peer.to_string());
  }
  return flag;
}

std::string ClusterState::clients_flag() const {
  std::string flag;
  for (const NodeRecord& node : nodes) {
    flag += fmt::format("{}{}={}", flag.empty() ? "" : ",", node.id, node.client.to_string());
  }
  return flag;
}

Result<ClusterState> load_cluster(const std::string& dir) {
  ClusterState state;
  state.dir = dir;
  const std::string path = state.file_path();
  std::ifstream in(path);
  if (!in) return Error(ErrorCode::kNotFound, "no cluster in " + dir + " (no " + path + ")");
  std::string line;
  if (!std::getline(in, line) || line.rfind(kHeader, 0) != 0) {
    return bad_state(path, "not a ringraft cluster state file");
  }
  state.fsync = line.find("fsync=off") == std::string::npos;
  const size_t exe = line.find(" exe=");
  if (exe != std::string::npos) state.server_executable = line.substr(exe + 5);
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind;
    if (!(words >> kind) || kind[0] == '#') continue;
    if (kind != "node") return bad_state(path, "unknown line '" + line + "'");
    Result<NodeRecord> node = parse_node(words, path);
    if (!node.ok()) return node.error();
    state.nodes.push_back(node.value());
  }
  if (state.nodes.empty()) return bad_state(path, "no nodes");
  return state;
}

Result<void> save_cluster(const ClusterState& state) {
  std::string text = fmt::format("{} 1 fsync={}", kHeader, state.fsync ? "on" : "off");
  if (!state.server_executable.empty()) text += " exe=" + state.server_executable;
  text += "\n";
  for (const NodeRecord& node : state.nodes) {
    text += fmt::format("node {} pid={} client={} peer={}", node.id, node.pid,
                        node.client.to_string(), node.peer.to_string());
    if (node.admin.port != 0) text += " admin=" + node.admin.to_string();
    text += "\n";
  }
  return write_file(state.file_path(), text);
}

bool node_process_alive(pid_t pid, const std::string& data_dir) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string stat_line;
  if (!std::getline(stat, stat_line)) return false;
  // The state follows the command name in parentheses, which may itself hold spaces.
  const size_t name_end = stat_line.rfind(')');
  if (name_end == std::string::npos || name_end + 2 >= stat_line.size()) return false;
  const char process_state = stat_line[name_end + 2];
  if (process_state == 'Z' || process_state == 'X') return false;
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  const std::string arguments((std::istreambuf_iterator<char>(cmdline)),
                              std::istreambuf_iterator<char>());
  return arguments.find(data_dir) != std::string::npos;
}

std::vector<Endpoint> leader_first(const std::vector<Endpoint>& endpoints) {
  std::vector<Endpoint> ordered = endpoints;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    Result<std::string> info = call_once(endpoints[i], {"INFO"}, std::chrono::milliseconds(1000));
    if (!info.ok()) continue;
    const std::vector<InfoField> fields = parse_info(info.value());
    if (info_value(fields, "role") == "master" || info_value(fields, "raft_role") == "leader") {
      std::rotate(ordered.begin(), ordered.begin() + static_cast<ptrdiff_t>(i),
                  ordered.begin() + static_cast<ptrdiff_t>(i) + 1);
      break;
    }
  }
  return ordered;
}

}  // namespace ringraft::tools
