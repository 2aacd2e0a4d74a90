// Whole clusters in one process: elections, replication, apply order, NotLeader, a partitioned
// leader, a restart from the WAL, many groups per shard. Every wait is on an event (a proposal's
// outcome, an applied index, a known leader), bounded by run_on_reactor's watchdog.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/replica/cluster.h"

namespace ringraft::replica::testing {
namespace {

using ringraft::testing::run_on_reactor;

std::string command(GroupId group, int i) {
  return "g" + std::to_string(group.value()) + "-c" + std::to_string(i);
}

std::string text(ConstByteSpan bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string describe(const ProposeResult& result) {
  if (const auto* committed = std::get_if<Committed>(&result)) {
    return "committed at " + std::to_string(committed->index.value());
  }
  if (const auto* not_leader = std::get_if<NotLeader>(&result)) {
    return "not leader, hint " + std::to_string(not_leader->leader_hint.value());
  }
  return std::string("failed: ") + fail_reason_name(std::get<Failed>(result).reason);
}

// The proposal committed and its result is the state machine's answer for its own index.
const Committed* expect_committed(const ProposeResult& result) {
  const auto* committed = std::get_if<Committed>(&result);
  EXPECT_NE(committed, nullptr) << describe(result);
  if (committed != nullptr) {
    EXPECT_EQ(text(committed->result.span()),
              "applied:" + std::to_string(committed->index.value()));
  }
  return committed;
}

// Proposes `count` commands to `group` through its leader; returns the acknowledged ones and
// raises `last` to the highest committed index.
Task<std::vector<std::string>> replicate(Cluster& cluster, Shard& here, GroupId group, int from,
                                         int count, LogIndex& last, NodeId avoid = NodeId(0)) {
  std::vector<std::string> acknowledged;
  for (int i = from; i < from + count; ++i) {
    const ProposeResult result =
        co_await cluster.propose_to_leader(here, group, command(group, i), avoid);
    const Committed* committed = expect_committed(result);
    if (committed == nullptr) break;
    EXPECT_GT(committed->index, last);
    last = std::max(last, committed->index);
    acknowledged.push_back(command(group, i));
  }
  co_return acknowledged;
}

// Every node applies up to `last`, and all applied the same commands in the same order.
Task<std::vector<std::string>> expect_same_applied(Cluster& cluster, Shard& here, GroupId group,
                                                   LogIndex last) {
  for (uint32_t k = 0; k < cluster.size(); ++k) {
    co_await cluster.wait_applied(here, Cluster::node_id(k), group, last);
  }
  const std::vector<std::string> reference = co_await cluster.applied(here, NodeId(1), group);
  for (uint32_t k = 1; k < cluster.size(); ++k) {
    EXPECT_EQ(co_await cluster.applied(here, Cluster::node_id(k), group), reference)
        << "node " << k + 1 << ", group " << group.value();
  }
  co_return reference;
}

// At most one leader per term among the nodes' own views.
Task<void> expect_one_leader_per_term(Cluster& cluster, Shard& here, GroupId group) {
  std::map<uint64_t, int> leaders_by_term;
  for (uint32_t k = 0; k < cluster.size(); ++k) {
    co_await cluster.on_node(here, Cluster::node_id(k), [&](ShardEngine* engine) {
      if (engine == nullptr) return;
      const raft::Core& core = engine->replica(group)->core();
      if (core.role() == raft::Role::kLeader) leaders_by_term[core.term().value()]++;
    });
  }
  for (const auto& [term, leaders] : leaders_by_term) {
    EXPECT_EQ(leaders, 1) << "term " << term;
  }
}

void replicate_on(uint32_t nodes, int proposals) {
  Cluster cluster(nodes, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        const std::vector<std::string> acknowledged =
            co_await replicate(cluster, here, group, 0, proposals, last);
        EXPECT_EQ(acknowledged.size(), static_cast<size_t>(proposals));
        EXPECT_EQ(co_await expect_same_applied(cluster, here, group, last), acknowledged);
        co_await expect_one_leader_per_term(cluster, here, group);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, ThreeNodesElectOneLeaderAndReplicate) {
  replicate_on(3, 20);
}

TEST(Engine, FiveNodesElectOneLeaderAndReplicate) {
  replicate_on(5, 20);
}

TEST(Engine, ConcurrentProposalsApplyInOneOrderEverywhereWithResultsToTheirProposers) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        (void)co_await replicate(cluster, here, group, 0, 1, last);  // a leader exists
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), group);
        constexpr int kProposals = 64;  // started together: one turn's batch, or a few
        std::vector<std::unique_ptr<StartedProposal>> started;
        for (int i = 1; i <= kProposals; ++i) {
          started.push_back(std::make_unique<StartedProposal>());
          started.back()->command = command(group, i);
          co_await cluster.start_proposal(here, leader, group, *started.back());
        }
        std::map<LogIndex, std::string> by_index;
        by_index[last] = command(group, 0);
        for (const auto& proposal : started) {
          co_await wait(proposal->call);
          if (const Committed* committed = expect_committed(proposal->result)) {
            EXPECT_TRUE(by_index.emplace(committed->index, proposal->command).second);
            last = std::max(last, committed->index);
          }
        }
        // A leader change mid-way would make some NotLeader: the rest must still be ordered.
        std::vector<std::string> in_index_order;
        for (const auto& [index, text] : by_index) in_index_order.push_back(text);
        EXPECT_EQ(co_await expect_same_applied(cluster, here, group, last), in_index_order);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, ReadIndexOnAFollowerCoversEveryAcknowledgedWrite) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        const std::vector<std::string> acknowledged =
            co_await replicate(cluster, here, group, 0, 3, last);
        EXPECT_EQ(acknowledged.size(), 3u);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), group);
        const NodeId follower = leader == NodeId(1) ? NodeId(2) : NodeId(1);
        EXPECT_EQ(co_await cluster.wait_leader(here, follower, group), leader);
        // The follower asks the leader over the wire (kReadIndex, heartbeat rounds, answer).
        const Result<LogIndex> read = co_await cluster.read_index(here, follower, group);
        EXPECT_TRUE(read.ok()) << read.error().message();
        if (read.ok()) {
          EXPECT_GE(read.value(), last);
          co_await cluster.on_node(here, follower, [&](ShardEngine* engine) {
            ASSERT_NE(engine, nullptr);
            EXPECT_GE(engine->replica(group)->applied_index(), read.value());
          });
          const std::vector<std::string> applied = co_await cluster.applied(here, follower, group);
          EXPECT_EQ(applied, acknowledged);  // every acknowledged write, already applied
        }
        const Result<LogIndex> on_leader = co_await cluster.read_index(here, leader, group);
        EXPECT_TRUE(on_leader.ok());
        if (on_leader.ok()) {
          EXPECT_GE(on_leader.value(), last);
        }
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, ProposalToAFollowerIsNotLeaderWithTheLeaderAsHint) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        (void)co_await replicate(cluster, here, group, 0, 1, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), group);
        const NodeId follower = leader == NodeId(1) ? NodeId(2) : NodeId(1);
        co_await cluster.wait_applied(here, follower, group, last);  // it heard the leader
        const NodeId known = co_await cluster.wait_leader(here, follower, group);
        const ProposeResult result = co_await cluster.propose(here, follower, group, "x");
        const auto* not_leader = std::get_if<NotLeader>(&result);
        EXPECT_NE(not_leader, nullptr) << describe(result);
        if (not_leader != nullptr) {
          EXPECT_EQ(not_leader->leader_hint, known);
        }
        EXPECT_EQ(known, leader);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, PartitionedLeaderIsReplacedAndLosesNoAcknowledgedProposal) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        std::vector<std::string> acknowledged =
            co_await replicate(cluster, here, group, 0, 5, last);
        const NodeId old_leader = co_await cluster.wait_leader(here, NodeId(1), group);
        co_await cluster.wait_applied(here, old_leader, group, last);

        cluster.network().isolate(old_leader, true);
        StartedProposal orphan;
        orphan.command = "orphan";
        co_await cluster.start_proposal(here, old_leader, group, orphan);

        const NodeId other = old_leader == NodeId(1) ? NodeId(2) : NodeId(1);
        const NodeId new_leader = co_await cluster.wait_leader(here, other, group, old_leader);
        EXPECT_NE(new_leader, old_leader);
        const std::vector<std::string> more =
            co_await replicate(cluster, here, group, 5, 5, last, old_leader);
        acknowledged.insert(acknowledged.end(), more.begin(), more.end());

        cluster.network().isolate(old_leader, false);
        co_await wait(orphan.call);  // ends once the old leader learns the new log
        // It was pending in the old leader's log (CheckQuorum takes an election timeout to
        // depose it), and the new leader's log replaced it.
        const auto* failed = std::get_if<Failed>(&orphan.result);
        EXPECT_TRUE(failed != nullptr && failed->reason == FailReason::kOverwritten)
            << describe(orphan.result);

        const std::vector<std::string> applied =
            co_await expect_same_applied(cluster, here, group, last);
        for (const std::string& command : acknowledged) {
          EXPECT_EQ(std::count(applied.begin(), applied.end(), command), 1) << command;
        }
        EXPECT_EQ(std::count(applied.begin(), applied.end(), "orphan"), 0);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, ProposalOnALeaderCutOffForGoodTimesOutAsUnknown) {
  Cluster cluster(3, 1);
  cluster.tune = [](EngineOptions& options) {
    options.proposal_timeout = std::chrono::milliseconds(300);
  };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        (void)co_await replicate(cluster, here, group, 0, 1, last);
        const NodeId old_leader = co_await cluster.wait_leader(here, NodeId(1), group);
        co_await cluster.wait_applied(here, old_leader, group, last);
        cluster.network().isolate(old_leader, true);  // never healed
        StartedProposal stranded;
        stranded.command = "stranded";
        co_await cluster.start_proposal(here, old_leader, group, stranded);
        co_await wait(stranded.call);
        const auto* failed = std::get_if<Failed>(&stranded.result);
        EXPECT_TRUE(failed != nullptr && failed->reason == FailReason::kTimedOut)
            << describe(stranded.result);
        // The majority carries on meanwhile.
        const NodeId other = old_leader == NodeId(1) ? NodeId(2) : NodeId(1);
        EXPECT_NE(co_await cluster.wait_leader(here, other, group, old_leader), old_leader);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, WaitForALeaderEndsEmptyAfterItsLimitInAMinority) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        const GroupId group(1);
        cluster.network().isolate(NodeId(3), true);  // before any election: it never learns one
        co_await cluster.start_all(here);
        EXPECT_EQ(co_await cluster.wait_leader(here, NodeId(3), group, NodeId(0),
                                               std::chrono::milliseconds(300)),
                  NodeId(0));
        // The majority elects a leader; the bounded wait on its side returns it.
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), group, NodeId(0),
                                                           std::chrono::seconds(30));
        EXPECT_TRUE(leader == NodeId(1) || leader == NodeId(2)) << leader.value();
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, RestartedNodeRecoversItsLogFromTheWalAndCatchesUp) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        std::vector<std::string> acknowledged =
            co_await replicate(cluster, here, group, 0, 10, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), group);
        const NodeId restarted = leader == NodeId(3) ? NodeId(2) : NodeId(3);
        co_await cluster.wait_applied(here, restarted, group, last);
        const LogIndex before_stop = last;
        co_await cluster.stop(here, static_cast<uint32_t>(restarted.value() - 1));

        const std::vector<std::string> more =
            co_await replicate(cluster, here, group, 10, 10, last, restarted);
        acknowledged.insert(acknowledged.end(), more.begin(), more.end());

        // Back up, cut off: everything it knows now comes from its own WAL.
        cluster.network().isolate(restarted, true);
        Result<void> started =
            co_await cluster.start(here, static_cast<uint32_t>(restarted.value() - 1));
        EXPECT_TRUE(started.ok()) << started.error().message();
        LogIndex recovered_last{0};
        co_await cluster.on_node(here, restarted, [&](ShardEngine* engine) {
          if (engine != nullptr) recovered_last = engine->replica(group)->core().log().last_index();
        });
        EXPECT_GE(recovered_last, before_stop);
        co_await cluster.wait_applied(here, restarted, group, before_stop);
        const std::vector<std::string> from_wal = co_await cluster.applied(here, restarted, group);
        EXPECT_EQ(from_wal,
                  std::vector<std::string>(acknowledged.begin(), acknowledged.begin() + 10));

        cluster.network().isolate(restarted, false);
        EXPECT_EQ(co_await expect_same_applied(cluster, here, group, last), acknowledged);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, EightGroupsPerShardReplicateIndependently) {
  constexpr uint32_t kGroups = 8;
  Cluster cluster(3, kGroups);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        for (const GroupId group : cluster.groups()) {
          LogIndex last{0};
          const std::vector<std::string> acknowledged =
              co_await replicate(cluster, here, group, 0, 5, last);
          EXPECT_EQ(co_await expect_same_applied(cluster, here, group, last), acknowledged);
        }
        // Heartbeats of the groups a node leads share one message per peer and turn.
        uint64_t coalesced = 0;
        uint64_t messages = 0;
        for (uint32_t k = 0; k < cluster.size(); ++k) {
          co_await cluster.on_node(here, Cluster::node_id(k), [&](ShardEngine* engine) {
            coalesced += engine->outbox().encoder().stats().heartbeats_coalesced;
            messages += engine->outbox().encoder().stats().messages_encoded;
          });
        }
        EXPECT_GT(coalesced, 0u);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// Starts `count` proposals together on `leader` (one turn's worth), waits for all of them and
// returns their outcomes in start order.
Task<std::vector<ProposeResult>> propose_together(Cluster& cluster, Shard& here, NodeId leader,
                                                  GroupId group, int first, int count,
                                                  size_t padding_bytes) {
  std::vector<std::unique_ptr<StartedProposal>> started;
  for (int i = first; i < first + count; ++i) {
    started.push_back(std::make_unique<StartedProposal>());
    started.back()->command = command(group, i) + std::string(padding_bytes, 'x');
    co_await cluster.start_proposal(here, leader, group, *started.back());
  }
  std::vector<ProposeResult> results;
  for (const auto& proposal : started) {
    co_await wait(proposal->call);
    results.push_back(proposal->result);
  }
  co_return results;
}

TEST(Engine, TurnsLargerThanAWalBatchSpreadOverSeveralBatches) {
  Cluster cluster(3, 1);
  cluster.tune = [](EngineOptions& options) { options.wal.batch_bytes_max = 8u << 10; };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        (void)co_await replicate(cluster, here, group, 0, 1, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), group);
        uint64_t batches_before = 0;
        co_await cluster.on_node(here, leader, [&](ShardEngine* engine) {
          batches_before = engine->wal().stats().batches_written;
        });
        // 64 entries of ~1 KB in one turn: about 8 batches of 8 KiB.
        const std::vector<ProposeResult> results =
            co_await propose_together(cluster, here, leader, group, 1, 64, 1000);
        std::map<LogIndex, std::string> by_index;
        by_index[last] = command(group, 0);
        for (size_t i = 0; i < results.size(); ++i) {
          if (const Committed* committed = expect_committed(results[i])) {
            by_index[committed->index] =
                command(group, static_cast<int>(i) + 1) + std::string(1000, 'x');
            last = std::max(last, committed->index);
          }
        }
        std::vector<std::string> in_index_order;
        for (const auto& [index, text] : by_index) in_index_order.push_back(text);
        EXPECT_EQ(co_await expect_same_applied(cluster, here, group, last), in_index_order);
        uint64_t batches_after = 0;
        co_await cluster.on_node(here, leader, [&](ShardEngine* engine) {
          batches_after = engine->wal().stats().batches_written;
        });
        EXPECT_GE(batches_after - batches_before, 8u);
        // A command that no batch could ever hold is refused, and the engine carries on.
        const ProposeResult huge =
            co_await cluster.propose(here, leader, group, std::string(9000, 'y'));
        const auto* failed = std::get_if<Failed>(&huge);
        EXPECT_TRUE(failed != nullptr && failed->reason == FailReason::kInvalid) << describe(huge);
        (void)co_await replicate(cluster, here, group, 100, 1, last);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// 32 proposals at once against a bound of 4 outstanding per shard.
void propose_past_the_bound(WhenFull when_full) {
  Cluster cluster(3, 1);
  cluster.tune = [when_full](EngineOptions& options) {
    options.proposals_pending_max = 4;
    options.when_full = when_full;
  };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId group(1);
        LogIndex last{0};
        (void)co_await replicate(cluster, here, group, 0, 1, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), group);
        const std::vector<ProposeResult> results =
            co_await propose_together(cluster, here, leader, group, 1, 32, 0);
        size_t committed = 0;
        size_t full = 0;
        for (const ProposeResult& result : results) {
          if (const auto* done = std::get_if<Committed>(&result)) {
            committed++;
            last = std::max(last, done->index);
          } else if (const auto* failed = std::get_if<Failed>(&result)) {
            EXPECT_EQ(failed->reason, FailReason::kFull) << describe(result);
            full++;
          } else {
            ADD_FAILURE() << describe(result);
          }
        }
        if (when_full == WhenFull::kWait) {
          EXPECT_EQ(committed, 32u);
        } else {
          EXPECT_GE(committed, 4u);
          EXPECT_GT(full, 0u);
          EXPECT_EQ(committed + full, 32u);
        }
        const std::vector<std::string> applied =
            co_await expect_same_applied(cluster, here, group, last);
        EXPECT_EQ(applied.size(), committed + 1);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Engine, ProposalsBeyondTheShardBoundFailFastWhenAskedTo) {
  propose_past_the_bound(WhenFull::kFailFast);
}

