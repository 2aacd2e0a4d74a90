// Replication: entries replicate and commit, conflicting logs are repaired with few round trips
// thanks to the conflict hints, Appends are batched within limits, pipelining stays within the
// inflight window, the leader's own durability gates its vote, and the current-term commit
// rule (Raft §5.3, §5.4.2; thesis §10.2.1).
#include <gtest/gtest.h>

#include <optional>

#include "raft/core/core.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

using testing::batch_of;
using testing::Network;

InitialState state_with_log_terms(std::vector<uint64_t> terms, uint64_t term, uint64_t commit) {
  InitialState state;
  for (size_t i = 0; i < terms.size(); ++i) {
    state.entries.push_back(Entry{Term{terms[i]}, LogIndex{i + 1}, Payload(1, std::byte{1})});
  }
  state.hard_state.term = Term{term};
  state.hard_state.commit = LogIndex{commit};
  return state;
}

size_t count_messages(const std::vector<Message>& messages, MessageType type, NodeId from,
                      NodeId to, bool reject = false) {
  size_t count = 0;
  for (const Message& m : messages) {
    if (m.type == type && m.from == from && m.to == to && m.reject == reject) ++count;
  }
  return count;
}

void expect_logs_equal(Network& net) {
  for (uint64_t id = 2; id <= net.size(); ++id) {
    EXPECT_EQ(net.storage(id).entries, net.storage(1).entries) << "node " << id;
  }
}

TEST(Replication, EntriesReplicateAndCommitOnEveryNode) {
  Network net(3);
  net.campaign(1);
  ASSERT_EQ(net.node(1).role(), Role::kLeader);
  const ProposeResult result = net.node(1).propose(batch_of(3, 16));
  ASSERT_TRUE(std::holds_alternative<Proposed>(result));
  EXPECT_EQ(std::get<Proposed>(result).first, LogIndex{2});  // after the leader's noop
  EXPECT_EQ(std::get<Proposed>(result).last, LogIndex{4});
  net.stabilize();
  for (uint64_t id = 1; id <= 3; ++id) {
    SCOPED_TRACE(::testing::Message() << "node " << id);
    EXPECT_EQ(net.node(id).log().committed(), LogIndex{4});
    ASSERT_EQ(net.storage(id).entries.size(), 4u);
    ASSERT_EQ(net.storage(id).applied.size(), 4u);
    EXPECT_EQ(net.storage(id).applied[3].payload, testing::payload_of(16, 2));
    EXPECT_EQ(net.storage(id).hard_state.commit, LogIndex{4});
  }
}

