// The simulator end to end: determinism, a clean run, runs under faults, and that its checks
// have teeth (an injected storage bug and hand-built broken states are caught).
#include "tests/sim/simulator.h"

#include <gtest/gtest.h>

#include "tests/sim/invariants.h"

namespace ringraft::sim {
namespace {

SimOptions options_for(uint64_t seed, const char* faults, size_t node_count = 3) {
  SimOptions options;
  options.seed = seed;
  options.node_count = node_count;
  options.steps = 3'000;
  options.quiet_ms = 2'000;
  options.faults = fault_profile(faults).value();
  return options;
}

TEST(Simulator, SameSeedReplaysByteForByte) {
  const SimOptions options = options_for(11, "heavy");
  const SimResult first = run_simulation(options);
  const SimResult second = run_simulation(options);
  EXPECT_EQ(first.trace_hash, second.trace_hash) << "seed 11";
  EXPECT_EQ(first.stats.network.sent, second.stats.network.sent);
  EXPECT_EQ(first.stats.ops_ok, second.stats.ops_ok);
  const SimResult other = run_simulation(options_for(12, "heavy"));
  EXPECT_NE(first.trace_hash, other.trace_hash) << "seeds 11 and 12";
}

TEST(Simulator, FaultFreeRunServesEveryClient) {
  const SimResult result = run_simulation(options_for(5, "none"));
  ASSERT_TRUE(result.ok()) << *result.violation;
  EXPECT_GT(result.stats.ops_ok, 200u) << summarize(options_for(5, "none"), result);
  EXPECT_EQ(result.stats.ops_unknown, 0u);
  EXPECT_EQ(result.linearizability.verdict, Linearizable::kYes);
}

TEST(Simulator, ThreeAndFiveNodesStaySafeUnderHeavyFaults) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    for (size_t nodes : {size_t{3}, size_t{5}}) {
      const SimOptions options = options_for(seed, "heavy", nodes);
      const SimResult result = run_simulation(options);
      EXPECT_TRUE(result.ok()) << summarize(options, result);
      EXPECT_NE(result.linearizability.verdict, Linearizable::kNo);
      EXPECT_GT(result.stats.crashes + result.stats.partitions, 0u) << "seed " << seed;
    }
  }
}

TEST(Simulator, MermaidTraceShowsMessagesAndFaults) {
  SimOptions options = options_for(3, "heavy");
  options.steps = 1'500;
  options.mermaid = true;
  const SimResult result = run_simulation(options);
  EXPECT_NE(result.mermaid.find("->>n"), std::string::npos);
  EXPECT_NE(result.mermaid.find("Append"), std::string::npos);
}

// The simulator must catch a storage layer that acknowledges before fsync: followers answer
// Appends before their write is durable. The contract check sees it at once; without it, a
// crash loses the write and an acknowledged entry is gone.
TEST(Simulator, CatchesAcknowledgementsBeforeFsync) {
  SimOptions at_once = options_for(1, "none");
  at_once.inject_ack_before_fsync = true;
  const SimResult first = run_simulation(at_once);
  ASSERT_FALSE(first.ok()) << "seed 1";
  EXPECT_NE(first.violation->find("persisted before sent"), std::string::npos) << *first.violation;
  uint64_t caught_at = 0;
  for (uint64_t seed = 1; seed <= 40 && caught_at == 0; ++seed) {
    SimOptions options = options_for(seed, "heavy");
    options.inject_ack_before_fsync = true;
    options.check_persisted_before_sent = false;
    const SimResult result = run_simulation(options);
    if (!result.ok()) {
      caught_at = seed;
      EXPECT_NE(result.violation->find("acknowledged write lost"), std::string::npos)
          << "seed " << seed << ": " << *result.violation;
    }
  }
  EXPECT_NE(caught_at, 0u) << "no seed in 1..40 caught the injected bug";
}

// ...and a service that answers gets from any node's state machine: followers lag, and the
// history check finds a read that no order of the writes explains.
TEST(Simulator, CatchesStaleLocalReads) {
  SimOptions options = options_for(1, "default");
  options.inject_local_reads = true;
  const SimResult result = run_simulation(options);
  ASSERT_FALSE(result.ok()) << "seed 1";
  EXPECT_NE(result.violation->find("linearizability"), std::string::npos) << *result.violation;
  EXPECT_EQ(result.linearizability.verdict, Linearizable::kNo);
  EXPECT_NE(result.failing_history.find("get " + result.linearizability.key), std::string::npos);
}

raft::Core core_with_log(uint64_t id, const std::vector<std::pair<uint64_t, char>>& log) {
  raft::Config config;
  config.id = NodeId{id};
  config.voters = {NodeId{1}, NodeId{2}, NodeId{3}};
  raft::InitialState state;
  for (size_t i = 0; i < log.size(); ++i) {
    state.entries.push_back(raft::Entry{Term{log[i].first}, LogIndex{i + 1},
                                        raft::Payload{static_cast<std::byte>(log[i].second)}});
  }
  state.hard_state.term = Term{log.empty() ? 0 : log.back().first};
  return raft::Core::create(config, state).value();
}

TEST(InvariantChecker, ReportsLogsThatAgreeOnATermButNotOnThePrefix) {
  const raft::Core a = core_with_log(1, {{1, 'a'}, {2, 'b'}});
  const raft::Core b = core_with_log(2, {{1, 'x'}, {2, 'b'}});
  const raft::Core c = core_with_log(3, {{1, 'a'}, {3, 'c'}});
  InvariantChecker checker(3);
  checker.check_log_matching({&a, nullptr, &c});
  EXPECT_FALSE(checker.violation().has_value());
  checker.check_log_matching({&a, &b, &c});
  ASSERT_TRUE(checker.violation().has_value());
  EXPECT_NE(checker.violation()->find("log matching"), std::string::npos);
}

TEST(InvariantChecker, ReportsAnAcknowledgedEntryDurableOnAMinority) {
  SimDisk holds, empty_a, empty_b;
  DiskWrite write;
  write.entries.push_back(raft::Entry{Term{1}, LogIndex{1}, {}});
  holds.write(write, 0, 1);
  holds.complete_oldest();
  InvariantChecker checker(3);
  checker.on_acknowledged(write.entries[0]);
  checker.check_acknowledged_durable({&holds, &empty_a, &empty_b});
  ASSERT_TRUE(checker.violation().has_value());
  EXPECT_NE(checker.violation()->find("acknowledged write lost"), std::string::npos);
}

}  // namespace
}  // namespace ringraft::sim
