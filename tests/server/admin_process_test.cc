// `ringraft server`'s admin side as real processes (ProcessCluster): /metrics and /status on
// the admin port, what bad HTTP input gets, and the admin commands over RESP: leadership
// transfer, adding a fourth node and removing it again.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/process_cluster.h"
#include "tests/support/resp_client.h"
#include "tests/support/temp_dir.h"

namespace ringraft::testing {
namespace {

using namespace std::chrono_literals;

const std::string kBinary = RINGRAFT_BINARY;

// Sends `request` to 127.0.0.1:port and reads until the server closes (each receive bounded
// by `limit`); nullopt if the connection failed.
std::optional<std::string> http_exchange(uint16_t port, const std::string& request,
                                         std::chrono::milliseconds limit = 10s) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval bound{};
  bound.tv_sec = static_cast<time_t>(limit.count() / 1000);
  bound.tv_usec = static_cast<suseconds_t>((limit.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  char buffer[4096];
  while (true) {
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) {
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) reply += "<timed out>";
      break;
    }
    reply.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return reply;
}

std::string body_of(const std::string& reply) {
  const size_t end = reply.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : reply.substr(end + 4);
}

// Parses Prometheus text format 0.0.4: every sample line is `name{labels} value`, every family
// has its TYPE before its samples. Returns name{labels} -> value; a line that does not parse
// is a test failure.
std::map<std::string, double> parse_prometheus(const std::string& text) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$)");
  std::map<std::string, double> samples;
  std::set<std::string> typed;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (std::regex_match(line, match, kType)) {
      typed.insert(match[1]);
      continue;
    }
    if (!std::regex_match(line, match, kSample)) {
      ADD_FAILURE() << "not a Prometheus sample line: '" << line << "'";
      continue;
    }
    EXPECT_EQ(typed.count(match[1]), 1u) << "no TYPE before " << line;
    samples[std::string(match[1]) + std::string(match[2])] = std::stod(match[4]);
  }
  return samples;
}

std::map<std::string, double> scrape(ProcessCluster& cluster, uint32_t node) {
  const std::optional<std::string> reply =
      http_exchange(cluster.admin_port(node), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(reply.has_value());
  EXPECT_EQ(reply.value_or("").rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply.value_or("");
  return parse_prometheus(body_of(reply.value_or("")));
}

TEST(AdminProcess, MetricsParseAsPrometheusAndCountersMoveAfterWrites) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 1, dir.path());
  ASSERT_TRUE(cluster.start(1));
  ASSERT_TRUE(cluster.wait_leader().has_value()) << cluster.log(1);
  const std::map<std::string, double> before = scrape(cluster, 1);
  const std::string label = "{node=\"1\"}";
  EXPECT_EQ(before.at("ringraft_role{node=\"1\",role=\"leader\"}"), 1);
  EXPECT_EQ(before.at("ringraft_elections_won_total" + label), 1);
  RespClient client;
  ASSERT_TRUE(client.connect(cluster.resp_port(1)));
  std::vector<std::vector<std::string>> writes;
  for (int i = 0; i < 200; ++i) writes.push_back({"SET", "k" + std::to_string(i), "v"});
  ASSERT_TRUE(client.pipeline(writes).has_value());
  const std::map<std::string, double> after = scrape(cluster, 1);
  for (const char* counter :
       {"ringraft_requests_total", "ringraft_fsyncs_total", "ringraft_entries_durable_total",
        "ringraft_wal_bytes_written_total"}) {
    EXPECT_GT(after.at(counter + label), before.at(counter + label)) << counter;
  }
  EXPECT_GE(after.at("ringraft_entries_durable_total" + label), 200);
  EXPECT_GE(after.at("ringraft_commit" + label), before.at("ringraft_commit" + label) + 200);
  EXPECT_GT(after.at("ringraft_log_size_bytes" + label), 0);
  EXPECT_EQ(after.count("ringraft_latency_p99_us" + label), 1u);
  // The rates cover the last whole second: once a window closed during the writes they show
  // them (bounded: a window closes every second).
  bool rated = false;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!rated && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(client.pipeline(writes).has_value());
    const std::map<std::string, double> now = scrape(cluster, 1);
    rated = now.at("ringraft_ops_per_second" + label) > 0 &&
            now.at("ringraft_fsyncs_per_second" + label) > 0 &&
            now.at("ringraft_entries_per_fsync" + label) > 0;
  }
  EXPECT_TRUE(rated) << "rates never moved";
  const std::optional<std::string> status =
      http_exchange(cluster.admin_port(1), "GET /status HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(status->find("application/json"), std::string::npos) << *status;
  EXPECT_NE(body_of(*status).find("\"role\":\"leader\""), std::string::npos) << *status;
  EXPECT_EQ(cluster.terminate(1), 0);
}

