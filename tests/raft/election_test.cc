// Elections: randomized timeouts, vote once per term, the log up-to-date check, split votes,
// PreVote and CheckQuorum (Raft §5.2, §5.4.1; thesis §9.6, §6.2).
#include <gtest/gtest.h>

#include <set>

#include "raft/core/core.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

using testing::Network;

constexpr uint32_t kElectionTicks = 10;

// Ticks every node, one tick at a time, delivering in between, until a leader emerges.
NodeId tick_until_leader(Network& net, int ticks_max = 200) {
  for (int i = 0; i < ticks_max; ++i) {
    net.tick_all();
    net.stabilize();
    if (net.leader() != kNoNode) return net.leader();
  }
  return kNoNode;
}

void expect_one_leader_followed_by_all(Network& net) {
  const NodeId leader = net.leader();
  ASSERT_NE(leader, kNoNode);
  const Term term = net.node(leader.value()).term();
  for (uint64_t id = 1; id <= net.size(); ++id) {
    Core& core = net.node(id);
    EXPECT_EQ(core.term(), term) << "node " << id;
    EXPECT_EQ(core.leader(), leader) << "node " << id;
    if (NodeId{id} != leader) {
      EXPECT_EQ(core.role(), Role::kFollower) << "node " << id;
    }
  }
}

InitialState state_with_log_terms(std::vector<uint64_t> terms, uint64_t term) {
  InitialState state;
  for (size_t i = 0; i < terms.size(); ++i) {
    state.entries.push_back(Entry{Term{terms[i]}, LogIndex{i + 1}, {}});
  }
  state.hard_state.term = Term{term};
  return state;
}

Message vote_request(uint64_t from, uint64_t to, uint64_t term, uint64_t last_index,
                     uint64_t last_term) {
  return Message{.type = MessageType::kVoteRequest,
                 .from = NodeId{from},
                 .to = NodeId{to},
                 .term = Term{term},
                 .log_index = LogIndex{last_index},
                 .log_term = Term{last_term}};
}

Core make_core(uint64_t id, size_t voters, bool pre_vote = true, bool check_quorum = true) {
  Config config;
  config.id = NodeId{id};
  for (uint64_t i = 1; i <= voters; ++i) config.voters.push_back(NodeId{i});
  config.pre_vote = pre_vote;
  config.check_quorum = check_quorum;
  Result<Core> core = Core::create(std::move(config));
  RR_ASSERT(core.ok());
  return std::move(core).value();
}

TEST(Election, ThreeNodesElectOneLeader) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Network net(3, seed);
    ASSERT_NE(tick_until_leader(net), kNoNode);
    expect_one_leader_followed_by_all(net);
    EXPECT_EQ(net.node(net.leader().value()).term(), Term{1});  // PreVote: no wasted terms
  }
}

TEST(Election, FiveNodesElectOneLeader) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Network net(5, seed);
    ASSERT_NE(tick_until_leader(net), kNoNode);
    expect_one_leader_followed_by_all(net);
  }
}

TEST(Election, SingleNodeElectsItselfAndCommits) {
  Network net(1);
  net.campaign(1);
  EXPECT_EQ(net.node(1).role(), Role::kLeader);
  // Its own durable noop is a quorum of one.
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{1});
}

TEST(Election, RandomizedTimeoutIsInElectionTicksToTwiceThat) {
  std::set<uint32_t> seen;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Network net(3, seed);
    Core& core = net.node(1);
    int ticks = 0;
    while (core.role() == Role::kFollower && ticks < 100) {
      net.tick(1);
      ++ticks;
    }
    EXPECT_GE(ticks, static_cast<int>(kElectionTicks));
    EXPECT_LT(ticks, static_cast<int>(2 * kElectionTicks));
    seen.insert(static_cast<uint32_t>(ticks));
  }
  EXPECT_GE(seen.size(), 5u) << "timeouts should spread over the range";
}

TEST(Election, SameSeedReplaysTheSameElection) {
  Network first(5, 42);
  Network second(5, 42);
  EXPECT_EQ(tick_until_leader(first), tick_until_leader(second));
  EXPECT_EQ(first.delivered().size(), second.delivered().size());
}

