#include "raft/core/progress.h"

#include <gtest/gtest.h>

#include "raft/core/inflights.h"

namespace ringraft::raft {
namespace {

TEST(Inflights, FullAtTheCountBound) {
  Inflights inflights(3, 1'000'000);
  inflights.add(LogIndex{1}, 10);
  inflights.add(LogIndex{2}, 10);
  EXPECT_FALSE(inflights.full());
  inflights.add(LogIndex{3}, 10);
  EXPECT_TRUE(inflights.full());
  inflights.free_le(LogIndex{2});
  EXPECT_EQ(inflights.count(), 1u);
  EXPECT_EQ(inflights.size_bytes(), 10u);
  EXPECT_FALSE(inflights.full());
  inflights.check_invariants();
}

TEST(Inflights, FullAtTheByteBound) {
  Inflights inflights(100, 50);
  inflights.add(LogIndex{4}, 30);
  EXPECT_FALSE(inflights.full());
  inflights.add(LogIndex{9}, 20);
  EXPECT_TRUE(inflights.full());
  inflights.free_le(LogIndex{4});
  EXPECT_EQ(inflights.size_bytes(), 20u);
  EXPECT_FALSE(inflights.full());
}

TEST(Inflights, RingWrapsAroundWithoutGrowing) {
  Inflights inflights(2, 1'000'000);
  for (uint64_t i = 1; i <= 10; ++i) {
    inflights.add(LogIndex{i}, i);
    inflights.free_le(LogIndex{i - 1});
    EXPECT_LE(inflights.count(), 2u);
    inflights.check_invariants();
  }
  inflights.free_first_one();
  EXPECT_EQ(inflights.count(), 0u);
  EXPECT_EQ(inflights.size_bytes(), 0u);
}

TEST(Progress, ProbeSendsOneAppendAndWaits) {
  Progress pr(LogIndex{5}, 4, 1000);
  EXPECT_EQ(pr.state(), ProgressState::kProbe);
  EXPECT_FALSE(pr.is_paused());
  pr.sent_append(2, LogIndex{6}, 20);
  EXPECT_TRUE(pr.is_paused());
  EXPECT_EQ(pr.next(), LogIndex{5});  // a probe does not move next
  pr.on_heartbeat_response();
  EXPECT_FALSE(pr.is_paused());
}

TEST(Progress, ReplicateAdvancesNextOptimisticallyWithinTheWindow) {
  Progress pr(LogIndex{1}, 2, 1000);
  ASSERT_TRUE(pr.maybe_update(LogIndex{0}) == false);
  pr.become_replicate();
  pr.sent_append(3, LogIndex{3}, 30);
  pr.sent_append(1, LogIndex{4}, 10);
  EXPECT_EQ(pr.next(), LogIndex{5});
  EXPECT_TRUE(pr.is_paused());
  EXPECT_TRUE(pr.maybe_update(LogIndex{3}));
  EXPECT_FALSE(pr.is_paused());
  EXPECT_EQ(pr.match(), LogIndex{3});
  EXPECT_FALSE(pr.maybe_update(LogIndex{2}));  // stale
}

TEST(Progress, RejectionInReplicateFallsBackToProbeAtTheHint) {
  Progress pr(LogIndex{1}, 8, 1000);
  pr.become_replicate();
  ASSERT_TRUE(pr.maybe_update(LogIndex{4}));
  pr.sent_append(6, LogIndex{10}, 60);
  EXPECT_FALSE(pr.maybe_decrease_to(LogIndex{3}, LogIndex{3}));  // at or below match: stale
  EXPECT_TRUE(pr.maybe_decrease_to(LogIndex{8}, LogIndex{6}));
  EXPECT_EQ(pr.state(), ProgressState::kProbe);
  EXPECT_EQ(pr.next(), LogIndex{7});
  EXPECT_EQ(pr.inflights().count(), 0u);
}

TEST(Progress, ProbeIgnoresRejectionsOfOtherProbes) {
  Progress pr(LogIndex{10}, 8, 1000);
  pr.sent_append(1, LogIndex{10}, 1);
  EXPECT_FALSE(pr.maybe_decrease_to(LogIndex{5}, LogIndex{2}));  // not the outstanding probe
  EXPECT_TRUE(pr.maybe_decrease_to(LogIndex{9}, LogIndex{2}));
  EXPECT_EQ(pr.next(), LogIndex{3});
  EXPECT_FALSE(pr.is_paused());
}

}  // namespace
}  // namespace ringraft::raft
