// The bench node's flags: members and count lists parse, and validate() names what is wrong.
#include "bench/cluster/bench_node_options.h"

#include <gtest/gtest.h>

namespace ringraft::bench {
namespace {

BenchNodeOptions valid_options() {
  BenchNodeOptions options;
  options.id = NodeId{2};
  options.peers = parse_bench_peers("1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003").value();
  options.data_dir = "/tmp/unused";
  return options;
}

TEST(BenchNodeOptions, PeersParseIntoMembers) {
  Result<std::map<NodeId, BenchEndpoint>> peers =
      parse_bench_peers("1=127.0.0.1:7001,3=localhost:7003");
  ASSERT_TRUE(peers.ok()) << peers.error().message();
  ASSERT_EQ(peers.value().size(), 2u);
  EXPECT_EQ(peers.value().at(NodeId{1}).host, "127.0.0.1");
  EXPECT_EQ(peers.value().at(NodeId{1}).port, 7001);
  EXPECT_EQ(peers.value().at(NodeId{3}).host, "localhost");
}

TEST(BenchNodeOptions, MalformedPeersAreRefused) {
  for (const char* text : {"", "1=127.0.0.1", "x=127.0.0.1:1", "1=127.0.0.1:0", "1=127.0.0.1:70000",
                           "0=127.0.0.1:7001", "1=127.0.0.1:7001,1=127.0.0.1:7002"}) {
    EXPECT_FALSE(parse_bench_peers(text).ok()) << text;
  }
}

TEST(BenchNodeOptions, CountListsParseAndRefuseZero) {
  Result<std::vector<uint32_t>> counts = parse_count_list("1,64,1024,8192", "--in-flight");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts.value(), (std::vector<uint32_t>{1, 64, 1024, 8192}));
  EXPECT_FALSE(parse_count_list("1,0", "--in-flight").ok());
  EXPECT_FALSE(parse_count_list("", "--in-flight").ok());
  EXPECT_FALSE(parse_count_list("64,", "--in-flight").ok());
  EXPECT_FALSE(parse_count_list("6x4", "--in-flight").ok());
}

TEST(BenchNodeOptions, ValidateNamesTheBadSetting) {
  EXPECT_TRUE(valid_options().validate().ok());

  BenchNodeOptions stranger = valid_options();
  stranger.id = NodeId{9};
  EXPECT_NE(stranger.validate().error().context().find("--id"), std::string::npos);

  BenchNodeOptions no_groups = valid_options();
  no_groups.group_count = 0;
  EXPECT_NE(no_groups.validate().error().context().find("--groups"), std::string::npos);

  // A cell's number travels in one byte of its entries: at most 255 cells.
  BenchNodeOptions too_many_cells = valid_options();
  too_many_cells.entry_bytes.assign(16, 100);
  too_many_cells.in_flight.assign(16, 1);
  EXPECT_FALSE(too_many_cells.validate().ok());

  BenchNodeOptions no_dir = valid_options();
  no_dir.data_dir.clear();
  EXPECT_NE(no_dir.validate().error().context().find("--data-dir"), std::string::npos);
}

}  // namespace
}  // namespace ringraft::bench