TEST(Election, SplitVoteIsResolvedInALaterTerm) {
  Network net(4, 7, [](Config& config) { config.pre_vote = false; });
  // Nodes 1 and 2 campaign at once; 3 hears only from 1, 4 only from 2: two votes each.
  net.node(1).campaign();
  net.node(2).campaign();
  net.set_filter([](const Message& m) {
    return m.type == MessageType::kVoteRequest && ((m.from == NodeId{1} && m.to == NodeId{4}) ||
                                                   (m.from == NodeId{2} && m.to == NodeId{3}));
  });
  net.stabilize();
  net.clear_filter();
  EXPECT_EQ(net.node(1).role(), Role::kCandidate);
  EXPECT_EQ(net.node(2).role(), Role::kCandidate);
  EXPECT_EQ(net.leader(), kNoNode);
  EXPECT_EQ(net.node(3).vote(), NodeId{1});
  EXPECT_EQ(net.node(4).vote(), NodeId{2});

  ASSERT_NE(tick_until_leader(net), kNoNode);
  expect_one_leader_followed_by_all(net);
  EXPECT_GE(net.node(net.leader().value()).term(), Term{2});
}

TEST(Election, VotesAtMostOncePerTerm) {
  Core voter = make_core(3, 3, false);
  ASSERT_TRUE(voter.step(vote_request(1, 3, 5, 0, 0)).ok());
  Ready ready = voter.ready();
  voter.advance(ready);
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);
  EXPECT_FALSE(ready.messages_after_persist[0].reject);
  EXPECT_EQ(voter.vote(), NodeId{1});

  ASSERT_TRUE(voter.step(vote_request(2, 3, 5, 0, 0)).ok());  // same term, another candidate
  ready = voter.ready();
  voter.advance(ready);
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);
  EXPECT_TRUE(ready.messages_after_persist[0].reject);
  EXPECT_EQ(voter.vote(), NodeId{1});

  ASSERT_TRUE(voter.step(vote_request(1, 3, 5, 0, 0)).ok());  // a retry is granted again
  ready = voter.ready();
  voter.advance(ready);
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);
  EXPECT_FALSE(ready.messages_after_persist[0].reject);
}

TEST(Election, VoteIsInTheHardStateOfTheReadyThatCarriesIt) {
  // Contract (ready.h): a vote leaves only in messages_after_persist, in the same Ready as
  // the hard state recording it, so the caller persists the vote before sending it.
  Core voter = make_core(2, 3, false);
  ASSERT_TRUE(voter.step(vote_request(1, 2, 3, 0, 0)).ok());
  ASSERT_TRUE(voter.has_ready());
  Ready ready = voter.ready();
  voter.advance(ready);
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, Term{3});
  EXPECT_EQ(ready.hard_state->vote, NodeId{1});
  EXPECT_TRUE(ready.messages.empty());
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);
  EXPECT_EQ(ready.messages_after_persist[0].type, MessageType::kVoteResponse);
  EXPECT_FALSE(voter.has_ready());
}

TEST(Election, CandidateWithStaleLogLoses) {
  // Node 1's log ends at term 1; nodes 2 and 3 hold an entry of term 2.
  std::vector<InitialState> states{state_with_log_terms({1}, 2), state_with_log_terms({1, 2}, 2),
                                   state_with_log_terms({1, 2}, 2)};
  Network net(states, 3, [](Config& config) { config.pre_vote = false; });
  net.campaign(1);
  EXPECT_NE(net.node(1).role(), Role::kLeader);
  EXPECT_EQ(net.node(2).vote(), kNoNode);
  EXPECT_EQ(net.node(3).vote(), kNoNode);

  net.campaign(2);
  EXPECT_EQ(net.node(2).role(), Role::kLeader);
  expect_one_leader_followed_by_all(net);
}

TEST(Election, StaleLogLosesThePreVoteWithoutBumpingTerms) {
  std::vector<InitialState> states{state_with_log_terms({1}, 2), state_with_log_terms({1, 2}, 2),
                                   state_with_log_terms({1, 2}, 2)};
  Network net(states, 3);
  net.campaign(1);
  EXPECT_EQ(net.node(1).role(), Role::kFollower);
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_EQ(net.node(id).term(), Term{2}) << "node " << id;
}

