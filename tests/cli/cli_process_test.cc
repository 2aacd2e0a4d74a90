// The operator commands as a user runs them: `ringraft bench` against redis-server, a 3-node
// `ringraft cluster up`, `status`, `kill`, `restart` and `down` leaving no process behind.
// The cluster runs `ringraft server` when this build has it, otherwise tests/cli/stub_server.sh
// (redis-server behind the same flags); the suites skip when neither can run.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/temp_dir.h"
#include "tools/cli/cluster_state.h"
#include "tools/cli/info_client.h"
#include "tools/cli/process.h"

namespace ringraft::tools {
namespace {

using namespace std::chrono_literals;

struct CommandRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command bounded by `timeout` seconds, so that a hang fails instead of hanging.
CommandRun run(const std::string& command, int timeout_s = 120) {
  CommandRun result;
  const std::string bounded = "timeout " + std::to_string(timeout_s) + " " + command + " 2>&1";
  FILE* pipe = ::popen(bounded.c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  for (size_t got; (got = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0;)
    result.output.append(chunk, got);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool on_path(const std::string& tool) {
  std::istringstream path(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "");
  for (std::string dir; std::getline(path, dir, ':');) {
    if (::access((dir + "/" + tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string cli() {
  return RINGRAFT_CLI_PATH;
}

// Processes whose command line mentions `needle`: what a test must not leave behind.
std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (const dirent* entry = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::strtol(entry->d_name, nullptr, 10));
    if (pid <= 0 || pid == ::getpid()) continue;
    if (node_process_alive(pid, needle)) found.push_back(pid);
  }
  ::closedir(proc);
  return found;
}

// A free port for a redis-server of our own.
uint16_t free_port(uint16_t from) {
  for (uint16_t port = from; port < from + 1000; ++port) {
    if (port_free(port)) return port;
  }
  return 0;
}

// A base port for `cluster up -n 3` that no other test process starts from. Slots are picked
// by pid; a slot's client ports (base+1..base+9), Raft ports (base+101..base+109) and admin
// ports (base+201..base+209) never overlap another slot's, and a slot whose ports are taken
// right now is passed over.
uint16_t private_base_port() {
  constexpr uint32_t kSlots = 400;
  for (uint32_t attempt = 0; attempt < kSlots; ++attempt) {
    const uint32_t slot = (static_cast<uint32_t>(::getpid()) + attempt * 7) % kSlots;
    const uint32_t base = 10000 + 300 * (slot / 10) + 10 * (slot % 10);
    bool all_free = true;
    for (uint32_t id = 1; id <= 3; ++id) {
      all_free = all_free && port_free(static_cast<uint16_t>(base + id)) &&
                 port_free(static_cast<uint16_t>(base + 100 + id)) &&
                 port_free(static_cast<uint16_t>(base + 200 + id));
    }
    if (all_free) return static_cast<uint16_t>(base);
  }
  return 0;
}

class RedisServer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!on_path("redis-server"))
      GTEST_SKIP() << "redis-server not installed (apt-get install redis-server)";
    // Tests run in parallel (ctest -j): a port seen free may be taken by another test's
    // redis-server before ours binds it, so the server we reach must say it is ours.
    for (int attempt = 0; attempt < 5 && pid_ == 0; ++attempt) {
      start_redis(
          free_port(static_cast<uint16_t>(21000 + (::getpid() * 37 + attempt * 101) % 20000)));
    }
    ASSERT_NE(pid_, 0) << "redis-server did not start on a port of its own";
  }
  // Starts redis-server on `port`; pid_ stays 0 unless the server answering there is ours.
  void start_redis(uint16_t port) {
    ASSERT_NE(port, 0);
    Result<pid_t> pid =
        spawn_detached("/usr/bin/env",
                       {"redis-server", "--bind", "127.0.0.1", "--port", std::to_string(port),
                        "--dir", dir_.path(), "--save", "", "--appendonly", "yes", "--appendfsync",
                        "always", "--set-proc-title", "no"},
                       dir_.file("redis.log"));
    ASSERT_TRUE(pid.ok());
    Endpoint endpoint;
    endpoint.port = port;
    for (int attempt = 0; attempt < 100 && !call_once(endpoint, {"PING"}, 200ms).ok(); ++attempt) {
      if (::waitpid(pid.value(), nullptr, WNOHANG) == pid.value()) return;  // it exited: port taken
      std::this_thread::sleep_for(50ms);  // waiting for another process to listen
    }
    const Result<std::string> info = call_once(endpoint, {"INFO", "server"}, 1000ms);
    if (info.ok() &&
        info_value(parse_info(info.value()), "process_id") == std::to_string(pid.value())) {
      port_ = port;
      pid_ = pid.value();
      return;
    }
    ::kill(pid.value(), SIGKILL);  // someone else's server answered; ours cannot bind
    ::waitpid(pid.value(), nullptr, 0);
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  ringraft::testing::TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = 0;
};

TEST_F(RedisServer, BenchJsonParsesAndCountsEveryRequest) {
  const std::string json = dir_.file("bench.json");
  const CommandRun bench =
      run(cli() + " bench --port " + std::to_string(port_) +
          " --requests 4000 --connections 4 --pipeline 8 --keys 100 --ratio 1:1 --seed 7" +
          " --no-progress --json " + json);
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("SET"), std::string::npos) << bench.output;
  EXPECT_NE(bench.output.find("p99 ms"), std::string::npos) << bench.output;
  const CommandRun parsed = run("python3 -c \"import json,sys; d=json.load(open('" + json +
                                "')); a=d['all']; print(a['requests'], a['errors'], "
                                "d['ops']['set']['requests']>0, d['ops']['get']['requests']>0, "
                                "a['latency_us']['p99']>0, d['settings']['seed'])\"");
  ASSERT_EQ(parsed.exit_code, 0) << parsed.output;
  EXPECT_EQ(parsed.output, "4000 0 True True True 7\n");
}

TEST_F(RedisServer, BenchCountsErrorRepliesAndGoesOn) {
  // A read-only replica refuses writes: every SET is an error reply, every GET succeeds.
  Endpoint endpoint;
  endpoint.port = port_;
  ASSERT_TRUE(call_once(endpoint, {"REPLICAOF", "127.0.0.1", "1"}, 1000ms).ok());
  const std::string json = dir_.file("errors.json");
  const CommandRun bench = run(cli() + " bench --port " + std::to_string(port_) +
                               " --requests 1000 --connections 2 --no-progress --json " + json);
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  const CommandRun parsed =
      run("python3 -c \"import json; d=json.load(open('" + json +
          "')); s=d['ops']['set']; g=d['ops']['get']; "
          "print(s['errors']==s['requests']>0, g['errors']==0, len(d['errors']))\"");
  EXPECT_EQ(parsed.output, "True True 1\n") << bench.output;
}

TEST(Bench, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run(cli() + " bench --port 1 --ratio 1:x").exit_code, 2);
  EXPECT_EQ(run(cli() + " bench --port 1 --connections 0").exit_code, 2);
  EXPECT_EQ(run(cli() + " bench").exit_code, 2);
}

TEST(Bench, UnreachableServerFailsFast) {
  const uint16_t port = free_port(22000);
  const auto started = std::chrono::steady_clock::now();
  const CommandRun bench = run(cli() + " bench --port " + std::to_string(port) + " --duration 1");
  EXPECT_EQ(bench.exit_code, 1) << bench.output;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

// A 3-node cluster in a temp dir, stopped (and checked for strays) at the end of each test.
class LocalCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run(cli() + " --help", 10).output.find("\n  server ") != std::string::npos) {
      server_flag_ = "";
    } else if (on_path("redis-server")) {
      server_flag_ = std::string(" --server-exe ") + RINGRAFT_STUB_SERVER;
    } else {
      GTEST_SKIP() << "neither `ringraft server` nor redis-server is available";
    }
    dir_flag_ = " --dir " + dir_.path() + "/cluster";
    // Tests run in parallel (ctest -j). Each cluster gets ports of its own instead of the
    // default search from 6380: a cluster that is down for a moment frees ports that another
    // test's `up` would otherwise take, and the restart from the data would find them in use.
    const uint16_t base = private_base_port();
    ASSERT_NE(base, 0) << "no free block of ports for the cluster";
    const CommandRun up = run(cli() + " cluster up -n 3 --wait 60 --base-port " +
                              std::to_string(base) + dir_flag_ + server_flag_);
    ASSERT_EQ(up.exit_code, 0) << up.output;
    EXPECT_NE(up.output.find("redis-cli -p"), std::string::npos) << up.output;
    Result<ClusterState> state = load_cluster(dir_.path() + "/cluster");
    ASSERT_TRUE(state.ok());
    state_ = state.value();
  }
  void TearDown() override {
    if (state_.nodes.empty()) return;
    const CommandRun down = run(cli() + " cluster down" + dir_flag_);
    EXPECT_EQ(down.exit_code, 0) << down.output;
    EXPECT_TRUE(processes_mentioning(dir_.path()).empty()) << "stray node processes";
  }
  ringraft::testing::TempDir dir_;
  std::string server_flag_;
  std::string dir_flag_;
  ClusterState state_;
};

TEST_F(LocalCluster, UpStartsEveryNodeAndRefusesASecondUp) {
  ASSERT_EQ(state_.nodes.size(), 3u);
  for (const NodeRecord& node : state_.nodes) {
    EXPECT_TRUE(node_process_alive(node.pid, state_.data_dir(node.id))) << node.id;
    EXPECT_TRUE(call_once(node.client, {"PING"}, 1000ms).ok()) << node.id;
  }
  const CommandRun again = run(cli() + " cluster up -n 3" + dir_flag_ + server_flag_);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("a cluster is running"), std::string::npos) << again.output;
}

TEST_F(LocalCluster, DownLeavesNoProcessAndUpRestartsFromTheData) {
  const CommandRun down = run(cli() + " cluster down" + dir_flag_);
  ASSERT_EQ(down.exit_code, 0) << down.output;
  EXPECT_TRUE(processes_mentioning(dir_.path()).empty());
  const CommandRun up = run(cli() + " cluster up -n 3 --wait 60" + dir_flag_ + server_flag_);
  ASSERT_EQ(up.exit_code, 0) << up.output;
  Result<ClusterState> again = load_cluster(dir_.path() + "/cluster");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().nodes[0].client.port, state_.nodes[0].client.port);
}

