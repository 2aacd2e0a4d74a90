// Leadership transfer: refusals, the handover under CheckQuorum, and what the old leader stops
// doing meanwhile (thesis §3.10); and step_down, what a leader whose storage failed does.
#include <gtest/gtest.h>

#include "raft/core/core.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

using testing::Network;

TEST(Transfer, IsRefusedOffTheLeaderForItselfAndForStrangers) {
  Network net(3);
  net.campaign(1);
  EXPECT_FALSE(net.node(2).transfer_leader(NodeId{3}).ok());
  EXPECT_FALSE(net.node(1).transfer_leader(NodeId{1}).ok());
  const Result<void> stranger = net.node(1).transfer_leader(NodeId{9});
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(net.node(1).transferee(), kNoNode);
}

TEST(Transfer, ProposalsDuringTheHandoverPointAtTheTarget) {
  Network net(3);
  net.campaign(1);
  net.isolate(2);
  ASSERT_TRUE(net.node(1).transfer_leader(NodeId{2}).ok());
  const ProposeResult result = net.node(1).propose(testing::batch_of(1, 8));
  ASSERT_TRUE(std::holds_alternative<NotLeader>(result));
  EXPECT_EQ(std::get<NotLeader>(result).leader_hint, NodeId{2});
}

TEST(Transfer, TargetWinsWithoutWaitingDespiteCheckQuorum) {
  Network net(5);
  net.campaign(1);
  ASSERT_TRUE(net.node(1).transfer_leader(NodeId{4}).ok());
  net.stabilize();  // no ticks: nobody's election timeout fired
  EXPECT_EQ(net.leader(), NodeId{4});
  for (uint64_t id = 1; id <= 5; ++id) EXPECT_EQ(net.node(id).leader(), NodeId{4}) << id;
  EXPECT_EQ(net.node(1).transferee(), kNoNode);
}

TEST(Transfer, LeaseEndsWhenTheHandoverStarts) {
  Network net(3, 1, [](Config& config) { config.lease_reads = true; });
  net.campaign(1);
  net.tick(1);
  net.stabilize();
  net.isolate(2);
  ASSERT_TRUE(net.node(1).transfer_leader(NodeId{2}).ok());
  ASSERT_TRUE(std::holds_alternative<ReadQueued>(net.node(1).read_index(1)));
  net.process_readies();
  EXPECT_TRUE(net.storage(1).read_states.empty()) << "a lease read during a handover";
}

// Core::step_down: the caller's storage failed. The leader keeps its term and vote but no
// longer leads, answers reads or takes proposals; a follower keeps following.
TEST(StepDown, LeaderBecomesAFollowerOfNobodyWithoutLeaseOrReads) {
  Network net(3, 1, [](Config& config) { config.lease_reads = true; });
  net.campaign(1);
  net.tick(1);
  net.stabilize();
  const Term term = net.node(1).term();
  net.node(1).step_down();
  EXPECT_EQ(net.node(1).role(), Role::kFollower);
  EXPECT_EQ(net.node(1).leader(), kNoNode);
  EXPECT_EQ(net.node(1).term(), term);
  EXPECT_EQ(net.node(1).vote(), NodeId{1});
  EXPECT_TRUE(std::holds_alternative<NotLeader>(net.node(1).propose(testing::batch_of(1, 8))));
  EXPECT_TRUE(std::holds_alternative<NotLeader>(net.node(1).read_index(7)));
  net.node(2).step_down();
  EXPECT_EQ(net.node(2).role(), Role::kFollower);
  EXPECT_EQ(net.node(2).leader(), NodeId{1});
}

TEST(Transfer, LearnerIgnoresTimeoutNow) {
  Network net(4, 1, [](Config& config) {
    config.voters = {NodeId{1}, NodeId{2}, NodeId{3}};
    config.learners = {NodeId{4}};
  });
  net.campaign(1);
  const Message handover{.type = MessageType::kTimeoutNow,
                         .from = NodeId{1},
                         .to = NodeId{4},
                         .term = net.node(1).term()};
  ASSERT_TRUE(net.node(4).step(handover).ok());
  EXPECT_EQ(net.node(4).role(), Role::kFollower);
  EXPECT_EQ(net.node(4).term(), net.node(1).term());
}

TEST(Transfer, StaleTimeoutNowIsIgnored) {
  Network net(3);
  net.campaign(1);
  const Message stale{.type = MessageType::kTimeoutNow,
                      .from = NodeId{3},  // not node 2's leader
                      .to = NodeId{2},
                      .term = net.node(1).term()};
  ASSERT_TRUE(net.node(2).step(stale).ok());
  EXPECT_EQ(net.node(2).role(), Role::kFollower);
  EXPECT_FALSE(net.node(2).has_ready());
}

}  // namespace
}  // namespace ringraft::raft