TEST(Election, PreVoteBlocksDisruptiveRejoiningNode) {
  Network net(3, 11);
  net.campaign(1);
  ASSERT_EQ(net.node(1).role(), Role::kLeader);
  const Term term = net.node(1).term();

  net.isolate(3);
  for (int i = 0; i < 10 * static_cast<int>(kElectionTicks); ++i) {
    net.tick_all();
    net.stabilize();
  }
  EXPECT_EQ(net.node(3).term(), term) << "pre-votes alone never bump the term";
  EXPECT_EQ(net.node(3).role(), Role::kPreCandidate);

  net.heal();
  for (int i = 0; i < 3 * static_cast<int>(kElectionTicks); ++i) {
    net.tick_all();
    net.stabilize();
  }
  EXPECT_EQ(net.leader(), NodeId{1});
  EXPECT_EQ(net.node(1).term(), term);
  expect_one_leader_followed_by_all(net);
}

TEST(Election, WithoutPreVoteARejoiningNodeDeposesTheLeader) {
  // The counterpart of the test above: the disruption PreVote exists to prevent.
  Network net(3, 11, [](Config& config) {
    config.pre_vote = false;
    config.check_quorum = false;
  });
  net.campaign(1);
  const Term term = net.node(1).term();
  net.isolate(3);
  for (int i = 0; i < 3 * static_cast<int>(kElectionTicks); ++i) {
    net.tick_all();
    net.stabilize();
  }
  EXPECT_GT(net.node(3).term(), term);
  net.heal();
  // Node 3 times out again; its vote request carries a higher term and deposes the leader.
  for (int i = 0; i < 2 * static_cast<int>(kElectionTicks) && net.node(1).role() == Role::kLeader;
       ++i) {
    net.tick(3);
    net.stabilize();
  }
  EXPECT_NE(net.node(1).role(), Role::kLeader);
  EXPECT_GT(net.node(1).term(), term);
}

TEST(Election, LeaderStepsDownByCheckQuorumWhenPartitioned) {
  Network net(3, 5);
  net.campaign(1);
  ASSERT_EQ(net.node(1).role(), Role::kLeader);
  net.isolate(1);
  for (int i = 0; i < 2 * static_cast<int>(kElectionTicks); ++i) {
    net.tick(1);
    net.stabilize();
  }
  EXPECT_EQ(net.node(1).role(), Role::kFollower);
  EXPECT_EQ(net.node(1).leader(), kNoNode);

  // The majority side elects a new leader; once healed, the old one follows it.
  net.heal();
  net.isolate(1);
  for (int i = 0; i < 4 * static_cast<int>(kElectionTicks) && net.leader() == kNoNode; ++i) {
    net.tick(2);
    net.tick(3);
    net.stabilize();
  }
  const NodeId leader = net.leader();
  ASSERT_TRUE(leader == NodeId{2} || leader == NodeId{3});
  net.heal();
  net.tick(leader.value());
  net.stabilize();
  expect_one_leader_followed_by_all(net);
}

TEST(Election, StaleLeaderLearnsTheNewTermFromAFollowersAnswer) {
  // Without CheckQuorum the cut-off leader stays leader; with PreVote the others' new term
  // never reaches it by a vote request. Its next heartbeat is answered with the new term.
  Network net(3, 9, [](Config& config) { config.check_quorum = false; });
  net.campaign(1);
  net.isolate(1);
  net.campaign(2);
  ASSERT_EQ(net.node(2).role(), Role::kLeader);
  ASSERT_EQ(net.node(2).term(), Term{2});
  EXPECT_EQ(net.node(1).role(), Role::kLeader);  // still, in term 1

  net.heal();
  net.tick(1);  // heartbeat of term 1
  net.stabilize();
  EXPECT_EQ(net.node(1).role(), Role::kFollower);
  EXPECT_EQ(net.node(1).term(), Term{2});
  net.tick(2);
  net.stabilize();
  expect_one_leader_followed_by_all(net);
}

TEST(Election, LeaderWithoutCheckQuorumStaysLeaderWhenPartitioned) {
  Network net(3, 5, [](Config& config) { config.check_quorum = false; });
  net.campaign(1);
  net.isolate(1);
  for (int i = 0; i < 5 * static_cast<int>(kElectionTicks); ++i) net.tick(1);
  EXPECT_EQ(net.node(1).role(), Role::kLeader);
}

