// Learners: they receive and apply the log, but do not vote, campaign or count toward quorums.
#include <gtest/gtest.h>

#include "raft/core/core.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

using testing::Network;

void node_4_learns(Config& config) {
  config.voters = {NodeId{1}, NodeId{2}, NodeId{3}};
  config.learners = {NodeId{4}};
}

TEST(Learner, VoteRequestIsRefused) {
  Network net(4, 1, node_4_learns);
  const Message request{.type = MessageType::kVoteRequest,
                        .from = NodeId{1},
                        .to = NodeId{4},
                        .term = Term{1},
                        .log_index = LogIndex{0},
                        .log_term = Term{0}};
  ASSERT_TRUE(net.node(4).step(request).ok());
  EXPECT_EQ(net.node(4).vote(), kNoNode);
  Ready ready = net.node(4).ready();
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);
  EXPECT_TRUE(ready.messages_after_persist[0].reject);
  net.node(4).advance(ready);
}

TEST(Learner, CampaignIsANoOpAndTransferToALearnerIsRefused) {
  Network net(4, 1, node_4_learns);
  net.campaign(4);
  EXPECT_EQ(net.node(4).role(), Role::kFollower);
  EXPECT_EQ(net.node(4).term(), Term{0});
  net.campaign(1);
  EXPECT_FALSE(net.node(1).transfer_leader(NodeId{4}).ok());
}

TEST(Learner, CheckQuorumDoesNotCountTheLearner) {
  Network net(4, 1, node_4_learns);
  net.campaign(1);
  net.isolate(2);
  net.isolate(3);
  net.tick(4);  // the learner keeps answering heartbeats...
  for (int i = 0; i < 2 * 10; ++i) {
    net.tick(1);
    net.stabilize();
  }
  EXPECT_EQ(net.node(1).role(), Role::kFollower);  // ...which is no quorum
}

TEST(Learner, ConfigRefusesANodeThatIsVoterAndLearner) {
  Config config;
  config.id = NodeId{1};
  config.voters = {NodeId{1}, NodeId{2}};
  config.learners = {NodeId{2}};
  EXPECT_FALSE(config.validate().ok());
  config.learners = {NodeId{3}, NodeId{3}};
  EXPECT_FALSE(config.validate().ok());
  config.learners = {NodeId{3}};
  EXPECT_TRUE(config.validate().ok());
  config.id = NodeId{3};  // a learner's own config
  EXPECT_TRUE(config.validate().ok());
}

}  // namespace
}  // namespace ringraft::raft
