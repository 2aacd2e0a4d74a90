// The embedding facade from a plain thread: a single-voter node (it elects itself and commits
// on its own fsync) with two shards and four groups, proposals through std::future, and a
// restart that rebuilds the state machine from the WAL.
#include "raft/node.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace ringraft {
namespace {

using replica::Committed;
using replica::ProposeResult;

class NoPeers final : public replica::MessageBus {
 public:
  replica::SendStatus send(NodeId, ConstByteSpan) override {
    return replica::SendStatus::kUnreachable;
  }
};

// Appends every command to a string per group; the result is the string so far.
class Concatenate final : public replica::StateMachine {
 public:
  void apply(GroupId group, std::span<const replica::CommittedEntry> entries,
             replica::ApplyResults& results) override {
    for (const replica::CommittedEntry& entry : entries) {
      text[group].append(reinterpret_cast<const char*>(entry.payload.data()), entry.payload.size());
      results.push(as_bytes(text[group].data(), text[group].size()));
    }
  }
  std::map<GroupId, std::string> text;
};

NodeOptions single_voter(const std::string& directory) {
  NodeOptions options;
  options.engine.node = NodeId(1);
  options.engine.voters = {NodeId(1)};
  options.engine.groups = {GroupId(1), GroupId(2), GroupId(3), GroupId(4)};
  options.engine.wal.segment_bytes = uint64_t{4} << 20;
  options.data_directory = directory;
  options.shard_count = 2;
  options.make_bus = [](Shard&) { return std::make_unique<NoPeers>(); };
  options.make_state_machine = [](ShardId) { return std::make_unique<Concatenate>(); };
  return options;
}

std::vector<std::byte> bytes(const std::string& text) {
  const auto* at = reinterpret_cast<const std::byte*>(text.data());
  return std::vector<std::byte>(at, at + text.size());
}

std::string result_text(const ProposeResult& result) {
  const auto* committed = std::get_if<Committed>(&result);
  EXPECT_NE(committed, nullptr);
  if (committed == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(committed->result.data()),
                     committed->result.size());
}

TEST(Node, ProposalsFromAPlainThreadCommitAndSurviveARestart) {
  ringraft::testing::TempDir dir;
  {
    Node node(single_voter(dir.path()));
    Result<void> started = node.start();
    ASSERT_TRUE(started.ok()) << started.error().message();
    for (uint64_t g = 1; g <= 4; ++g) EXPECT_EQ(node.wait_leader(GroupId(g)).get(), NodeId(1));
    for (uint64_t g = 1; g <= 4; ++g) {
      const std::string prefix = std::to_string(g);
      EXPECT_EQ(result_text(node.propose(GroupId(g), bytes(prefix + "a")).get()), prefix + "a");
      EXPECT_EQ(result_text(node.propose(GroupId(g), bytes("b")).get()), prefix + "ab");
    }
    node.stop();
  }
  Node node(single_voter(dir.path()));  // again, from the same WAL directories
  ASSERT_TRUE(node.start().ok());
  for (uint64_t g = 1; g <= 4; ++g) {
    EXPECT_EQ(node.wait_leader(GroupId(g)).get(), NodeId(1));
    EXPECT_EQ(result_text(node.propose(GroupId(g), bytes("c")).get()), std::to_string(g) + "abc");
  }
  node.stop();
  // After stop, proposals end at once.
  const ProposeResult late = node.propose(GroupId(1), bytes("d")).get();
  EXPECT_TRUE(std::holds_alternative<replica::Failed>(late));
}

}  // namespace
}  // namespace ringraft
