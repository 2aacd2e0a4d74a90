// The pieces of `ringraft bench` and the operator commands that need no server: the latency
// histogram, option checks, the client-side RESP scanner, INFO parsing, the cluster state file.
#include <gtest/gtest.h>

#include <random>

#include "tests/support/temp_dir.h"
#include "tools/cli/bench_options.h"
#include "tools/cli/cluster_state.h"
#include "tools/cli/info_client.h"
#include "tools/cli/latency_histogram.h"
#include "tools/cli/resp_reply.h"

namespace ringraft::tools {
namespace {

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (uint64_t value = 0; value < LatencyHistogram::kSubBucketCount; ++value) {
    histogram.record(value);
  }
  EXPECT_EQ(histogram.count(), LatencyHistogram::kSubBucketCount);
  EXPECT_EQ(histogram.percentile_ns(0.5), 15u);
  EXPECT_EQ(histogram.percentile_ns(1.0), 31u);
  EXPECT_EQ(histogram.min_ns(), 0u);
  histogram.check_invariants();
}

TEST(LatencyHistogram, BucketsCoverEveryValueWithinThreePercent) {
  const uint64_t seed = std::random_device{}();
  std::mt19937_64 random(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (int i = 0; i < 100'000; ++i) {
    const uint64_t value = random() >> (random() % 64);
    const uint32_t bucket = LatencyHistogram::bucket_of(value);
    ASSERT_LT(bucket, LatencyHistogram::kBucketCount);
    ASSERT_LE(LatencyHistogram::bucket_low_ns(bucket), value);
    ASSERT_GE(LatencyHistogram::bucket_high_ns(bucket), value);
    const uint64_t width =
        LatencyHistogram::bucket_high_ns(bucket) - LatencyHistogram::bucket_low_ns(bucket);
    ASSERT_LE(width, value / 32) << value;
  }
  EXPECT_EQ(LatencyHistogram::bucket_high_ns(LatencyHistogram::kBucketCount - 1), UINT64_MAX);
}

TEST(LatencyHistogram, PercentilesOfAUniformSpreadAreWithinABucket) {
  LatencyHistogram histogram;
  for (uint64_t value = 1; value <= 100'000; ++value)
    histogram.record(value * 1000);  // 1 us..100 ms
  const auto near = [](uint64_t got, uint64_t want) {
    return got >= want && got <= want + want / 32 + 1;
  };
  EXPECT_TRUE(near(histogram.percentile_ns(0.5), 50'000'000)) << histogram.percentile_ns(0.5);
  EXPECT_TRUE(near(histogram.percentile_ns(0.99), 99'000'000)) << histogram.percentile_ns(0.99);
  EXPECT_TRUE(near(histogram.percentile_ns(0.999), 99'900'000)) << histogram.percentile_ns(0.999);
  EXPECT_EQ(histogram.percentile_ns(1.0), 100'000'000u);  // capped by the maximum
  EXPECT_NEAR(histogram.mean_ns(), 50'000'500.0, 1.0);
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsExtremes) {
  LatencyHistogram fast;
  LatencyHistogram slow;
  for (int i = 0; i < 90; ++i) fast.record(1000);
  for (int i = 0; i < 10; ++i) slow.record(5'000'000);
  fast.merge(slow);
  fast.check_invariants();
  EXPECT_EQ(fast.count(), 100u);
  EXPECT_EQ(fast.min_ns(), 1000u);
  EXPECT_EQ(fast.max_ns(), 5'000'000u);
  EXPECT_LE(fast.percentile_ns(0.9), 1000u + 1000 / 32);
  EXPECT_EQ(fast.percentile_ns(0.91), 5'000'000u);
  fast.clear();
  EXPECT_EQ(fast.count(), 0u);
  EXPECT_EQ(fast.percentile_ns(0.99), 0u);
}

TEST(BenchOptions, RatioParsesWritesColonReads) {
  ASSERT_TRUE(parse_ratio("9:1").ok());
  EXPECT_EQ(parse_ratio("9:1").value().write_weight, 9u);
  EXPECT_EQ(parse_ratio("9:1").value().read_weight, 1u);
  EXPECT_TRUE(parse_ratio("0:1").ok());
  for (const char* bad : {"", "1", "1:", ":1", "a:b", "1:1:1", "-1:1", "0:0", "1 :1"}) {
    EXPECT_FALSE(parse_ratio(bad).ok()) << bad;
  }
}

BenchOptions valid_options() {
  BenchOptions options;
  Endpoint endpoint;
  endpoint.port = 6379;
  options.targets.push_back(endpoint);
  return options;
}

TEST(BenchOptions, NoBoundMeansTheDefaultDuration) {
  BenchOptions options = valid_options();
  ASSERT_TRUE(validate(options).ok());
  EXPECT_EQ(options.duration, BenchOptions::kDefaultDuration);
  BenchOptions counted = valid_options();
  counted.requests = 1000;
  ASSERT_TRUE(validate(counted).ok());
  EXPECT_EQ(counted.duration.count(), 0);  // bounded by the count alone
}

TEST(BenchOptions, OutOfRangeSettingsAreRefusedWithTheirName) {
  const auto refused = [](auto change, const char* name) {
    BenchOptions options = valid_options();
    change(options);
    Result<void> checked = validate(options);
    ASSERT_FALSE(checked.ok()) << name;
    EXPECT_NE(checked.error().context().find(name), std::string::npos) << checked.error().context();
  };
  refused([](BenchOptions& o) { o.connections = 0; }, "--connections");
  refused([](BenchOptions& o) { o.connections = BenchOptions::kConnectionsMax + 1; },
          "--connections");
  refused([](BenchOptions& o) { o.pipeline = 0; }, "--pipeline");
  refused([](BenchOptions& o) { o.keys = 0; }, "--keys");
  refused([](BenchOptions& o) { o.value_bytes = BenchOptions::kValueBytesMax + 1; },
          "--value-bytes");
  refused([](BenchOptions& o) { o.duration = std::chrono::hours(25); }, "--duration");
  refused([](BenchOptions& o) { o.request_timeout = std::chrono::milliseconds(0); },
          "--timeout-ms");
  refused([](BenchOptions& o) { o.targets.clear(); }, "--port");
}

TEST(RespReply, ScansEachKindAndReportsItsLength) {
  const auto scan = [](std::string_view input) {
    Result<std::optional<RespReply>> reply = scan_reply(input);
    EXPECT_TRUE(reply.ok() && reply.value().has_value()) << input;
    return reply.ok() && reply.value().has_value() ? *reply.value() : RespReply{};
  };
  EXPECT_EQ(scan("+OK\r\n").kind, ReplyKind::kSimple);
  EXPECT_EQ(scan("+OK\r\n").text, "OK");
  EXPECT_EQ(scan("-ERR not leader\r\n").text, "ERR not leader");
  EXPECT_EQ(scan(":42\r\n").text, "42");
  EXPECT_EQ(scan("$5\r\nhello\r\n+OK\r\n").text, "hello");
  EXPECT_EQ(scan("$5\r\nhello\r\n+OK\r\n").consumed_bytes, 11u);
  EXPECT_EQ(scan("$-1\r\n").kind, ReplyKind::kNullBulk);
  EXPECT_EQ(scan("*-1\r\n").kind, ReplyKind::kNullArray);
  const RespReply array = scan("*3\r\n$1\r\na\r\n$-1\r\n*1\r\n:1\r\n");
  EXPECT_EQ(array.kind, ReplyKind::kArray);
  EXPECT_EQ(array.consumed_bytes, 24u);  // 4 + 7 + 5 + 4 + 4
}

TEST(RespReply, IncompleteRepliesNeedMoreAtEveryCut) {
  const std::string full = "*2\r\n$5\r\nhello\r\n-ERR x\r\n";
  for (size_t cut = 0; cut < full.size(); ++cut) {
    Result<std::optional<RespReply>> reply = scan_reply(std::string_view(full).substr(0, cut));
    ASSERT_TRUE(reply.ok()) << cut;
    EXPECT_FALSE(reply.value().has_value()) << cut;
  }
}

TEST(RespReply, BadBytesAreErrorsNotCrashes) {
  for (const char* bad : {"?x\r\n", "\r\n", "$abc\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "*x\r\n"}) {
    EXPECT_FALSE(scan_reply(bad).ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "*1\r\n";
  EXPECT_FALSE(scan_reply(deep + ":1\r\n").ok());
  ReplyLimits limits;
  limits.bulk_bytes_max = 4;
  EXPECT_FALSE(scan_reply("$5\r\n", limits).ok());  // refused before the payload arrives
}

TEST(InfoClient, ParsesSectionsAndFields) {
  const std::vector<InfoField> fields = parse_info(
      "# Server\r\nredis_version:7.0\r\n\r\n# Replication\r\nrole:master\r\nraft_term:3\r\n"
      "raft_leader_addr:127.0.0.1:6381\r\n");
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[1].section, "Replication");
  EXPECT_EQ(info_value(fields, "raft_term"), "3");
  EXPECT_EQ(info_value(fields, "raft_leader_addr"), "127.0.0.1:6381");
  EXPECT_EQ(info_value(fields, "missing"), "");
}

TEST(InfoClient, EndpointsParseAndBadOnesAreRefused) {
  ASSERT_TRUE(parse_endpoint("127.0.0.1:6381").ok());
  EXPECT_EQ(parse_endpoint("127.0.0.1:6381").value().port, 6381);
  EXPECT_EQ(parse_endpoint("6390").value().host, "127.0.0.1");
  for (const char* bad : {"", "host:", "host:0", "host:70000", "host:12ab"}) {
    EXPECT_FALSE(parse_endpoint(bad).ok()) << bad;
  }
}

TEST(ClusterState, SavedStateLoadsBack) {
  ringraft::testing::TempDir dir;
  ClusterState state;
  state.dir = dir.path();
  state.fsync = false;
  state.server_executable = "/usr/bin/ringraft";
  for (uint32_t id = 1; id <= 3; ++id) {
    NodeRecord node;
    node.id = id;
    node.pid = static_cast<pid_t>(1000 + id);
    node.client.port = static_cast<uint16_t>(6380 + id);
    node.peer.port = static_cast<uint16_t>(6480 + id);
    state.nodes.push_back(node);
  }
  ASSERT_TRUE(save_cluster(state).ok());
  Result<ClusterState> loaded = load_cluster(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_FALSE(loaded.value().fsync);
  EXPECT_EQ(loaded.value().server_executable, "/usr/bin/ringraft");
  ASSERT_EQ(loaded.value().nodes.size(), 3u);
  EXPECT_EQ(loaded.value().nodes[2].pid, 1003);
  EXPECT_EQ(loaded.value().peers_flag(), "1=127.0.0.1:6481,2=127.0.0.1:6482,3=127.0.0.1:6483");
  EXPECT_EQ(loaded.value().clients_flag(), "1=127.0.0.1:6381,2=127.0.0.1:6382,3=127.0.0.1:6383");
}

TEST(ClusterState, MissingAndCorruptFilesAreErrors) {
  ringraft::testing::TempDir dir;
  Result<ClusterState> missing = load_cluster(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  std::system(("echo 'something else' > " + dir.file(ClusterState::kFileName)).c_str());
  EXPECT_FALSE(load_cluster(dir.path()).ok());
}

TEST(ClusterState, AStalePidIsNotAliveNode) {
  EXPECT_FALSE(node_process_alive(0, "/nowhere"));
  // Our own process runs, but it is not a node of that data dir: a reused pid.
  EXPECT_FALSE(node_process_alive(::getpid(), "/tmp/no-such-cluster-dir/node-1"));
}

}  // namespace
}  // namespace ringraft::tools
