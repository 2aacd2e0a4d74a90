// Proposal contexts (proposal.h) and the explicit answers to bad or stale messages: a batch's
// context comes back with its fate; malformed input is refused, stale input answered or dropped.
#include <gtest/gtest.h>

#include "raft/core/core.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

using testing::batch_of;
using testing::Network;

// Without CheckQuorum, followers that heard a leader still vote: campaign() hands over at once.
void no_check_quorum(Config& config) {
  config.check_quorum = false;
}

Proposed propose_ok(Core& core, size_t count, uint64_t context) {
  const ProposeResult result = core.propose(batch_of(count, 8), context);
  RR_ASSERT(std::holds_alternative<Proposed>(result));
  return std::get<Proposed>(result);
}

TEST(Proposal, ContextComesBackCommittedWithItsEntries) {
  Network net(3);
  net.campaign(1);
  const Proposed first = propose_ok(net.node(1), 2, 41);
  const Proposed second = propose_ok(net.node(1), 3, 42);
  EXPECT_EQ(first.term, net.node(1).term());
  net.stabilize();
  const auto& outcomes = net.storage(1).proposals;
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].context, 41u);
  EXPECT_EQ(outcomes[0].first, first.first);
  EXPECT_EQ(outcomes[0].last, first.last);
  EXPECT_EQ(outcomes[0].fate, ProposalFate::kCommitted);
  EXPECT_EQ(outcomes[1].context, 42u);
  EXPECT_EQ(outcomes[1].last, second.last);
  EXPECT_EQ(outcomes[1].fate, ProposalFate::kCommitted);
  // Resolved only once applied: the leader applied the batch in the same or an earlier Ready.
  EXPECT_GE(net.storage(1).applied.size(), second.last.value());
  EXPECT_TRUE(net.storage(2).proposals.empty());  // contexts stay with the proposing leader
}

TEST(Proposal, NoContextIsReportedBeforeTheBatchIsApplied) {
  Network net(3);
  net.campaign(1);
  net.isolate(2);
  net.isolate(3);
  propose_ok(net.node(1), 1, 7);
  net.stabilize();
  EXPECT_TRUE(net.storage(1).proposals.empty());
}

TEST(Proposal, OverwrittenBatchResolvesAsDropped) {
  Network net(3, 1, no_check_quorum);
  net.campaign(1);
  net.isolate(1);
  const Proposed lost = propose_ok(net.node(1), 2, 99);  // never leaves node 1
  net.stabilize();
  net.heal();
  net.isolate(1);
  net.campaign(2);  // 2 and 3 elect 2, which commits its own entries over index 2
  ASSERT_EQ(net.node(2).role(), Role::kLeader);
  propose_ok(net.node(2), 3, 5);
  net.stabilize();
  net.heal();
  net.tick(2);  // a heartbeat brings node 1 back as a follower, and its log is repaired
  net.stabilize();
  ASSERT_GE(net.node(1).log().committed(), lost.last);
  const auto& outcomes = net.storage(1).proposals;
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].context, 99u);
  EXPECT_EQ(outcomes[0].fate, ProposalFate::kDropped);
}

TEST(Proposal, BatchProposedOverAnOldOneResolvesTheOldOneAsDropped) {
  Network net(3, 1, no_check_quorum);
  net.campaign(1);
  net.isolate(1);
  const Proposed old_batch = propose_ok(net.node(1), 3, 1);
  net.stabilize();
  // Node 1 steps down on a higher term from node 2, whose log lacks the batch, and wins back
  // leadership only after node 2's log replaced its suffix.
  net.heal();
  net.isolate(1);
  net.campaign(2);
  net.heal();
  net.tick(2);
  net.stabilize();
  ASSERT_EQ(net.node(1).role(), Role::kFollower);
  EXPECT_LT(net.node(1).log().last_index(), old_batch.last);
  net.campaign(1);
  ASSERT_EQ(net.node(1).role(), Role::kLeader);
  propose_ok(net.node(1), 1, 2);
  net.stabilize();
  const auto& outcomes = net.storage(1).proposals;
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].context, 1u);
  EXPECT_EQ(outcomes[0].fate, ProposalFate::kDropped);
  EXPECT_EQ(outcomes[1].context, 2u);
  EXPECT_EQ(outcomes[1].fate, ProposalFate::kCommitted);
}

