// Membership and leadership of a group through the engine (ShardEngine::add_learner, promote,
// remove_member, transfer_leader, status) over the in-process cluster: node 4 starts outside
// the group, joins as a learner, catches up, is promoted; a voter is removed; leadership moves
// to the new voter while proposals are in flight. Every wait is on an event, bounded by
// run_on_reactor's watchdog.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/replica/cluster.h"

namespace ringraft::replica::testing {
namespace {

using ringraft::testing::run_on_reactor;

constexpr GroupId kGroup{1};

// ASSERT for the coroutine body: on failure, stop the cluster and end the body.
#define MEMBERSHIP_CO_ASSERT(condition, message)         \
  do {                                                   \
    const bool holds = (condition);                      \
    EXPECT_TRUE(holds) << #condition << ": " << message; \
    if (!holds) {                                        \
      co_await cluster.stop_all(here);                   \
      co_return;                                         \
    }                                                    \
  } while (0)

// Runs `operation` with node `node`'s engine on its shard and returns its result.
template <class T>
Task<T> on_engine(Cluster& cluster, Shard& here, NodeId node,
                  std::function<Task<T>(ShardEngine&)> operation, T result) {
  co_await on_shard(here, ShardId(static_cast<uint32_t>(node.value() - 1)),
                    [&](Shard& shard) -> Task<void> {
                      ShardEngine* engine = cluster.network().engine(shard.id());
                      result = co_await operation(*engine);
                    });
  co_return result;
}

Task<Result<GroupStatus>> status_of(Cluster& cluster, Shard& here, NodeId node) {
  Result<GroupStatus> status = Error(ErrorCode::kNotFound, "node down");
  co_await cluster.on_node(here, node, [&](ShardEngine* engine) {
    if (engine != nullptr) status = engine->status(kGroup);
  });
  co_return status;
}

// Proposes `count` commands through the leader (never asking `avoid`, a removed node).
Task<int> replicate(Cluster& cluster, Shard& here, int from, int count, LogIndex& last,
                    NodeId avoid = NodeId(0)) {
  int committed_count = 0;
  for (int i = from; i < from + count; ++i) {
    const ProposeResult result =
        co_await cluster.propose_to_leader(here, kGroup, "c" + std::to_string(i), avoid);
    const auto* committed = std::get_if<Committed>(&result);
    EXPECT_NE(committed, nullptr) << "proposal " << i;
    if (committed == nullptr) break;
    last = std::max(last, committed->index);
    ++committed_count;
  }
  co_return committed_count;
}

std::string error_text(const Result<LogIndex>& result) {
  return result.ok() ? "ok" : result.error().message();
}

// Nodes 1-3 form the group; node 4 runs but is no member yet: it starts as a learner of the
// group's configuration and waits to be added.
void three_voters_and_a_newcomer(Cluster& cluster) {
  cluster.tune = [](EngineOptions& options) {
    options.voters = {NodeId(1), NodeId(2), NodeId(3)};
    if (options.node == NodeId(4)) options.learners = {NodeId(4)};
  };
}

// A membership change (or a transfer) asked of node `node`'s engine.
Task<Result<LogIndex>> change(Cluster& cluster, Shard& here, NodeId node,
                              std::function<Task<Result<LogIndex>>(ShardEngine&)> operation) {
  co_return co_await on_engine<Result<LogIndex>>(cluster, here, node, std::move(operation),
                                                 Error(ErrorCode::kCancelled, "not run"));
}

TEST(EngineMembership, LearnerJoinsIsPromotedAVoterIsRemovedAndLeadershipMovesUnderLoad) {
  Cluster cluster(4, 1);
  three_voters_and_a_newcomer(cluster);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        LogIndex last{0};
        EXPECT_EQ(co_await replicate(cluster, here, 0, 20, last), 20);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        MEMBERSHIP_CO_ASSERT(leader != NodeId(4), "leader " << leader.value());

        // A follower is not the one to ask: kNotFound names the leader.
        const NodeId follower = leader == NodeId(1) ? NodeId(2) : NodeId(1);
        const Result<LogIndex> refused = co_await change(
            cluster, here, follower,
            [](ShardEngine& engine) { return engine.add_learner(kGroup, NodeId(4)); });
        MEMBERSHIP_CO_ASSERT(!refused.ok(), "a follower took the change");
        EXPECT_EQ(refused.error().code(), ErrorCode::kNotFound) << refused.error().message();

        const Result<LogIndex> added = co_await change(
            cluster, here, leader,
            [](ShardEngine& engine) { return engine.add_learner(kGroup, NodeId(4)); });
        MEMBERSHIP_CO_ASSERT(added.ok(), error_text(added));
        co_await cluster.wait_applied(here, NodeId(4), kGroup, added.value());

        const Result<LogIndex> promoted =
            co_await change(cluster, here, leader,
                            [](ShardEngine& engine) { return engine.promote(kGroup, NodeId(4)); });
        MEMBERSHIP_CO_ASSERT(promoted.ok(), error_text(promoted));
        EXPECT_GT(promoted.value(), added.value());

        // A second promotion of the same node does not apply any more.
        const Result<LogIndex> again =
            co_await change(cluster, here, leader,
                            [](ShardEngine& engine) { return engine.promote(kGroup, NodeId(4)); });
        MEMBERSHIP_CO_ASSERT(!again.ok(), "promoted twice");
        EXPECT_EQ(again.error().code(), ErrorCode::kInvalidInput) << again.error().message();

        const NodeId removed = leader == NodeId(3) ? NodeId(2) : NodeId(3);
        const Result<LogIndex> gone = co_await change(
            cluster, here, leader,
            [removed](ShardEngine& engine) { return engine.remove_member(kGroup, removed); });
        MEMBERSHIP_CO_ASSERT(gone.ok(), error_text(gone));

        Result<GroupStatus> status = co_await status_of(cluster, here, leader);
        MEMBERSHIP_CO_ASSERT(status.ok(), "no status");
        EXPECT_EQ(status.value().role, raft::Role::kLeader) << describe(status.value());
        EXPECT_EQ(status.value().membership.voters.size(), 3u) << describe(status.value());
        EXPECT_TRUE(status.value().membership.is_voter(NodeId(4))) << describe(status.value());
        EXPECT_FALSE(status.value().membership.is_member(removed)) << describe(status.value());
        EXPECT_EQ(status.value().peers.size(), 2u) << describe(status.value());
        EXPECT_GE(status.value().commit, gone.value());

        // Leadership moves to node 4 while proposals are in flight on the old leader.
        std::vector<StartedProposal> in_flight(8);
        for (size_t i = 0; i < in_flight.size(); ++i) {
          in_flight[i].command = "load" + std::to_string(i);
          co_await cluster.start_proposal(here, leader, kGroup, in_flight[i]);
        }
        Result<void> moved = co_await on_engine<Result<void>>(
            cluster, here, leader,
            [](ShardEngine& engine) { return engine.transfer_leader(kGroup, NodeId(4)); },
            Error(ErrorCode::kCancelled, "not run"));
        MEMBERSHIP_CO_ASSERT(moved.ok(), (moved.ok() ? "" : moved.error().message()));
        for (StartedProposal& proposal : in_flight) {
          co_await wait(proposal.call);
          // Each ends: committed, or refused during the handover (never lost silently).
          const bool ended = std::holds_alternative<Committed>(proposal.result) ||
                             std::holds_alternative<NotLeader>(proposal.result) ||
                             std::holds_alternative<Failed>(proposal.result);
          EXPECT_TRUE(ended);
        }
        EXPECT_EQ(co_await cluster.wait_leader(here, NodeId(4), kGroup), NodeId(4));
        EXPECT_EQ(co_await replicate(cluster, here, 100, 10, last, removed), 10);

        // The members apply the same commands in the same order.
        const std::vector<std::string> reference =
            co_await cluster.applied(here, NodeId(4), kGroup);
        for (NodeId node : {NodeId(1), NodeId(2), NodeId(3)}) {
          if (node == removed) continue;
          co_await cluster.wait_applied(here, node, kGroup, last);
          const std::vector<std::string> applied = co_await cluster.applied(here, node, kGroup);
          EXPECT_EQ(applied, reference) << "node " << node.value();
        }
        status = co_await status_of(cluster, here, NodeId(4));
        MEMBERSHIP_CO_ASSERT(status.ok(), "no status");
        EXPECT_EQ(status.value().role, raft::Role::kLeader) << describe(status.value());
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// The changes' entries are compacted into each member's snapshot: a restart of every node
// takes the configuration from the snapshot files (version 2), not from the options.
TEST(EngineMembership, RestartAfterSnapshotKeepsTheChangedMembership) {
  Cluster cluster(4, 1);
  three_voters_and_a_newcomer(cluster);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        LogIndex last{0};
        EXPECT_EQ(co_await replicate(cluster, here, 0, 5, last), 5);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        MEMBERSHIP_CO_ASSERT(leader != NodeId(4), "leader " << leader.value());
        const Result<LogIndex> added = co_await change(
            cluster, here, leader,
            [](ShardEngine& engine) { return engine.add_learner(kGroup, NodeId(4)); });
        MEMBERSHIP_CO_ASSERT(added.ok(), error_text(added));
        co_await cluster.wait_applied(here, NodeId(4), kGroup, added.value());
        const Result<LogIndex> promoted =
            co_await change(cluster, here, leader,
                            [](ShardEngine& engine) { return engine.promote(kGroup, NodeId(4)); });
        MEMBERSHIP_CO_ASSERT(promoted.ok(), error_text(promoted));
        const NodeId removed = leader == NodeId(3) ? NodeId(2) : NodeId(3);
        const Result<LogIndex> gone = co_await change(
            cluster, here, leader,
            [removed](ShardEngine& engine) { return engine.remove_member(kGroup, removed); });
        MEMBERSHIP_CO_ASSERT(gone.ok(), error_text(gone));
        EXPECT_EQ(co_await replicate(cluster, here, 5, 5, last, removed), 5);

        std::vector<NodeId> members;
        for (NodeId node : {NodeId(1), NodeId(2), NodeId(3), NodeId(4)}) {
          if (node != removed) members.push_back(node);
        }
        for (NodeId node : members) {
          co_await cluster.wait_applied(here, node, kGroup, last);
          const Result<LogIndex> taken = co_await cluster.snapshot_now(here, node, kGroup);
          MEMBERSHIP_CO_ASSERT(taken.ok() && taken.value() >= gone.value(),
                               "node " << node.value() << ": " << error_text(taken));
        }
        co_await cluster.stop_all(here);
        co_await cluster.start_all(here);

        for (NodeId node : members) {
          const Result<GroupStatus> status = co_await status_of(cluster, here, node);
          MEMBERSHIP_CO_ASSERT(status.ok(), "no status of node " << node.value());
          EXPECT_EQ(status.value().membership.voters.size(), 3u) << describe(status.value());
          EXPECT_TRUE(status.value().membership.is_voter(NodeId(4))) << describe(status.value());
          EXPECT_FALSE(status.value().membership.is_member(removed)) << describe(status.value());
        }
        // The new configuration elects and commits.
        EXPECT_EQ(co_await replicate(cluster, here, 10, 5, last, removed), 5);
        for (NodeId node : members) co_await cluster.wait_applied(here, node, kGroup, last);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// A member is down while the group changes and the leader compacts the changes away: back up,
// it learns the configuration from the leader's snapshot (not from its own log, which never held
// the changes), and keeps it across a restart (the installed file records it).
TEST(EngineMembership, FollowerInstallsTheChangedMembershipFromASnapshot) {
  Cluster cluster(4, 1);
  three_voters_and_a_newcomer(cluster);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        LogIndex last{0};
        EXPECT_EQ(co_await replicate(cluster, here, 0, 5, last), 5);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        MEMBERSHIP_CO_ASSERT(leader != NodeId(4), "leader " << leader.value());
        std::vector<NodeId> others;  // the two other original voters
        for (NodeId node : {NodeId(1), NodeId(2), NodeId(3)}) {
          if (node != leader) others.push_back(node);
        }
        const NodeId behind = others[0];
        const NodeId removed = others[1];
        co_await cluster.wait_applied(here, behind, kGroup, last);
        co_await cluster.stop(here, static_cast<uint32_t>(behind.value() - 1));

        // {L, behind, removed} -> + learner 4 -> 4 a voter -> without `removed`: each step has
        // its quorum without `behind`.
        const Result<LogIndex> added = co_await change(
            cluster, here, leader,
            [](ShardEngine& engine) { return engine.add_learner(kGroup, NodeId(4)); });
        MEMBERSHIP_CO_ASSERT(added.ok(), error_text(added));
        co_await cluster.wait_applied(here, NodeId(4), kGroup, added.value());
        const Result<LogIndex> promoted =
            co_await change(cluster, here, leader,
                            [](ShardEngine& engine) { return engine.promote(kGroup, NodeId(4)); });
        MEMBERSHIP_CO_ASSERT(promoted.ok(), error_text(promoted));
        const Result<LogIndex> gone = co_await change(
            cluster, here, leader,
            [removed](ShardEngine& engine) { return engine.remove_member(kGroup, removed); });
        MEMBERSHIP_CO_ASSERT(gone.ok(), error_text(gone));
        for (int i = 0; i < 5; ++i) {
          const ProposeResult result =
              co_await cluster.propose(here, leader, kGroup, "after-" + std::to_string(i));
          const auto* committed = std::get_if<Committed>(&result);
          MEMBERSHIP_CO_ASSERT(committed != nullptr, "proposal " << i << " after the changes");
          last = std::max(last, committed->index);
        }
        const Result<LogIndex> taken = co_await cluster.snapshot_now(here, leader, kGroup);
        MEMBERSHIP_CO_ASSERT(taken.ok() && taken.value() >= gone.value(), error_text(taken));

        const auto expect_new_membership = [&](const char* when) -> Task<void> {
          const Result<GroupStatus> status = co_await status_of(cluster, here, behind);
          EXPECT_TRUE(status.ok()) << when;
          if (!status.ok()) co_return;
          const raft::Membership& membership = status.value().membership;
          EXPECT_EQ(membership.voters.size(), 3u) << when << ": " << describe(status.value());
          EXPECT_TRUE(membership.is_voter(NodeId(4))) << when << ": " << describe(status.value());
          EXPECT_TRUE(membership.is_voter(behind)) << when << ": " << describe(status.value());
          EXPECT_FALSE(membership.is_member(removed)) << when << ": " << describe(status.value());
        };
        const Result<void> started =
            co_await cluster.start(here, static_cast<uint32_t>(behind.value() - 1));
        MEMBERSHIP_CO_ASSERT(started.ok(), started.error().message());
        co_await cluster.wait_applied(here, behind, kGroup, last);
        co_await cluster.on_node(here, behind, [&](ShardEngine* engine) {
          EXPECT_EQ(engine->stats().snapshots_installed, 1u) << "caught up from the log instead";
        });
        co_await expect_new_membership("after installing the snapshot");

        co_await cluster.stop(here, static_cast<uint32_t>(behind.value() - 1));
        const Result<void> restarted =
            co_await cluster.start(here, static_cast<uint32_t>(behind.value() - 1));
        MEMBERSHIP_CO_ASSERT(restarted.ok(), restarted.error().message());
        co_await expect_new_membership("after a restart");
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

}  // namespace
}  // namespace ringraft::replica::testing
