// Snapshots: compaction, InstallSnapshot in chunks with resume, restart from a snapshot, and
// the refusals of bad compactions and malformed chunks (Raft §7).
#include <gtest/gtest.h>

#include <vector>

#include "raft/core/core.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

using testing::batch_of;
using testing::Network;

void small_chunks(Config& config) {
  config.snapshot_chunk_bytes_max = 64;
  config.check_quorum = false;
}

// Node 1 leads and has compacted 11 entries (a 344-byte snapshot) that node 3 never saw.
void lag_node_3_behind_a_snapshot(Network& net) {
  net.campaign(1);
  net.isolate(3);
  ASSERT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(batch_of(10, 8))));
  net.stabilize();
  ASSERT_TRUE(net.compact(1).ok());
  ASSERT_EQ(net.node(1).snapshot().index, LogIndex{11});
  ASSERT_EQ(net.node(1).snapshot().size_bytes, 344u);
  net.heal();
}

std::vector<uint64_t> delivered_chunk_offsets(const Network& net) {
  std::vector<uint64_t> offsets;
  for (const Message& m : net.delivered()) {
    if (m.type == MessageType::kSnapshot) offsets.push_back(m.snapshot_offset);
  }
  return offsets;
}

TEST(Snapshot, LostChunkInTheMiddleResumesFromTheAcknowledgedOffset) {
  Network net(3, 1, small_chunks);
  lag_node_3_behind_a_snapshot(net);
  bool dropped = false;
  net.set_filter([&dropped](const Message& m) {
    if (m.type != MessageType::kSnapshot || m.snapshot_offset != 128 || dropped) return false;
    dropped = true;
    return true;
  });
  net.tick(1);
  net.stabilize();
  EXPECT_TRUE(dropped);
  EXPECT_EQ(net.node(3).snapshot().index, LogIndex{0});  // stuck after the lost chunk
  net.tick(1);  // the heartbeat answer lets the leader resend
  net.stabilize();
  EXPECT_EQ(delivered_chunk_offsets(net), (std::vector<uint64_t>{0, 64, 128, 192, 256, 320}));
  EXPECT_EQ(net.node(3).snapshot().index, LogIndex{11});
  EXPECT_EQ(net.storage(3).applied, net.storage(1).applied);
}

TEST(Snapshot, FollowerRestartedMidTransferStartsOverFromZero) {
  Network net(3, 1, small_chunks);
  lag_node_3_behind_a_snapshot(net);
  net.set_filter([](const Message& m) {
    return m.type == MessageType::kSnapshot && m.snapshot_offset == 128;
  });
  net.tick(1);
  net.stabilize();
  net.restart(3);  // forgets its partial transfer
  net.clear_filter();
  net.tick(1);
  net.stabilize();
  const std::vector<uint64_t> offsets = delivered_chunk_offsets(net);
  ASSERT_GE(offsets.size(), 3u);
  EXPECT_EQ(offsets[2], 128u);  // the resend at 128 is refused: the follower expects 0
  EXPECT_EQ(std::count(offsets.begin(), offsets.end(), 0u), 2);
  EXPECT_EQ(net.node(3).snapshot().index, LogIndex{11});
  EXPECT_EQ(net.storage(3).applied, net.storage(1).applied);
}

TEST(Snapshot, FollowerThatHoldsTheEntriesSkipsTheInstall) {
  Config config;
  config.id = NodeId{2};
  config.voters = {NodeId{1}, NodeId{2}, NodeId{3}};
  InitialState state;
  state.hard_state.term = Term{1};
  state.hard_state.commit = LogIndex{1};
  for (uint64_t i = 1; i <= 3; ++i) state.entries.push_back(Entry{Term{1}, LogIndex{i}, {}});
  Result<Core> created = Core::create(config, std::move(state));
  ASSERT_TRUE(created.ok());
  Core core = std::move(created).value();
  Message chunk{.type = MessageType::kSnapshot,
                .from = NodeId{1},
                .to = NodeId{2},
                .term = Term{1},
                .log_index = LogIndex{3},
                .log_term = Term{1},
                .snapshot_size_bytes = 100,
                .snapshot_chunk_bytes = 10};
  chunk.snapshot_data.resize(10);
  ASSERT_TRUE(core.step(std::move(chunk)).ok());
  EXPECT_EQ(core.log().committed(), LogIndex{3});
  Ready ready = core.ready();
  EXPECT_FALSE(ready.snapshot.has_value());
  EXPECT_TRUE(ready.snapshot_chunks.empty());
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);
  EXPECT_EQ(ready.messages_after_persist[0].type, MessageType::kSnapshotResponse);
  EXPECT_EQ(ready.messages_after_persist[0].snapshot_offset, 100u);  // "done"
  core.advance(ready);
}

