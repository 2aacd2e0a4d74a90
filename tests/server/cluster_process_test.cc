// `ringraft server` as real processes on loopback (ProcessCluster): election, replication,
// forwarding, linearizable reads on every node, kill -9 of the leader under load, restarts,
// five nodes, redis-cli and redis-benchmark, and the command line's refusals.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "tests/support/process_cluster.h"
#include "tests/support/resp_client.h"
#include "tests/support/temp_dir.h"

namespace ringraft::testing {
namespace {

const std::string kBinary = RINGRAFT_BINARY;

// Every node answers GET key (linearizable by default) with `value`.
void expect_value_everywhere(ProcessCluster& cluster, const std::string& key,
                             const std::string& value) {
  for (uint32_t node = 1; node <= cluster.size(); ++node) {
    if (!cluster.running(node)) continue;
    const std::optional<std::string> reply = cluster.command(node, {"GET", key});
    ASSERT_TRUE(reply.has_value()) << "node " << node << " did not answer\n" << cluster.log(node);
    EXPECT_EQ(bulk_value(*reply), std::optional<std::string>(value))
        << "node " << node << " key " << key << " reply " << *reply;
  }
}

TEST(ServerProcess, ThreeNodesElectAndReplicate) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path());
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value()) << cluster.log(1);
  EXPECT_EQ(cluster.command(*leader, {"SET", "greeting", "hello"}), "+OK\r\n");
  expect_value_everywhere(cluster, "greeting", "hello");
  EXPECT_EQ(cluster.info_field(*leader, "reads"), "linearizable");
  const uint32_t follower = *leader % 3 + 1;
  EXPECT_EQ(cluster.info_field(follower, "role"), "slave");
  EXPECT_EQ(cluster.info_field(follower, "raft_leader_addr"),
            "127.0.0.1:" + std::to_string(cluster.resp_port(*leader)));
  for (uint32_t node = 1; node <= 3; ++node) EXPECT_EQ(cluster.terminate(node), 0) << node;
}

bool has_snapshot_file(const std::string& data_dir) {
  const std::filesystem::path wal = std::filesystem::path(data_dir) / "wal";
  if (!std::filesystem::exists(wal)) return false;
  for (const auto& entry : std::filesystem::directory_iterator(wal)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("snapshot-") && name.ends_with(".snap")) return true;
  }
  return false;
}

// DISABLED: fails today over TCP. The restarted node's engine takes one Ready (the snapshot's)
// and no more (RINGRAFT.STATUS: engine_readies 1, wal_records_appended 0, inbound messages
// keep arriving): the install never completes, while the same scenario in one process
// (Snapshot.FollowerDownSinceTheStartCatchesUpThroughAutomaticSnapshots) passes. To find
// between the TransportBus path and install_snapshot (raft/replica/shard_engine_snapshot.cc).
TEST(ServerProcess, NodeBehindTheCompactionPointCatchesUpFromASnapshot) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path(), {"--snapshot-entries", "20"});
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value());
  const uint32_t behind = *leader % 3 + 1;
  EXPECT_EQ(cluster.terminate(behind), 0);
  for (int i = 0; i < 80; ++i) {
    ASSERT_EQ(cluster.command(*leader, {"SET", "k" + std::to_string(i), "v" + std::to_string(i)}),
              "+OK\r\n")
        << i;
  }
  EXPECT_TRUE(has_snapshot_file(cluster.data_dir(*leader))) << cluster.log(*leader);
  ASSERT_TRUE(cluster.start(behind));

  // It reaches the leader's commit through the leader's snapshot (the log before it is gone):
  // until then it is starting, or its reads are not served yet. Bounded.
  std::optional<std::string> caught_up;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (caught_up != std::optional<std::string>("v79") &&
         std::chrono::steady_clock::now() < deadline) {
    caught_up = bulk_value(cluster.command(behind, {"GET", "k79"}).value_or(""));
  }
  ASSERT_EQ(caught_up, std::optional<std::string>("v79")) << cluster.log(behind);
  expect_value_everywhere(cluster, "k79", "v79");
  expect_value_everywhere(cluster, "k0", "v0");
  EXPECT_TRUE(has_snapshot_file(cluster.data_dir(behind))) << cluster.log(behind) << "\nleader:\n"
                                                           << cluster.log(*leader);
  EXPECT_EQ(cluster.command(*leader, {"SET", "after", "1"}), "+OK\r\n");
  expect_value_everywhere(cluster, "after", "1");
}