TEST_F(LocalCluster, StatusShowsEveryNodeUp) {
  const CommandRun status = run(cli() + " status" + dir_flag_);
  ASSERT_EQ(status.exit_code, 0) << status.output;
  std::istringstream lines(status.output);
  size_t rows_up = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string id, address, state;
    words >> id >> address >> state;
    const NodeRecord* node =
        state_.find(static_cast<uint32_t>(std::strtoul(id.c_str(), nullptr, 10)));
    if (node != nullptr && address == node->client.to_string() && state == "up") rows_up += 1;
  }
  EXPECT_EQ(rows_up, 3u) << status.output;
  const CommandRun watch = run(cli() + " status --watch --count 2 --interval 0.2" + dir_flag_);
  ASSERT_EQ(watch.exit_code, 0) << watch.output;
  EXPECT_NE(watch.output.find("ops/s"), std::string::npos) << watch.output;
}

TEST_F(LocalCluster, StatusJsonHasEveryFieldForEveryNode) {
  const std::string json = dir_.file("status.json");
  // Every field is present on every node; from `ringraft server` (not the Redis stand-in) the
  // Raft ones have values. A node that has not heard from the leader yet (an election still
  // going on a loaded machine) has none to report: the status is asked again, a bounded number
  // of times, until every node names one.
  const std::string fields =
      "['node','address','up','role','term','leader','commit','applied','log_size_bytes',"
      "'snapshot_size_bytes','ops_per_second','latency_p50_us','latency_p99_us','elections',"
      "'rpc_errors','fsyncs_per_second','entries_per_fsync']";
  const std::string valued = server_flag_.empty()
                                 ? "['role','term','leader','commit','applied','log_size_bytes',"
                                   "'elections','rpc_errors','fsyncs_per_second']"
                                 : "['role']";
  CommandRun parsed;
  for (int attempt = 0; attempt < 20; attempt++) {
    const CommandRun status = run(cli() + " status --json" + dir_flag_);
    ASSERT_EQ(status.exit_code, 0) << status.output;
    std::ofstream(json) << status.output;
    parsed = run("python3 -c \"import json; d=json.load(open('" + json + "')); f=" + fields +
                 "; v=" + valued +
                 "; print(len(d), all(all(k in n for k in f) and n['up'] and "
                 "all(n[k] is not None for k in v) for n in d))\"");
    if (parsed.output == "3 True\n") break;
    std::this_thread::sleep_for(250ms);  // no event to wait on from outside the processes
  }
  EXPECT_EQ(parsed.output, "3 True\n") << parsed.output << std::ifstream(json).rdbuf();
}