TEST(Replication, ConflictingFollowerLogIsOverwrittenInFewRoundTrips) {
  // Raft paper Figure 7-like: node 3 holds a long suffix of terms 2 and 3 that no leader
  // committed; nodes 1 and 2 hold entries of terms 4, 5 and 6.
  const std::vector<uint64_t> good{1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  const std::vector<uint64_t> bad{1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3};
  Network net({state_with_log_terms(good, 6, 3), state_with_log_terms(good, 6, 3),
               state_with_log_terms(bad, 6, 3)},
              1);
  net.campaign(1);
  ASSERT_EQ(net.node(1).role(), Role::kLeader);
  net.node(1).propose(batch_of(2, 8));
  net.stabilize();

  expect_logs_equal(net);
  EXPECT_EQ(net.node(3).log().last_index(), LogIndex{13});
  // One index at a time would take 8 rejections; the term hint skips straight to index 3.
  const size_t rejections =
      count_messages(net.delivered(), MessageType::kAppendResponse, NodeId{3}, NodeId{1}, true);
  EXPECT_EQ(rejections, 1u);
  std::vector<LogIndex> prev_indexes;
  for (const Message& m : net.delivered()) {
    if (m.type == MessageType::kAppend && m.to == NodeId{3}) prev_indexes.push_back(m.log_index);
  }
  ASSERT_GE(prev_indexes.size(), 2u);
  EXPECT_EQ(prev_indexes[0], LogIndex{10});  // the first probe, after the leader's last entry
  EXPECT_EQ(prev_indexes[1], LogIndex{3});   // straight to the last index that matches
}

TEST(Replication, FollowerWithLongerStaleTailIsRepairedInFewRoundTrips) {
  // The follower is far ahead in index with old terms: the hint also clamps to its last index
  // from the other direction (the leader is shorter).
  const std::vector<uint64_t> leader_log{1, 1, 5};
  std::vector<uint64_t> stale(40, 2);
  stale[0] = 1;
  Network net({state_with_log_terms(leader_log, 5, 1), state_with_log_terms(leader_log, 5, 1),
               state_with_log_terms(stale, 5, 1)},
              1);
  net.campaign(1);
  net.stabilize();
  expect_logs_equal(net);
  EXPECT_LE(
      count_messages(net.delivered(), MessageType::kAppendResponse, NodeId{3}, NodeId{1}, true),
      2u);
}

TEST(Replication, BatchingRespectsEntryAndByteLimits) {
  Network net(3, 1, [](Config& config) {
    config.append_entries_max = 4;
    config.append_bytes_max = 100;
  });
  net.campaign(1);
  net.node(1).propose(batch_of(20, 30));
  net.node(1).propose(batch_of(1, 500));  // larger than a batch: travels alone
  net.stabilize();
  expect_logs_equal(net);
  EXPECT_EQ(net.node(3).log().committed(), LogIndex{22});
  size_t appends_with_entries = 0;
  for (const Message& m : net.delivered()) {
    if (m.type != MessageType::kAppend || m.entries.empty()) continue;
    ++appends_with_entries;
    EXPECT_LE(m.entries.size(), 4u);
    if (m.entries.size() > 1) {
      EXPECT_LE(entries_size_bytes(m.entries), 100u);
    }
  }
  // 21 entries of 30 bytes (3 per Append by bytes) and one of 500: at least 8 per follower.
  EXPECT_GE(appends_with_entries, 2u * 8u);
}

TEST(Replication, PipeliningRespectsTheInflightCountBound) {
  Network net(3, 1, [](Config& config) {
    config.append_entries_max = 1;
    config.inflight_count_max = 3;
  });
  net.campaign(1);  // followers now in replicate state
  ASSERT_EQ(net.node(1).progress(NodeId{2})->state(), ProgressState::kReplicate);
  for (int i = 0; i < 10; ++i) net.node(1).propose(batch_of(1, 8));
  net.process_readies();
  // Three Appends per follower are on the wire, none acknowledged: the window is full.
  size_t to_node_2 = 0;
  for (const Message& m : net.queued()) {
    if (m.type == MessageType::kAppend && m.to == NodeId{2}) ++to_node_2;
  }
  EXPECT_EQ(to_node_2, 3u);
  const Progress* pr = net.node(1).progress(NodeId{2});
  EXPECT_EQ(pr->inflights().count(), 3u);
  EXPECT_TRUE(pr->is_paused());
  EXPECT_EQ(pr->next(), LogIndex{5});

  // Acknowledgements open the window again; everything flows and commits.
  net.stabilize();
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{11});
  expect_logs_equal(net);
}

TEST(Replication, PipeliningRespectsTheInflightByteBound) {
  Network net(3, 1, [](Config& config) {
    config.append_entries_max = 1;
    config.inflight_count_max = 100;
    config.inflight_bytes_max = 100;
  });
  net.campaign(1);
  for (int i = 0; i < 10; ++i) net.node(1).propose(batch_of(1, 25));
  net.process_readies();
  uint64_t bytes_to_node_2 = 0;
  for (const Message& m : net.queued()) {
    if (m.type == MessageType::kAppend && m.to == NodeId{2}) {
      bytes_to_node_2 += entries_size_bytes(m.entries);
    }
  }
  EXPECT_EQ(bytes_to_node_2, 100u);
  EXPECT_EQ(net.node(1).progress(NodeId{2})->inflights().size_bytes(), 100u);
  EXPECT_TRUE(net.node(1).progress(NodeId{2})->is_paused());
  net.stabilize();
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{11});
}