TEST(AdminProcess, BadHttpInputGetsAnErrorOrACloseAndTheNodeServesOn) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 1, dir.path());
  ASSERT_TRUE(cluster.start(1));
  ASSERT_TRUE(cluster.wait_leader().has_value()) << cluster.log(1);
  const uint16_t port = cluster.admin_port(1);
  EXPECT_EQ(http_exchange(port, "\x16\x03\x01\x02 garbage\r\n\r\n")
                .value_or("")
                .rfind("HTTP/1.1 400 ", 0),
            0u);
  const std::string oversized = "GET /metrics HTTP/1.1\r\nX: " + std::string(64 * 1024, 'a');
  EXPECT_EQ(http_exchange(port, oversized).value_or("").rfind("HTTP/1.1 431 ", 0), 0u);
  EXPECT_EQ(http_exchange(port, "DELETE /metrics HTTP/1.1\r\n\r\n")
                .value_or("")
                .rfind("HTTP/1.1 405 ", 0),
            0u);
  EXPECT_EQ(
      http_exchange(port, "GET /secret HTTP/1.1\r\n\r\n").value_or("").rfind("HTTP/1.1 404 ", 0),
      0u);
  // A slow client (half a request, then silence) is closed by the server without an answer.
  EXPECT_EQ(http_exchange(port, "GET /metrics HTTP/1.1\r\nHo", 20s), "");
  EXPECT_EQ(cluster.command(1, {"PING"}), "+PONG\r\n");
  EXPECT_FALSE(scrape(cluster, 1).empty());
  EXPECT_EQ(cluster.terminate(1), 0);
}

TEST(AdminProcess, TransferMakesTheNamedNodeLeader) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path());
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value()) << cluster.log(1);
  const uint32_t target = *leader % 3 + 1;
  const uint32_t other = target % 3 + 1;
  ASSERT_NE(other, *leader);
  // A follower names the leader instead.
  const std::string redirected =
      cluster.command(other, {"RINGRAFT.TRANSFER", std::to_string(target)}).value_or("");
  EXPECT_EQ(redirected.rfind("-ERR not leader, leader is node " + std::to_string(*leader), 0), 0u)
      << redirected;
  EXPECT_EQ(cluster.command(*leader, {"RINGRAFT.TRANSFER", std::to_string(target)}), "+OK\r\n");
  EXPECT_EQ(cluster.wait_leader(), std::optional<uint32_t>(target));
  EXPECT_EQ(cluster.command(target, {"SET", "after", "transfer"}), "+OK\r\n");
  EXPECT_EQ(cluster.command(target, {"RINGRAFT.TRANSFER", "x"}).value_or("").rfind("-ERR usage", 0),
            0u);
}