TEST(Snapshot, MalformedChunkIsRefused) {
  Network net(3);
  net.campaign(1);
  Message chunk{.type = MessageType::kSnapshot,
                .from = NodeId{1},
                .to = NodeId{2},
                .term = net.node(1).term(),
                .log_index = LogIndex{5},
                .log_term = Term{1},
                .snapshot_offset = 90,
                .snapshot_size_bytes = 100,
                .snapshot_chunk_bytes = 20};
  chunk.snapshot_data.resize(20);  // beyond the snapshot's end
  EXPECT_FALSE(net.node(2).step(chunk).ok());
  chunk.snapshot_offset = 0;
  chunk.snapshot_data.resize(5);  // not the announced length
  EXPECT_FALSE(net.node(2).step(chunk).ok());
  EXPECT_FALSE(net.node(2).has_ready());
}

TEST(Snapshot, CompactionIsRefusedBeyondAppliedOrNotAboveTheLastOne) {
  Network net(3);
  net.campaign(1);
  ASSERT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(batch_of(4, 8))));
  net.stabilize();
  EXPECT_FALSE(net.node(1).compact(LogIndex{6}, 0).ok());  // applied is 5
  EXPECT_TRUE(net.compact(1, 3).ok());
  EXPECT_FALSE(net.node(1).compact(LogIndex{3}, 0).ok());
  EXPECT_EQ(net.node(1).log().first_index(), LogIndex{4});
  EXPECT_EQ(net.node(1).log().term_at(LogIndex{3}), Term{1});
  EXPECT_EQ(net.node(1).log().term_at(LogIndex{2}), std::nullopt);
}

TEST(Snapshot, NodeRestartsFromItsSnapshotAndTheEntriesAfterIt) {
  Network net(3);
  net.campaign(1);
  ASSERT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(batch_of(4, 8))));
  net.stabilize();
  ASSERT_TRUE(net.compact(2, 3).ok());
  net.restart(2);
  EXPECT_EQ(net.node(2).log().first_index(), LogIndex{4});
  EXPECT_EQ(net.node(2).log().last_index(), LogIndex{5});
  EXPECT_EQ(net.node(2).log().applied(), LogIndex{3});
  EXPECT_EQ(net.storage(2).applied.size(), 3u);  // restored from the snapshot
  net.tick(1);
  net.stabilize();
  EXPECT_EQ(net.storage(2).applied, net.storage(1).applied);
}

TEST(Snapshot, InitialStateWhoseEntriesDoNotFollowTheSnapshotIsRefused) {
  Config config;
  config.id = NodeId{1};
  config.voters = {NodeId{1}};
  InitialState state;
  SnapshotMeta meta;
  meta.index = LogIndex{5};
  meta.term = Term{2};
  state.snapshot = meta;
  state.entries.push_back(Entry{Term{2}, LogIndex{7}, {}});
  EXPECT_FALSE(Core::create(config, state).ok());
  state.entries[0].index = LogIndex{6};
  EXPECT_TRUE(Core::create(config, state).ok());
}

TEST(Snapshot, ProposalCoveredByAnInstalledSnapshotResolvesUnknown) {
  Network net(3, 1, small_chunks);
  net.campaign(1);
  net.isolate(1);
  ASSERT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(batch_of(1, 8), 77)));
  net.stabilize();
  net.heal();
  net.isolate(1);
  net.campaign(2);
  ASSERT_TRUE(std::holds_alternative<Proposed>(net.node(2).propose(batch_of(3, 8))));
  net.stabilize();
  ASSERT_TRUE(net.compact(2).ok());
  net.heal();
  net.tick(2);
  net.stabilize();
  EXPECT_EQ(net.node(1).snapshot().index, net.node(2).snapshot().index);
  ASSERT_EQ(net.storage(1).proposals.size(), 1u);
  EXPECT_EQ(net.storage(1).proposals[0].context, 77u);
  EXPECT_EQ(net.storage(1).proposals[0].fate, ProposalFate::kUnknown);
}

}  // namespace
}  // namespace ringraft::raft