TEST(Election, FollowerThatHeardALeaderIgnoresVoteRequests) {
  // CheckQuorum's lease side: within an election timeout of the leader's last message, a
  // higher-term request neither changes the follower's term nor gets its vote.
  Network net(3, 5, [](Config& config) { config.pre_vote = false; });
  net.campaign(1);
  Core& follower = net.node(2);
  const Term term = follower.term();
  ASSERT_TRUE(follower.step(vote_request(3, 2, term.value() + 5, 100, 100)).ok());
  EXPECT_EQ(follower.term(), term);
  EXPECT_EQ(follower.leader(), NodeId{1});
}

TEST(Election, LeaderSendsHeartbeatsEveryHeartbeatTicks) {
  Network net(3, 1, [](Config& config) { config.heartbeat_ticks = 3; });
  net.campaign(1);
  const auto heartbeats = [&] {
    size_t count = 0;
    for (const Message& m : net.delivered()) count += m.type == MessageType::kHeartbeat;
    return count;
  };
  for (int i = 0; i < 9; ++i) {
    net.tick(1);
    net.stabilize();
  }
  EXPECT_EQ(heartbeats(), 3u * 2u);  // every third tick, to each of two followers
}

TEST(Election, FollowersDoNotCampaignWhileHeartbeatsArrive) {
  Network net(3, 3);
  net.campaign(1);
  tick_until_leader(net);
  const Term term = net.node(1).term();
  for (int i = 0; i < 10 * static_cast<int>(kElectionTicks); ++i) {
    net.tick_all();
    net.stabilize();
  }
  EXPECT_EQ(net.leader(), NodeId{1});
  EXPECT_EQ(net.node(2).term(), term);
  EXPECT_EQ(net.node(3).term(), term);
}

TEST(Election, RestartedNodeRemembersItsVote) {
  Network net(3, 1, [](Config& config) { config.pre_vote = false; });
  net.isolate(2);
  net.campaign(1);
  ASSERT_EQ(net.node(3).vote(), NodeId{1});
  net.restart(3);
  EXPECT_EQ(net.node(3).vote(), NodeId{1});
  EXPECT_EQ(net.node(3).term(), Term{1});
  // Node 2 now asks node 3 for a vote in the same term: refused.
  ASSERT_TRUE(net.node(3).step(vote_request(2, 3, 1, 5, 1)).ok());
  Ready ready = net.node(3).ready();
  net.node(3).advance(ready);
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);
  EXPECT_TRUE(ready.messages_after_persist[0].reject);
}

TEST(Election, ProposalToAFollowerReturnsTheLeaderHint) {
  Network net(3);
  net.campaign(2);
  const ProposeResult result = net.node(1).propose(testing::batch_of(1, 8));
  ASSERT_TRUE(std::holds_alternative<NotLeader>(result));
  EXPECT_EQ(std::get<NotLeader>(result).leader_hint, NodeId{2});
}

TEST(Election, MalformedMessagesAreRefusedWithoutEffect) {
  Core core = make_core(1, 3);
  Result<void> unknown = core.step(vote_request(9, 1, 5, 0, 0));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidInput);
  EXPECT_FALSE(core.step(vote_request(2, 3, 5, 0, 0)).ok());  // addressed to node 3
  Message gap{.type = MessageType::kAppend, .from = NodeId{2}, .to = NodeId{1}, .term = Term{1}};
  gap.entries.push_back(Entry{Term{1}, LogIndex{5}, {}});  // does not follow index 0
  EXPECT_FALSE(core.step(std::move(gap)).ok());
  EXPECT_FALSE(core.step(vote_request(2, 1, 0, 0, 0)).ok());  // term 0
  EXPECT_EQ(core.term(), Term{0});
  EXPECT_FALSE(core.has_ready());
}

TEST(Election, InvalidConfigIsRefused) {
  Config config;
  config.id = NodeId{4};
  config.voters = {NodeId{1}, NodeId{2}};
  EXPECT_FALSE(Core::create(config).ok());
  config.voters.push_back(NodeId{4});
  config.election_ticks = 1;
  EXPECT_FALSE(Core::create(config).ok());
  config.election_ticks = 10;
  EXPECT_TRUE(Core::create(config).ok());
}

}  // namespace
}  // namespace ringraft::raft