TEST(AdminProcess, AddAFourthNodeThenRemoveIt) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 4, dir.path(), {}, /*joining=*/1);
  for (uint32_t node = 1; node <= 3; ++node) ASSERT_TRUE(cluster.start(node));
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value()) << cluster.log(1);
  ASSERT_EQ(cluster.command(*leader, {"SET", "before", "join"}), "+OK\r\n");
  ASSERT_TRUE(cluster.start(4));
  RespClient admin;
  ASSERT_TRUE(admin.connect(cluster.resp_port(*leader), 30s));
  const std::optional<std::string> added =
      admin.command({"RINGRAFT.ADDNODE", "4", "127.0.0.1:" + std::to_string(cluster.raft_port(4)),
                     "127.0.0.1:" + std::to_string(cluster.resp_port(4))});
  ASSERT_EQ(added, std::optional<std::string>("+OK\r\n")) << cluster.log(*leader) << cluster.log(4);
  const std::string status = cluster.command(*leader, {"RINGRAFT.STATUS"}).value_or("");
  EXPECT_NE(status.find("\r\nvoters:4\r\n"), std::string::npos) << status;
  // The new voter has the data written before it joined, and takes part in what follows.
  EXPECT_EQ(cluster.command(*leader, {"SET", "after", "join"}), "+OK\r\n");
  EXPECT_EQ(bulk_value(cluster.command(4, {"GET", "before"}).value_or("")),
            std::optional<std::string>("join"))
      << cluster.log(4);
  EXPECT_EQ(bulk_value(cluster.command(4, {"GET", "after"}).value_or("")),
            std::optional<std::string>("join"));
  EXPECT_EQ(cluster.command(*leader, {"RINGRAFT.ADDNODE", "4", "127.0.0.1:1", "127.0.0.1:2"})
                .value_or("")
                .rfind("-ERR addnode: node 4 is already a voter", 0),
            0u);
  ASSERT_EQ(admin.command({"RINGRAFT.REMOVENODE", "4"}), std::optional<std::string>("+OK\r\n"));
  const std::string removed = cluster.command(*leader, {"RINGRAFT.STATUS"}).value_or("");
  EXPECT_NE(removed.find("\r\nvoters:3\r\n"), std::string::npos) << removed;
  EXPECT_EQ(cluster.command(*leader, {"SET", "after", "remove"}), "+OK\r\n");
}

TEST(AdminProcess, SnapshotOnAFollowerSurvivesItsRestart) {
  TempDir dir;
  ProcessCluster cluster(kBinary, 3, dir.path());
  ASSERT_TRUE(cluster.start_all());
  const std::optional<uint32_t> leader = cluster.wait_leader();
  ASSERT_TRUE(leader.has_value()) << cluster.log(1);
  RespClient client;
  ASSERT_TRUE(client.connect(cluster.resp_port(*leader)));
  std::vector<std::vector<std::string>> writes;
  for (int i = 0; i < 50; ++i)
    writes.push_back({"SET", "k" + std::to_string(i), "v" + std::to_string(i)});
  ASSERT_TRUE(client.pipeline(writes).has_value());
  const uint32_t follower = *leader % 3 + 1;
  // The follower applied the writes once a linearizable read on it sees the last one.
  EXPECT_EQ(bulk_value(cluster.command(follower, {"GET", "k49"}).value_or("")),
            std::optional<std::string>("v49"));
  const std::string taken = cluster.command(follower, {"RINGRAFT.SNAPSHOT"}).value_or("");
  ASSERT_EQ(taken.rfind(":", 0), 0u) << taken << cluster.log(follower);
  EXPECT_GE(std::stoll(taken.substr(1)), 50) << taken;
  EXPECT_GT(scrape(cluster, follower)
                .at("ringraft_snapshot_size_bytes{node=\"" + std::to_string(follower) + "\"}"),
            0);
  EXPECT_EQ(
      cluster.command(follower, {"RINGRAFT.SNAPSHOT", "x"}).value_or("").rfind("-ERR usage", 0),
      0u);
  // Restarted, it starts from the snapshot file and still serves every value.
  EXPECT_EQ(cluster.terminate(follower), 0);
  ASSERT_TRUE(cluster.start(follower));
  std::optional<std::string> value;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (value != std::optional<std::string>("v7") && std::chrono::steady_clock::now() < deadline) {
    value = bulk_value(cluster.command(follower, {"GET", "k7"}).value_or(""));
  }
  EXPECT_EQ(value, std::optional<std::string>("v7")) << cluster.log(follower);
  EXPECT_GT(scrape(cluster, follower)
                .at("ringraft_snapshot_size_bytes{node=\"" + std::to_string(follower) + "\"}"),
            0)
      << "the restarted node does not know its snapshot";
}

}  // namespace
}  // namespace ringraft::testing