TEST(Proposal, PendingContextsAreBounded) {
  Network net(3, 1, [](Config& config) { config.proposal_contexts_max = 2; });
  net.campaign(1);
  net.isolate(2);
  net.isolate(3);
  propose_ok(net.node(1), 1, 1);
  propose_ok(net.node(1), 1, 2);
  EXPECT_TRUE(std::holds_alternative<ProposalsFull>(net.node(1).propose(batch_of(1, 8), 3)));
  // Without a context nothing is tracked, so the bound does not apply.
  EXPECT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(batch_of(1, 8))));
  net.heal();
  net.stabilize();
  EXPECT_EQ(net.storage(1).proposals.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(batch_of(1, 8), 3)));
}

TEST(MessageErrors, StaleAppendIsAnsweredWithTheCurrentTerm) {
  Network net(3, 1, no_check_quorum);
  net.campaign(1);
  net.campaign(2);  // term 2
  const Term term = net.node(2).term();
  Message stale{.type = MessageType::kAppend,
                .from = NodeId{1},
                .to = NodeId{3},
                .term = Term{term.value() - 1},
                .log_index = LogIndex{1},
                .log_term = Term{1}};
  const size_t delivered_before = net.delivered().size();
  ASSERT_TRUE(net.node(3).step(stale).ok());
  net.stabilize();
  bool answered = false;
  for (size_t i = delivered_before; i < net.delivered().size(); ++i) {
    const Message& m = net.delivered()[i];
    answered = answered || (m.type == MessageType::kAppendResponse && m.from == NodeId{3} &&
                            m.to == NodeId{1} && m.term == term);
  }
  EXPECT_TRUE(answered) << "the stale leader learns the current term";
  EXPECT_EQ(net.node(3).leader(), NodeId{2});
}

TEST(MessageErrors, StaleVoteResponseIsDroppedWithoutEffect) {
  Network net(3, 1, no_check_quorum);
  net.campaign(2);
  net.campaign(1);  // term 2
  const Message old_vote{.type = MessageType::kVoteResponse,
                         .from = NodeId{2},
                         .to = NodeId{1},
                         .term = Term{net.node(1).term().value() - 1}};
  ASSERT_TRUE(net.node(1).step(old_vote).ok());
  EXPECT_FALSE(net.node(1).has_ready());
  EXPECT_EQ(net.node(1).role(), Role::kLeader);
}

TEST(MessageErrors, AcknowledgementBeyondTheLeadersLogIsRefused) {
  Network net(3);
  net.campaign(1);
  const Message beyond{.type = MessageType::kAppendResponse,
                       .from = NodeId{2},
                       .to = NodeId{1},
                       .term = net.node(1).term(),
                       .log_index = LogIndex{net.node(1).log().last_index().value() + 5}};
  const Result<void> result = net.node(1).step(beyond);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(net.node(1).progress(NodeId{2})->match(), net.node(1).log().last_index());
}

TEST(MessageErrors, HeartbeatCommitBeyondTheFollowersLogIsClamped) {
  Network net(3);
  net.campaign(1);
  const LogIndex last = net.node(2).log().last_index();
  const Message heartbeat{.type = MessageType::kHeartbeat,
                          .from = NodeId{1},
                          .to = NodeId{2},
                          .term = net.node(1).term(),
                          .commit = LogIndex{last.value() + 10}};
  ASSERT_TRUE(net.node(2).step(heartbeat).ok());
  EXPECT_EQ(net.node(2).log().committed(), last);
}

TEST(MessageErrors, UnknownSenderIsRefusedWithoutEffect) {
  Network net(3);
  net.campaign(1);
  const Message stranger{.type = MessageType::kAppend,
                         .from = NodeId{7},
                         .to = NodeId{2},
                         .term = Term{net.node(1).term().value() + 1}};
  const Result<void> result = net.node(2).step(stranger);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(net.node(2).term(), net.node(1).term());
  EXPECT_FALSE(net.node(2).has_ready());
}

}  // namespace
}  // namespace ringraft::raft