TEST(ServerProcess, WriteThroughAFollowerIsVisibleOnEveryNode) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path());
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value());
  const uint32_t follower = *leader % 3 + 1;
  RespClient client;
  ASSERT_TRUE(client.connect(cluster.resp_port(follower)));
  // A pipeline through the follower: forwarded in order, replies in order.
  const auto replies = client.pipeline(
      {{"SET", "k", "1"}, {"INCR", "k"}, {"INCR", "k"}, {"GET", "k"}, {"DEL", "k", "x"}});
  ASSERT_TRUE(replies.has_value());
  EXPECT_EQ((*replies)[0], "+OK\r\n");
  EXPECT_EQ((*replies)[1], ":2\r\n");
  EXPECT_EQ((*replies)[2], ":3\r\n");
  EXPECT_EQ((*replies)[3], "$1\r\n3\r\n");  // the follower's own read sees the forwarded write
  EXPECT_EQ((*replies)[4], ":1\r\n");
  EXPECT_EQ(client.command({"SET", "k", "after"}), "+OK\r\n");
  expect_value_everywhere(cluster, "k", "after");
}

TEST(ServerProcess, RedirectModeNamesTheLeader) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path(), {"--redirect"});
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value());
  const uint32_t follower = *leader % 3 + 1;
  EXPECT_EQ(cluster.command(follower, {"SET", "k", "v"}),
            "-ERR not leader, leader is node " + std::to_string(*leader) +
                " at 127.0.0.1:" + std::to_string(cluster.resp_port(*leader)) + "\r\n");
}

// Writes keys through `node` until `count` were acknowledged or the deadline passed; records
// the acknowledged ones. Errors (a leader change: "outcome unknown") are retried with a new key.
void write_keys(ProcessCluster& cluster, uint32_t node, const std::string& prefix, int count,
                std::map<std::string, std::string>& acknowledged) {
  RespClient client;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int attempt = 0;
  while (static_cast<int>(acknowledged.size()) < count &&
         std::chrono::steady_clock::now() < deadline) {
    if (!client.connected() && !client.connect(cluster.resp_port(node))) continue;
    const std::string key = prefix + std::to_string(attempt);
    const std::string value = "v" + std::to_string(attempt++);
    const std::optional<std::string> reply = client.command({"SET", key, value});
    if (reply == std::optional<std::string>("+OK\r\n")) acknowledged[key] = value;
  }
}

// One pipeline of GETs (one read barrier) on `node`: every acknowledged write is there.
void expect_all_readable(ProcessCluster& cluster, uint32_t node,
                         const std::map<std::string, std::string>& acknowledged) {
  std::vector<std::vector<std::string>> reads;
  for (const auto& [key, value] : acknowledged) reads.push_back({"GET", key});
  RespClient reader;
  ASSERT_TRUE(reader.connect(cluster.resp_port(node)));
  const auto replies = reader.pipeline(reads);
  ASSERT_TRUE(replies.has_value()) << "node " << node;
  size_t i = 0;
  for (const auto& [key, value] : acknowledged) {
    EXPECT_EQ(bulk_value((*replies)[i++]), value) << "node " << node << " key " << key;
  }
}

TEST(ServerProcess, KillingTheLeaderLosesNoAcknowledgedWriteAndTheNodeCatchesUp) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path());
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value());
  const uint32_t writer = *leader % 3 + 1;  // a follower: it survives the kill
  std::map<std::string, std::string> acknowledged;
  const auto started = std::chrono::steady_clock::now();
  const auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started)
        .count();
  };
  write_keys(cluster, writer, "before:", 100, acknowledged);
  // The load runs on while the leader dies: kill it from another thread mid-way.
  std::thread killer([&] {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(50));  // a point in the load, not an event
    cluster.kill9(*leader);
  });
  write_keys(cluster, writer, "during:", 200, acknowledged);
  killer.join();
  std::printf("leader %u killed; %zu writes acknowledged after %lld ms\n", *leader,
              acknowledged.size(), static_cast<long long>(elapsed_ms()));
  const std::optional<uint32_t> next = cluster.wait_leader(std::chrono::seconds(20), *leader);
  ASSERT_TRUE(next.has_value());
  write_keys(cluster, writer, "after:", 300, acknowledged);
  ASSERT_GE(acknowledged.size(), 300u);
  std::printf("new leader %u; %zu writes acknowledged after %lld ms\n", *next, acknowledged.size(),
              static_cast<long long>(elapsed_ms()));
  expect_all_readable(cluster, *next, acknowledged);
  // The killed node restarts from its WAL and catches up: a linearizable read there sees all.
  ASSERT_TRUE(cluster.start(*leader));
  ASSERT_TRUE(cluster.wait_leader().has_value());
  RespClient restarted;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!restarted.connect(cluster.resp_port(*leader)) &&
         std::chrono::steady_clock::now() < deadline) {
  }
  ASSERT_TRUE(restarted.connected()) << cluster.log(*leader);
  expect_all_readable(cluster, *leader, acknowledged);
}

