// A failed WAL in a running cluster (raft/replica/wal_recovery.cc), in one process: faults are
// injected below each node's WAL through the I/O seam (EngineOptions::wal_io, a FaultyIo), as
// a full disk (every write fails with ENOSPC until cleared) or one failed fdatasync (EIO).
// The cluster keeps committing without the node, the node acknowledges nothing it did not
// make durable, a failed leader steps down at once, no acknowledged proposal is lost, and once
// the fault clears the node reopens its WAL, rejoins and applies exactly what the others did.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/replica/cluster.h"
#include "tests/wal/wal_test_util.h"

namespace ringraft::replica::testing {
namespace {

using ringraft::testing::run_on_reactor;
using wal::testing::FaultyIo;

const GroupId kGroup(1);

std::string command(int i) {
  return "c" + std::to_string(i);
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

std::optional<FailReason> fail_reason(const ProposeResult& result) {
  if (const auto* failed = std::get_if<Failed>(&result)) return failed->reason;
  return std::nullopt;
}

// A 3-node cluster whose nodes' WALs go through a FaultyIo each (made on the node's shard).
class FaultyCluster {
 public:
  FaultyCluster() : cluster(3, 1) {
    cluster.tune = [this](EngineOptions& options) {
      const size_t k = options.node.value() - 1;
      if (faults[k] == nullptr) faults[k] = std::make_unique<FaultyIo>(Shard::current()->io());
      options.wal_io = faults[k].get();
      options.wal_retry_interval = std::chrono::milliseconds(200);
    };
  }

  // Arms (or clears) node's fault on its own shard.
  Task<void> fault(Shard& here, NodeId node, std::function<void(FaultyIo&)> arm) {
    co_await cluster.on_node(here, node,
                             [&](ShardEngine* /*engine*/) { arm(*faults[node.value() - 1]); });
  }

  // Proposes commands [from, from + count) through the leader (never `avoid`); returns the
  // acknowledged ones and raises `last` to the highest committed index.
  Task<std::vector<std::string>> replicate(Shard& here, int from, int count, LogIndex& last,
                                           NodeId avoid = NodeId(0)) {
    std::vector<std::string> acknowledged;
    for (int i = from; i < from + count; ++i) {
      const ProposeResult result =
          co_await cluster.propose_to_leader(here, kGroup, command(i), avoid);
      const auto* committed = std::get_if<Committed>(&result);
      EXPECT_NE(committed, nullptr) << command(i) << ": " << describe(result);
      if (committed == nullptr) break;
      last = std::max(last, committed->index);
      acknowledged.push_back(command(i));
    }
    co_return acknowledged;
  }

  // Every node reaches `last`; all applied the same commands in the same order (none twice),
  // and that order holds every acknowledged command.
  Task<void> expect_all_applied(Shard& here, LogIndex last,
                                const std::vector<std::string>& acknowledged) {
    for (uint32_t k = 0; k < cluster.size(); ++k) {
      co_await cluster.wait_applied(here, Cluster::node_id(k), kGroup, last);
    }
    const std::vector<std::string> reference = co_await cluster.applied(here, NodeId(1), kGroup);
    for (uint32_t k = 1; k < cluster.size(); ++k) {
      EXPECT_EQ(co_await cluster.applied(here, Cluster::node_id(k), kGroup), reference)
          << "node " << k + 1;
    }
    for (const std::string& command : acknowledged) {
      EXPECT_NE(std::find(reference.begin(), reference.end(), command), reference.end())
          << "acknowledged " << command << " was lost";
    }
  }

  Task<EngineStats> stats(Shard& here, NodeId node) {
    EngineStats stats;
    co_await cluster.on_node(here, node, [&](ShardEngine* engine) {
      if (engine != nullptr) stats = engine->stats();
    });
    co_return stats;
  }

  // Declared first: the engines that use them close before they go.
  std::vector<std::unique_ptr<FaultyIo>> faults{3};
  Cluster cluster;
};

TEST(EngineWalFailure, FollowerWithAFullDiskDoesNotStopTheClusterAndCatchesUpAfter) {
  FaultyCluster faulty;
  Cluster& cluster = faulty.cluster;
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        LogIndex last{0};
        std::vector<std::string> acknowledged = co_await faulty.replicate(here, 0, 5, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        const NodeId follower(leader.value() % 3 + 1);
        co_await faulty.fault(here, follower,
                              [](FaultyIo& io) { io.fail_all(OpCode::kWrite, ENOSPC); });
        // The follower's next batch fails; the other two keep committing.
        const std::vector<std::string> more = co_await faulty.replicate(here, 5, 30, last);
        acknowledged.insert(acknowledged.end(), more.begin(), more.end());
        EXPECT_EQ(more.size(), 30u);
        EXPECT_GE((co_await faulty.stats(here, follower)).wal_failures, 1u);
        co_await faulty.fault(here, follower, [](FaultyIo& io) { io.clear(); });
        co_await faulty.expect_all_applied(here, last, acknowledged);
        EXPECT_GE((co_await faulty.stats(here, follower)).wal_reopens, 1u);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(EngineWalFailure, FollowerWithAFailedWalAcknowledgesNothing) {
  FaultyCluster faulty;
  Cluster& cluster = faulty.cluster;
  cluster.tune = [inner = cluster.tune](EngineOptions& options) {
    inner(options);
    options.proposal_timeout = std::chrono::milliseconds(1500);
  };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        LogIndex last{0};
        std::vector<std::string> acknowledged = co_await faulty.replicate(here, 0, 3, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        const NodeId failing(leader.value() % 3 + 1);
        const NodeId cut(failing.value() % 3 + 1);
        EXPECT_NE(cut, leader);
        // The write lands on disk but the WAL is told it failed: it must not call it durable,
        // so the follower must not acknowledge it, and with the other follower cut off the
        // leader has no quorum for the proposal.
        co_await faulty.fault(here, failing,
                              [](FaultyIo& io) { io.fail_all(OpCode::kWrite, ENOSPC); });
        cluster.network().isolate(cut, true);
        const ProposeResult result = co_await cluster.propose(here, leader, kGroup, "unacked");
        EXPECT_EQ(fail_reason(result), FailReason::kTimedOut) << describe(result);
        EXPECT_GE((co_await faulty.stats(here, failing)).wal_failures, 1u);
        co_await cluster.on_node(here, leader, [&](ShardEngine* engine) {
          EXPECT_LE(engine->replica(kGroup)->core().log().committed(), last);
        });
        co_await faulty.fault(here, failing, [](FaultyIo& io) { io.clear(); });
        cluster.network().isolate(cut, false);
        const std::vector<std::string> more = co_await faulty.replicate(here, 3, 5, last);
        acknowledged.insert(acknowledged.end(), more.begin(), more.end());
        co_await faulty.expect_all_applied(here, last, acknowledged);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// The leader's WAL fails (`arm`): its proposal fails with kWalFailed, it steps down at once
// and hands over, new proposals on it fail fast, another node leads, and after the fault
// clears it rejoins with every acknowledged entry applied once.
void leader_wal_fails(std::function<void(FaultyIo&)> arm) {
  FaultyCluster faulty;
  Cluster& cluster = faulty.cluster;
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        LogIndex last{0};
        std::vector<std::string> acknowledged = co_await faulty.replicate(here, 0, 10, last);
        const NodeId old_leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        co_await faulty.fault(here, old_leader, arm);
        const ProposeResult failed = co_await cluster.propose(here, old_leader, kGroup, "lost");
        EXPECT_EQ(fail_reason(failed), FailReason::kWalFailed) << describe(failed);
        co_await cluster.on_node(here, old_leader, [&](ShardEngine* engine) {
          EXPECT_TRUE(engine->failed());
          EXPECT_NE(engine->replica(kGroup)->core().role(), raft::Role::kLeader);
          EXPECT_EQ(engine->stats().leader_handovers, 1u);
        });
        // Fails fast: the engine knows its WAL is gone.
        const ProposeResult again = co_await cluster.propose(here, old_leader, kGroup, "fast");
        EXPECT_EQ(fail_reason(again), FailReason::kWalFailed) << describe(again);
        const auto elected_from = std::chrono::steady_clock::now();
        const NodeId other(old_leader.value() % 3 + 1);
        const NodeId new_leader = co_await cluster.wait_leader(here, other, kGroup, old_leader);
        const auto elected_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - elected_from)
                                    .count();
        std::printf("new leader %u after %lld ms\n", static_cast<unsigned>(new_leader.value()),
                    static_cast<long long>(elected_ms));
        EXPECT_NE(new_leader, old_leader);
        const std::vector<std::string> more =
            co_await faulty.replicate(here, 10, 20, last, old_leader);
        acknowledged.insert(acknowledged.end(), more.begin(), more.end());
        EXPECT_EQ(more.size(), 20u);
        co_await faulty.fault(here, old_leader, [](FaultyIo& io) { io.clear(); });
        co_await faulty.expect_all_applied(here, last, acknowledged);
        EXPECT_GE((co_await faulty.stats(here, old_leader)).wal_reopens, 1u);
        // Rejoined for real: a write through whichever node leads reaches it too.
        const std::vector<std::string> after = co_await faulty.replicate(here, 30, 3, last);
        acknowledged.insert(acknowledged.end(), after.begin(), after.end());
        co_await faulty.expect_all_applied(here, last, acknowledged);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(EngineWalFailure, LeaderWithAFullDiskStepsDownAndRejoinsWhenSpaceReturns) {
  leader_wal_fails([](FaultyIo& io) { io.fail_all(OpCode::kWrite, ENOSPC); });
}

TEST(EngineWalFailure, LeaderWhoseFdatasyncFailsStepsDownAndRejoins) {
  leader_wal_fails([](FaultyIo& io) { io.fail_nth(OpCode::kFsync, 1, EIO); });
}

}  // namespace
}  // namespace ringraft::replica::testing