TEST(Replication, LostAppendIsResentAfterAHeartbeat) {
  Network net(3, 1, [](Config& config) { config.inflight_count_max = 2; });
  net.campaign(1);
  net.set_filter([](const Message& m) { return m.type == MessageType::kAppend; });
  net.node(1).propose(batch_of(1, 8));
  net.node(1).propose(batch_of(1, 8));
  net.stabilize();  // both Appends lost: node 1's windows are full
  EXPECT_TRUE(net.node(1).progress(NodeId{2})->is_paused());
  net.clear_filter();
  net.tick(1);  // heartbeat; its answer frees the stuck window and the leader resends
  net.stabilize();
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{3});
  expect_logs_equal(net);
}

TEST(Replication, LeadersOwnDurabilityGatesItsVoteForCommit) {
  Network net(3);
  net.campaign(1);
  net.isolate(3);  // the leader and node 2 form the only possible majority
  net.hold_durability(1);
  net.node(1).propose(batch_of(1, 8));
  net.stabilize();
  // The Append left in parallel with the leader's write; node 2 has the entry and said so.
  EXPECT_EQ(net.storage(2).entries.size(), 2u);
  EXPECT_EQ(net.node(1).progress(NodeId{2})->match(), LogIndex{2});
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{1}) << "leader's copy not durable yet";

  net.release_durability(1);
  net.stabilize();
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{2});
  EXPECT_EQ(net.storage(1).applied.size(), 2u);
}

TEST(Replication, QuorumOfFollowersCommitsButLeaderAppliesOnlyDurableEntries) {
  Network net(3);
  net.campaign(1);
  net.hold_durability(1);
  net.node(1).propose(batch_of(1, 8));
  net.stabilize();
  // Nodes 2 and 3 are a majority without the leader: the entry commits (§5.3)...
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{2});
  // ...but the leader applies only what its own disk holds.
  EXPECT_EQ(net.storage(1).applied.size(), 1u);
  net.release_durability(1);
  net.stabilize();
  EXPECT_EQ(net.storage(1).applied.size(), 2u);
}

TEST(Replication, EntriesOfAnEarlierTermCommitOnlyWithOneOfTheCurrentTerm) {
  // Raft §5.4.2 (Figure 8): node 1 holds an entry of term 2 that nodes 2 and 3 lack. As leader
  // of term 3, replicating it to a majority does not commit it by itself.
  Network net({state_with_log_terms({1, 2}, 2, 1), state_with_log_terms({1}, 2, 1),
               state_with_log_terms({1}, 2, 1)},
              1, [](Config& config) { config.append_entries_max = 1; });
  // The leader never hears that a follower holds its noop (index 3, term 3): only index 2.
  net.set_filter([](const Message& m) {
    return m.type == MessageType::kAppendResponse && !m.reject && m.log_index >= LogIndex{3};
  });
  net.campaign(1);
  ASSERT_EQ(net.node(1).role(), Role::kLeader);
  ASSERT_EQ(net.node(1).term(), Term{3});
  EXPECT_EQ(net.node(1).progress(NodeId{2})->match(), LogIndex{2});
  EXPECT_EQ(net.node(1).progress(NodeId{3})->match(), LogIndex{2});
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{1}) << "a majority holds index 2 (term 2)";

  net.clear_filter();
  net.tick(1);
  net.stabilize();
  EXPECT_EQ(net.node(1).log().committed(), LogIndex{3});
  expect_logs_equal(net);
}

TEST(Replication, LeaderSendsAppendsInParallelWithItsOwnWrite) {
  Network net(3);
  net.campaign(1);
  Core& leader = net.node(1);
  leader.propose(batch_of(2, 8));
  Ready ready = leader.ready();
  leader.advance(ready);
  ASSERT_EQ(ready.entries.size(), 2u);   // to write...
  ASSERT_EQ(ready.messages.size(), 2u);  // ...while these leave (ready.h, point 2)
  for (const Message& m : ready.messages) {
    EXPECT_EQ(m.type, MessageType::kAppend);
    EXPECT_EQ(m.entries.size(), 2u);
  }
  EXPECT_TRUE(ready.messages_after_persist.empty());
}