TEST(ServerProcess, FullRestartKeepsValues) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path());
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value());
  RespClient client;
  ASSERT_TRUE(client.connect(cluster.resp_port(*leader)));
  std::vector<std::vector<std::string>> writes;
  for (int i = 0; i < 100; ++i)
    writes.push_back({"SET", "key" + std::to_string(i), std::to_string(i)});
  const auto replies = client.pipeline(writes);
  ASSERT_TRUE(replies.has_value());
  for (const std::string& reply : *replies) EXPECT_EQ(reply, "+OK\r\n");
  client.close();
  for (uint32_t node = 1; node <= 3; ++node) EXPECT_EQ(cluster.terminate(node), 0);
  ASSERT_TRUE(cluster.start_all());
  ASSERT_TRUE(cluster.wait_leader().has_value());
  expect_value_everywhere(cluster, "key0", "0");
  expect_value_everywhere(cluster, "key99", "99");
}

TEST(ServerProcess, FiveNodesElectAndReplicate) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 5, dir.path());
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value());
  EXPECT_EQ(cluster.command(*leader % 5 + 1, {"MSET", "a", "1", "b", "2"}), "+OK\r\n");
  expect_value_everywhere(cluster, "a", "1");
  expect_value_everywhere(cluster, "b", "2");
  // Two nodes down: the other three are still a quorum.
  cluster.kill9(*leader % 5 + 1);
  cluster.kill9((*leader + 1) % 5 + 1);
  const std::optional<uint32_t> after = cluster.wait_leader();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(cluster.command(*after, {"SET", "a", "3"}), "+OK\r\n");
  expect_value_everywhere(cluster, "a", "3");
}

bool have_redis_tools() {
  return std::system("command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null") ==
         0;
}

int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ServerProcess, RedisCliAndRedisBenchmarkWork) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-tools is not installed";
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path());
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value());
  const uint32_t follower = *leader % 3 + 1;
  const std::string cli = "timeout 20 redis-cli -p ";
  EXPECT_EQ(run_shell(cli + std::to_string(cluster.resp_port(follower)) +
                      " SET tool value | grep -qx OK"),
            0);
  EXPECT_EQ(
      run_shell(cli + std::to_string(cluster.resp_port(*leader)) + " GET tool | grep -qx value"),
      0);
  for (const uint32_t node : {*leader, follower}) {
    EXPECT_EQ(
        run_shell("timeout 60 redis-benchmark -q -p " + std::to_string(cluster.resp_port(node)) +
                  " -t set,get -n 2000 -c 10 -P 8 -d 100 > " + dir.path() + "/bench" +
                  std::to_string(node) + ".txt"),
        0)
        << node;
  }
  // redis-benchmark's SET writes the key "key:__rand_int__" with 100 bytes of its own choosing.
  const std::optional<std::string> written =
      bulk_value(cluster.command(*leader, {"GET", "key:__rand_int__"}).value_or(""));
  ASSERT_TRUE(written.has_value());
  EXPECT_EQ(written->size(), 100u);
  expect_value_everywhere(cluster, "key:__rand_int__", *written);
}

int run_server_with(const std::string& arguments) {
  return run_shell(kBinary + " server " + arguments + " >/dev/null 2>&1");
}

TEST(ServerProcess, BadFlagsExitWithUsageErrors) {
  TempDir dir;
  const std::string peers = " --peers 1=127.0.0.1:" + std::to_string(pick_free_port());
  EXPECT_EQ(run_server_with("--id 2" + peers + " --data-dir " + dir.path()), 2);  // not a member
  EXPECT_EQ(run_server_with("--id 1" + peers), 2);                                // no data dir
  EXPECT_EQ(run_server_with("--id 1 --peers 1=nohost:1 --data-dir " + dir.path()), 2);
  EXPECT_EQ(run_server_with("--id 1" + peers + " --fsync maybe --data-dir " + dir.path()), 2);
  EXPECT_EQ(run_server_with("--id 1" + peers + " --fsyncs-in-flight 0 --data-dir " + dir.path()),
            2);
  EXPECT_EQ(run_server_with("--id 1" + peers + " --fsyncs-in-flight 17 --data-dir " + dir.path()),
            2);
  EXPECT_EQ(run_server_with("--id 1" + peers + " --wal-io async --data-dir " + dir.path()), 2);
  EXPECT_EQ(run_server_with("--no-such-flag"), 2);
}

