// A full disk under a real `ringraft server` (raft/replica/wal_recovery.cc), as processes on
// loopback: one node's data directory sits on a small tmpfs that the test fills up with a file
// of its own. The node's WAL fails at its next segment roll; the cluster keeps taking writes
// over RESP; once the file is deleted, the node reopens its WAL and catches up (its applied
// index reaches the leader's, and it serves the last write). Needs root to mount the tmpfs:
// skipped otherwise. The mount goes away when the test ends, failed or not.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process_cluster.h"
#include "tests/support/resp_client.h"
#include "tests/support/small_tmpfs.h"
#include "tests/support/temp_dir.h"

namespace ringraft::testing {
namespace {

const std::string kBinary = RINGRAFT_BINARY;
constexpr uint32_t kFullNode = 3;
constexpr uint64_t kTmpfsBytes = uint64_t{12} << 20;
constexpr size_t kValueBytes = 32 << 10;
const auto kWaitMax = std::chrono::seconds(60);

// Writes zeros to `path` until the filesystem is full; returns the bytes written.
uint64_t fill(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << path;
  if (fd < 0) return 0;
  const std::vector<char> chunk(64 << 10, 0);
  uint64_t written = 0;
  for (;;) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;  // ENOSPC: full
    written += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return written;
}

// A numeric line "key:value" of the node's RINGRAFT.STATUS, or nullopt.
std::optional<uint64_t> status_field(ProcessCluster& cluster, uint32_t node,
                                     const std::string& key) {
  const std::optional<std::string> reply = cluster.command(node, {"RINGRAFT.STATUS"});
  if (!reply.has_value()) return std::nullopt;
  const std::string text = *reply;
  const size_t at = text.find("\n" + key + ":");
  if (at == std::string::npos) return std::nullopt;
  return std::strtoull(text.c_str() + at + key.size() + 2, nullptr, 10);
}

std::optional<uint64_t> applied(ProcessCluster& cluster, uint32_t node) {
  const std::optional<std::string> field = cluster.info_field(node, "raft_applied");
  if (!field.has_value()) return std::nullopt;
  return std::strtoull(field->c_str(), nullptr, 10);
}

// SET through `writer` (a follower forwards to the leader); retried, bounded, across a change
// of leader. True once a write was acknowledged.
bool set(ProcessCluster& cluster, uint32_t writer, const std::string& key,
         const std::string& value) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (cluster.command(writer, {"SET", key, value}) == std::optional<std::string>("+OK\r\n")) {
      return true;
    }
    // An election is on (the full node led): wait, bounded, for the writer to know a leader.
    const auto from = std::chrono::steady_clock::now();
    while (cluster.info_field(writer, "raft_leader").value_or("0") == "0" &&
           std::chrono::steady_clock::now() - from < std::chrono::seconds(5)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling another process
    }
  }
  return false;
}

TEST(DiskFullProcess, ClusterKeepsWritingWhileANodesDiskIsFullAndTheNodeCatchesUpAfter) {
  SmallTmpfs fs(kTmpfsBytes);
  if (!fs.mounted()) GTEST_SKIP() << fs.skip_reason();
  TempDir dir;
  // The node's data directory is the tmpfs (ProcessCluster puts node N under DIR/nodeN).
  std::filesystem::create_symlink(fs.dir().path(),
                                  dir.path() + "/node" + std::to_string(kFullNode));
  ProcessCluster cluster(kBinary, 3, dir.path(), {"--wal-segment-mib", "1"});
  ASSERT_TRUE(cluster.start_all());
  ASSERT_TRUE(cluster.wait_leader().has_value()) << cluster.log(kFullNode);
  const uint32_t writer = kFullNode % 3 + 1;  // a node on the real disk
  const std::string value(kValueBytes, 'v');
  ASSERT_TRUE(set(cluster, writer, "before", value));

  const std::string filler = fs.dir().file("filler");
  const uint64_t filled = fill(filler);
  std::printf("filled the tmpfs with %llu bytes\n", static_cast<unsigned long long>(filled));
  // Writes until the node's WAL fails (its next segment cannot be created); every one is
  // acknowledged by the other two.
  int written = 0;
  const auto failing_from = std::chrono::steady_clock::now();
  while (status_field(cluster, kFullNode, "engine_wal_failures").value_or(0) == 0) {
    ASSERT_LT(std::chrono::steady_clock::now() - failing_from, kWaitMax)
        << "the node's WAL never failed\n"
        << cluster.log(kFullNode);
    ASSERT_TRUE(set(cluster, writer, "k" + std::to_string(written), value)) << cluster.log(writer);
    ++written;
  }
  std::printf("the node's WAL failed after %d writes\n", written);
  for (int i = 0; i < 20; ++i, ++written) {
    ASSERT_TRUE(set(cluster, writer, "k" + std::to_string(written), value)) << cluster.log(writer);
  }
  const std::string last_key = "k" + std::to_string(written - 1);
  // The writer's view: the full node may have led, and then knows no leader now.
  const std::optional<std::string> leader = cluster.info_field(writer, "raft_leader");
  ASSERT_TRUE(leader.has_value());
  const uint32_t leader_node = static_cast<uint32_t>(std::strtoul(leader->c_str(), nullptr, 10));
  ASSERT_NE(leader_node, kFullNode);
  ASSERT_NE(leader_node, 0u);
  const std::optional<uint64_t> target = applied(cluster, leader_node);
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(status_field(cluster, kFullNode, "engine_wal_failed"), std::optional<uint64_t>(1));
  EXPECT_LT(applied(cluster, kFullNode).value_or(0), *target)
      << "a node that cannot persist cannot apply";

  ASSERT_EQ(::unlink(filler.c_str()), 0);
  const auto catching_up_from = std::chrono::steady_clock::now();
  for (;;) {
    const std::optional<uint64_t> caught = applied(cluster, kFullNode);
    if (caught.has_value() && *caught >= *target) break;
    ASSERT_LT(std::chrono::steady_clock::now() - catching_up_from, kWaitMax)
        << "the node did not catch up: applied " << caught.value_or(0) << " of " << *target << "\n"
        << cluster.log(kFullNode);
    // Polling a process's INFO: there is no event to wait on across processes.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(status_field(cluster, kFullNode, "engine_wal_reopens").value_or(0), 1u);
  EXPECT_EQ(status_field(cluster, kFullNode, "engine_wal_failed"), std::optional<uint64_t>(0));
  const std::optional<std::string> reply = cluster.command(kFullNode, {"GET", last_key});
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(bulk_value(*reply), std::optional<std::string>(value));
  for (uint32_t node = 1; node <= 3; ++node) EXPECT_EQ(cluster.terminate(node), 0) << node;
}

}  // namespace
}  // namespace ringraft::testing
