// N `ringraft server` children for process tests (see process_cluster.h).
#include "tests/support/process_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace ringraft::testing {

uint16_t pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

ProcessCluster::ProcessCluster(std::string binary, uint32_t nodes, std::string data_root,
                               std::vector<std::string> extra_args, uint32_t joining)
    : binary_(std::move(binary)),
      data_root_(std::move(data_root)),
      extra_args_(std::move(extra_args)),
      nodes_(nodes),
      joining_(joining) {
  for (uint32_t i = 0; i < nodes; ++i) {
    nodes_[i].raft_port = pick_free_port();
    nodes_[i].resp_port = pick_free_port();
    nodes_[i].admin_port = pick_free_port();
    const std::string id = std::to_string(i + 1);
    const std::string peer = id + "=127.0.0.1:" + std::to_string(nodes_[i].raft_port);
    const std::string client = id + "=127.0.0.1:" + std::to_string(nodes_[i].resp_port);
    all_peers_ += (i > 0 ? "," : "") + peer;
    all_clients_ += (i > 0 ? "," : "") + client;
    if (i + joining_ < nodes) {
      peers_ += (i > 0 ? "," : "") + peer;
      clients_ += (i > 0 ? "," : "") + client;
    }
  }
}

ProcessCluster::~ProcessCluster() {
  for (uint32_t node = 1; node <= size(); ++node) kill9(node);
}

std::string ProcessCluster::data_dir(uint32_t node) const {
  return data_root_ + "/node" + std::to_string(node);
}

std::vector<std::string> ProcessCluster::arguments(uint32_t node) const {
  const bool joins = node + joining_ > size();
  std::vector<std::string> args = {binary_,        "server",
                                   "--id",         std::to_string(node),
                                   "--peers",      joins ? all_peers_ : peers_,
                                   "--clients",    joins ? all_clients_ : clients_,
                                   "--port",       std::to_string(resp_port(node)),
                                   "--admin-port", std::to_string(admin_port(node)),
                                   "--data-dir",   data_dir(node)};
  if (joins) args.push_back("--join");
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  return args;
}

bool ProcessCluster::start(uint32_t node) {
  if (running(node)) return true;
  const std::vector<std::string> args = arguments(node);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const std::string log_path = data_root_ + "/node" + std::to_string(node) + ".log";
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return false;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The child: die with the test process; output to the log. Only async-signal-safe calls.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid < 0) return false;
  nodes_[node - 1].pid = pid;
  return true;
}

bool ProcessCluster::start_all() {
  bool ok = true;
  for (uint32_t node = 1; node <= size(); ++node) ok = start(node) && ok;
  return ok;
}

void ProcessCluster::kill9(uint32_t node) {
  Node& child = nodes_[node - 1];
  if (child.pid <= 0) return;
  ::kill(child.pid, SIGKILL);
  ::waitpid(child.pid, nullptr, 0);
  child.pid = -1;
}

int ProcessCluster::terminate(uint32_t node, std::chrono::milliseconds limit) {
  Node& child = nodes_[node - 1];
  if (child.pid <= 0) return -1;
  ::kill(child.pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t done = ::waitpid(child.pid, &status, WNOHANG);
    if (done == child.pid) {
      child.pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    // Polling a child's exit: waitpid has no timeout, and the bound is what matters here.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9(node);
  return -1;
}

std::string ProcessCluster::log(uint32_t node) const {
  std::ifstream file(data_root_ + "/node" + std::to_string(node) + ".log");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::optional<std::string> ProcessCluster::command(uint32_t node,
                                                   const std::vector<std::string>& arguments) {
  RespClient client;
  if (!client.connect(resp_port(node))) return std::nullopt;
  return client.command(arguments);
}

std::optional<std::string> ProcessCluster::info_field(uint32_t node, const std::string& field) {
  const std::optional<std::string> reply = command(node, {"INFO"});
  if (!reply) return std::nullopt;
  const std::string key = "\r\n" + field + ":";
  const size_t at = reply->find(key);
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + key.size();
  return reply->substr(start, reply->find("\r\n", start) - start);
}

std::optional<uint32_t> ProcessCluster::wait_leader(std::chrono::milliseconds limit,
                                                    uint32_t not_node) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<uint32_t> agreed;
    bool all_agree = true;
    for (uint32_t node = 1; node <= size() && all_agree; ++node) {
      if (!running(node)) continue;
      const std::optional<std::string> leader = info_field(node, "raft_leader");
      if (!leader || *leader == "0" || (agreed && std::to_string(*agreed) != *leader)) {
        all_agree = false;
        break;
      }
      agreed = static_cast<uint32_t>(std::stoul(*leader));
    }
    if (all_agree && agreed && *agreed != not_node && running(*agreed) &&
        info_field(*agreed, "role") == std::optional<std::string>("master")) {
      return agreed;
    }
    // INFO is polled: elections are not observable from outside any other way.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

}  // namespace ringraft::testing