TEST(Engine, ProposalsBeyondTheShardBoundWaitForASlotWhenAskedTo) {
  propose_past_the_bound(WhenFull::kWait);
}

TEST(EngineOptions, DefaultsWorkAndInvalidSettingsAreNamed) {
  EngineOptions good;
  good.node = NodeId(1);
  good.voters = {NodeId(1), NodeId(2), NodeId(3)};
  good.groups = {GroupId(1), GroupId(2)};
  good.wal.directory = "/tmp/unused";
  EXPECT_TRUE(good.validate().ok());
  const auto expect_bad = [](const EngineOptions& options, const std::string& named) {
    Result<void> valid = options.validate();
    ASSERT_FALSE(valid.ok()) << named;
    EXPECT_NE(valid.error().message().find(named), std::string::npos) << valid.error().message();
  };
  EngineOptions bad = good;
  bad.node = NodeId(0);
  expect_bad(bad, "node");
  bad = good;
  bad.voters = {NodeId(2), NodeId(3)};
  expect_bad(bad, "voters");
  bad = good;
  bad.groups.clear();
  expect_bad(bad, "groups");
  bad = good;
  bad.groups = {GroupId(1), GroupId(1)};
  expect_bad(bad, "twice");
  bad = good;
  bad.tick_interval = std::chrono::microseconds(10);
  expect_bad(bad, "tick_interval");
  bad = good;
  bad.proposals_pending_max = 0;
  expect_bad(bad, "proposals_pending_max");
  bad = good;
  bad.proposal_timeout = std::chrono::milliseconds(-1);
  expect_bad(bad, "proposal_timeout");
  EXPECT_EQ(good.proposal_timeout_ticks(), 1000u);  // 10 s of 10 ms ticks
  bad = good;
  bad.wal.directory.clear();
  expect_bad(bad, "wal.directory");
  bad = good;
  bad.snapshot_log_bytes = 100;
  expect_bad(bad, "snapshot_log_bytes");
  EngineOptions off = good;  // 0 turns a snapshot trigger off
  off.snapshot_entries = 0;
  off.snapshot_log_bytes = 0;
  EXPECT_TRUE(off.validate().ok());
}

}  // namespace
}  // namespace ringraft::replica::testing
