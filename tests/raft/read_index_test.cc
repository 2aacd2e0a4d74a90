// Linearizable reads: ReadIndex batched over heartbeat rounds, held until the leader commits
// in its term, forwarded by followers, bounded; lease reads (thesis §6.4, §6.4.1).
#include <gtest/gtest.h>

#include "raft/core/core.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

using testing::Network;

size_t count_delivered(const Network& net, MessageType type) {
  size_t count = 0;
  for (const Message& m : net.delivered()) count += m.type == type ? 1 : 0;
  return count;
}

TEST(ReadIndex, ManyReadsShareOneHeartbeatRound) {
  Network net(3);
  net.campaign(1);
  const size_t heartbeats_before = count_delivered(net, MessageType::kHeartbeat);
  // The first read starts a round; the 99 that arrive while it is out share the next one.
  for (uint64_t context = 1; context <= 100; ++context) {
    ASSERT_TRUE(std::holds_alternative<ReadQueued>(net.node(1).read_index(context)));
  }
  net.stabilize();
  ASSERT_EQ(net.storage(1).read_states.size(), 100u);
  for (uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(net.storage(1).read_states[i].context, i + 1);  // in the order asked
    EXPECT_EQ(net.storage(1).read_states[i].index, net.node(1).log().committed());
  }
  EXPECT_EQ(count_delivered(net, MessageType::kHeartbeat) - heartbeats_before, 2u * 2u);
}

TEST(ReadIndex, WaitsForTheLeadersFirstCommitInItsTerm) {
  Network net(3);
  net.isolate(3);
  // Node 2 hears the new leader's heartbeats but not its Appends: the round completes, the
  // no-op of the term does not commit.
  net.set_filter([](const Message& m) { return m.type == MessageType::kAppend; });
  net.campaign(1);
  ASSERT_EQ(net.node(1).role(), Role::kLeader);
  ASSERT_TRUE(std::holds_alternative<ReadQueued>(net.node(1).read_index(7)));
  net.stabilize();
  ASSERT_LT(net.node(1).log().committed(), net.node(1).log().last_index());
  EXPECT_TRUE(net.storage(1).read_states.empty()) << "the round is confirmed, the commit is not";
  net.clear_filter();
  net.tick(1);
  net.stabilize();
  ASSERT_EQ(net.storage(1).read_states.size(), 1u);
  EXPECT_EQ(net.storage(1).read_states[0].index, net.node(1).log().last_index());
}

TEST(ReadIndex, FollowerForwardsTheReadAndGetsTheLeadersCommitIndex) {
  Network net(3);
  net.campaign(1);
  ASSERT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(testing::batch_of(3, 8))));
  net.stabilize();
  ASSERT_TRUE(std::holds_alternative<ReadQueued>(net.node(3).read_index(5)));
  net.stabilize();
  ASSERT_EQ(net.storage(3).read_states.size(), 1u);
  EXPECT_EQ(net.storage(3).read_states[0], (ReadState{5, LogIndex{4}}));
  EXPECT_TRUE(net.storage(1).read_states.empty());
}

TEST(ReadIndex, NodeWithoutALeaderAnswersNotLeader) {
  Network net(3);
  const ReadIndexResult result = net.node(2).read_index(1);
  ASSERT_TRUE(std::holds_alternative<NotLeader>(result));
  EXPECT_EQ(std::get<NotLeader>(result).leader_hint, kNoNode);
}

TEST(ReadIndex, PendingReadsAreBoundedAndDroppedOnStepDown) {
  Network net(3, 1, [](Config& config) { config.read_index_pending_max = 2; });
  net.campaign(1);
  net.isolate(1);
  EXPECT_TRUE(std::holds_alternative<ReadQueued>(net.node(1).read_index(1)));
  EXPECT_TRUE(std::holds_alternative<ReadQueued>(net.node(1).read_index(2)));
  EXPECT_TRUE(std::holds_alternative<ReadsFull>(net.node(1).read_index(3)));
  net.tick(1, 2 * 10);  // CheckQuorum: steps down, its reads are never confirmed
  net.heal();
  net.stabilize();
  EXPECT_EQ(net.node(1).role(), Role::kFollower);
  EXPECT_TRUE(net.storage(1).read_states.empty());
}

TEST(ReadIndex, SingleNodeConfirmsAtOnce) {
  Network net(1);
  net.campaign(1);
  ASSERT_TRUE(std::holds_alternative<ReadQueued>(net.node(1).read_index(9)));
  net.process_readies();
  ASSERT_EQ(net.storage(1).read_states.size(), 1u);
  EXPECT_EQ(net.storage(1).read_states[0].index, LogIndex{1});
}

TEST(Lease, LeaderInItsLeaseAnswersWithoutARound) {
  Network net(3, 1, [](Config& config) { config.lease_reads = true; });
  net.campaign(1);
  net.tick(1);  // a round a quorum acknowledges starts the lease
  net.stabilize();
  const size_t delivered_before = net.delivered().size();
  ASSERT_TRUE(std::holds_alternative<ReadQueued>(net.node(1).read_index(3)));
  net.process_readies();
  EXPECT_EQ(net.storage(1).read_states.size(), 1u);
  EXPECT_TRUE(net.queued().empty());
  EXPECT_EQ(net.delivered().size(), delivered_before);
}

TEST(Lease, NeedsCheckQuorumAndADriftMarginBelowTheElectionTimeout) {
  Config config;
  config.id = NodeId{1};
  config.voters = {NodeId{1}, NodeId{2}, NodeId{3}};
  config.lease_reads = true;
  config.check_quorum = false;
  EXPECT_FALSE(config.validate().ok());
  config.check_quorum = true;
  config.lease_drift_ticks = config.election_ticks;
  EXPECT_FALSE(config.validate().ok());
  config.lease_drift_ticks = 2;
  EXPECT_TRUE(config.validate().ok());
}

}  // namespace
}  // namespace ringraft::raft