TEST_F(LocalCluster, UpAndLsNameTheAdminPortsThatServeMetrics) {
  const CommandRun listed = run(cli() + " cluster ls" + dir_flag_);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  for (const NodeRecord& node : state_.nodes) {
    ASSERT_NE(node.admin.port, 0) << node.id;
    EXPECT_NE(listed.output.find(node.admin.to_string()), std::string::npos) << listed.output;
  }
  if (!server_flag_.empty()) GTEST_SKIP() << "the Redis stand-in has no admin port";
  const CommandRun metrics =
      run("python3 -c \"import urllib.request as u; print(u.urlopen('http://" +
          state_.nodes[0].admin.to_string() + "/metrics', timeout=10).read().decode())\"");
  EXPECT_NE(metrics.output.find("ringraft_term{node=\"1\"}"), std::string::npos) << metrics.output;
}

TEST_F(LocalCluster, KillThenRestartBringsTheNodeBack) {
  const CommandRun kill = run(cli() + " cluster kill 2" + dir_flag_);
  ASSERT_EQ(kill.exit_code, 0) << kill.output;
  EXPECT_FALSE(node_process_alive(state_.nodes[1].pid, state_.data_dir(2)));
  const CommandRun listed = run(cli() + " cluster ls" + dir_flag_);
  EXPECT_NE(listed.output.find("stopped"), std::string::npos) << listed.output;
  const CommandRun status = run(cli() + " status" + dir_flag_);
  EXPECT_EQ(status.exit_code, 0);  // the others answer
  EXPECT_NE(status.output.find("down"), std::string::npos) << status.output;
  const CommandRun restart = run(cli() + " cluster restart 2" + dir_flag_);
  ASSERT_EQ(restart.exit_code, 0) << restart.output;
  EXPECT_TRUE(call_once(state_.nodes[1].client, {"PING"}, 1000ms).ok());
}

TEST_F(LocalCluster, BenchDrivesTheClusterAndWritesJson) {
  const std::string json = dir_.file("cluster.json");
  const CommandRun bench =
      run(cli() + " bench --cluster " + dir_.path() + "/cluster" +
          " --requests 2000 --connections 4 --pipeline 4 --no-progress --json " + json);
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  const CommandRun parsed = run("python3 -c \"import json; d=json.load(open('" + json +
                                "')); print(d['all']['requests'])\"");
  EXPECT_EQ(parsed.output, "2000\n") << bench.output;
}

}  // namespace
}  // namespace ringraft::tools