TEST(ServerProcess, APortInUseIsNamed) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 1, dir.path());
  ASSERT_TRUE(cluster.start(1));
  ASSERT_TRUE(cluster.wait_leader().has_value());
  // A second server on the same RESP port is refused with the port in the message.
  const std::string port = std::to_string(cluster.resp_port(1));
  const std::string out = dir.path() + "/second.txt";
  EXPECT_EQ(run_shell(kBinary + " server --id 1 --peers 1=127.0.0.1:" +
                      std::to_string(pick_free_port()) + " --port " + port +
                      " --admin-port 0 --data-dir " + dir.path() + "/second > " + out + " 2>&1"),
            1);
  EXPECT_EQ(run_shell("grep -q 'RESP port (--port) 127.0.0.1:" + port + "' " + out), 0);
}

TEST(ServerProcess, FsyncOffWarnsAndNeverFlushes) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 1, dir.path(), {"--fsync", "off"});
  ASSERT_TRUE(cluster.start(1));
  ASSERT_TRUE(cluster.wait_leader().has_value());
  EXPECT_EQ(cluster.command(1, {"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(bulk_value(cluster.command(1, {"GET", "k"}).value_or("")), "v");
  const std::string status = cluster.command(1, {"RINGRAFT.STATUS"}).value_or("");
  EXPECT_NE(status.find("\r\nwal_fsyncs:0\r\n"), std::string::npos) << status;
  EXPECT_NE(status.find("\r\nwal_batches_durable:"), std::string::npos) << status;
  EXPECT_NE(cluster.log(1).find("WARNING --fsync off"), std::string::npos);
  EXPECT_EQ(cluster.terminate(1), 0);
}

// One data directory through every --wal-io mode in turn (an operator changing it between
// restarts): each mode serves, reports whether O_DIRECT is on (a filesystem that refuses it,
// like tmpfs, falls back to the page cache with a warning), and keeps every acknowledged write.
TEST(ServerProcess, EveryWalIoModeKeepsTheDataOfTheOthers) {
  TempDir dir;
  std::vector<std::string> written;
  for (const std::string mode : {"buffered", "direct-dsync", "direct", "buffered"}) {
    SCOPED_TRACE("--wal-io " + mode);
    ProcessCluster cluster(kBinary, 1, dir.path(), {"--wal-io", mode});
    ASSERT_TRUE(cluster.start(1));
    ASSERT_TRUE(cluster.wait_leader().has_value());
    for (const std::string& key : written) {
      EXPECT_EQ(bulk_value(cluster.command(1, {"GET", key}).value_or("")), "v-" + key);
    }
    const std::string key = "k" + std::to_string(written.size());
    EXPECT_EQ(cluster.command(1, {"SET", key, "v-" + key}), "+OK\r\n");
    written.push_back(key);
    const std::string status = cluster.command(1, {"RINGRAFT.STATUS"}).value_or("");
    const bool direct = status.find("\r\nwal_direct_io:1\r\n") != std::string::npos;
    if (mode == "buffered") {
      EXPECT_FALSE(direct) << status;
    } else {
      EXPECT_TRUE(direct || cluster.log(1).find("O_DIRECT") != std::string::npos)
          << "neither O_DIRECT nor a warning: " << status << cluster.log(1);
    }
    EXPECT_EQ(cluster.terminate(1), 0);
  }
}

TEST(ServerProcess, ConfigFileSetsOptionsAndFlagsWin) {
  TempDir dir;
  const uint16_t raft = pick_free_port();
  const uint16_t resp = pick_free_port();
  const std::string config = dir.path() + "/node.toml";
  {
    std::ofstream file(config);
    file << "id = 1\npeers = \"1=127.0.0.1:" << raft << "\"\nport = 1\ndata-dir = \"" << dir.path()
         << "/data\"\nreads = \"local\"\nadmin-port = 0\n";
  }
  const std::string out = dir.path() + "/out.txt";
  const std::string command = "timeout --preserve-status -s TERM 3 " + kBinary +
                              " server --config " + config + " --port " + std::to_string(resp) +
                              " > " + out + " 2>&1";
  EXPECT_EQ(run_shell(command), 0);  // served until timeout's SIGTERM, then a clean stop
  EXPECT_EQ(
      run_shell("grep -q 'node 1 serving RESP on 127.0.0.1:" + std::to_string(resp) + "' " + out),
      0);
  EXPECT_EQ(run_shell("grep -q ', no admin port,' " + out), 0);  // admin-port = 0 in the file
}

}  // namespace
}  // namespace ringraft::testing