TEST(Replication, FollowerAcknowledgesOnlyAfterPersisting) {
  Network net(3);
  net.campaign(1);
  net.node(1).propose(batch_of(1, 8));
  net.process_readies();
  // Hand node 2 its Append by hand and look at the Ready it produces.
  std::optional<Message> append;
  for (const Message& m : net.queued()) {
    if (m.type == MessageType::kAppend && m.to == NodeId{2}) append = m;
  }
  ASSERT_TRUE(append.has_value());
  Core& follower = net.node(2);
  ASSERT_TRUE(follower.step(*append).ok());
  Ready ready = follower.ready();
  follower.advance(ready);
  ASSERT_EQ(ready.entries.size(), 1u);
  EXPECT_TRUE(ready.messages.empty());
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);  // only once the entry is durable
  EXPECT_EQ(ready.messages_after_persist[0].type, MessageType::kAppendResponse);
  EXPECT_EQ(ready.messages_after_persist[0].log_index, LogIndex{2});
}

TEST(Replication, RestartedFollowerKeepsItsLogAndCatchesUp) {
  Network net(3);
  net.campaign(1);
  net.node(1).propose(batch_of(4, 8));
  net.stabilize();
  net.isolate(3);
  net.restart(3);
  EXPECT_EQ(net.node(3).log().last_index(), LogIndex{5});
  EXPECT_EQ(net.node(3).log().committed(), LogIndex{5});
  net.node(1).propose(batch_of(2, 8));
  net.stabilize();
  net.heal();
  net.tick(1);
  net.stabilize();
  expect_logs_equal(net);
  EXPECT_EQ(net.node(3).log().committed(), LogIndex{7});
  EXPECT_EQ(net.storage(3).applied.size(), 7u);  // re-applied from the start after restart
}

TEST(Replication, ProposalsBeyondTheUncommittedBoundAreRefusedUntilCommitsCatchUp) {
  Network net(3, 1, [](Config& config) { config.uncommitted_bytes_max = 100; });
  net.campaign(1);
  net.isolate(2);
  net.isolate(3);  // nothing can commit
  Core& leader = net.node(1);
  EXPECT_TRUE(std::holds_alternative<Proposed>(leader.propose(batch_of(2, 40))));
  const ProposeResult full = leader.propose(batch_of(1, 40));
  ASSERT_TRUE(std::holds_alternative<ProposalsFull>(full));
  EXPECT_EQ(std::get<ProposalsFull>(full).uncommitted_bytes, 80u);
  EXPECT_TRUE(std::holds_alternative<Proposed>(leader.propose(batch_of(1, 20))));  // fits
  net.stabilize();

  net.heal();
  net.tick(1);
  net.stabilize();
  EXPECT_EQ(leader.log().committed(), LogIndex{4});
  EXPECT_TRUE(std::holds_alternative<Proposed>(leader.propose(batch_of(1, 100))));
}

TEST(Replication, OneBatchLargerThanTheUncommittedBoundIsAcceptedWhenNothingIsPending) {
  Network net(3, 1, [](Config& config) { config.uncommitted_bytes_max = 10; });
  net.campaign(1);
  EXPECT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(batch_of(1, 500))));
  EXPECT_TRUE(std::holds_alternative<ProposalsFull>(net.node(1).propose(batch_of(1, 1))));
  net.stabilize();
  EXPECT_TRUE(std::holds_alternative<Proposed>(net.node(1).propose(batch_of(1, 1))));
}

TEST(Replication, FollowerRejectionCarriesTheConflictHint) {
  Network net({state_with_log_terms({1, 1, 1, 4, 4}, 4, 0), state_with_log_terms({1, 1}, 4, 0)}, 1);
  Message append{.type = MessageType::kAppend,
                 .from = NodeId{1},
                 .to = NodeId{2},
                 .term = Term{5},
                 .log_index = LogIndex{5},
                 .log_term = Term{4}};
  ASSERT_TRUE(net.node(2).step(std::move(append)).ok());
  Ready ready = net.node(2).ready();
  net.node(2).advance(ready);
  ASSERT_EQ(ready.messages_after_persist.size(), 1u);
  const Message& response = ready.messages_after_persist[0];
  EXPECT_TRUE(response.reject);
  EXPECT_EQ(response.log_index, LogIndex{5});
  EXPECT_EQ(response.reject_hint_index, LogIndex{2});  // its last index
  EXPECT_EQ(response.reject_hint_term, Term{1});
}

}  // namespace
}  // namespace ringraft::raft
