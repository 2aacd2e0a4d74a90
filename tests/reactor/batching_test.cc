// The loop moves batches: a turn's submissions reach the kernel in one io_uring_enter, and
// before_sleep hooks see everything that arrived in the turn.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "reactor/latch.h"
#include "tests/reactor/test_reactor.h"

namespace ringraft {
namespace {

using testing::run_on_reactor;

TEST(Batching, OneKernelEntryForATurnOfSubmissions) {
  constexpr int kOps = 200;
  int completed = 0;
  uint64_t enters = 0;
  uint64_t prepared = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Latch all_done(kOps);
    const UringStats before = shard.uring().stats();
    for (int i = 0; i < kOps; i++) {
      shard.spawn([](Io& io, int& ok, Latch& done) -> Task<void> {
        if ((co_await ops::nop(io)).ok()) ok++;
        done.count_down();
      }(shard.io(), completed, all_done));
    }
    co_await all_done.wait();
    enters = shard.uring().stats().enter_calls - before.enter_calls;
    prepared = shard.uring().stats().sqes_prepared - before.sqes_prepared;
  });
  EXPECT_EQ(completed, kOps);
  EXPECT_EQ(prepared, static_cast<uint64_t>(kOps));
  // Nops complete at submission, so the one enter that submits them also reaps them all.
  EXPECT_EQ(enters, 1u);
}

TEST(Batching, BeforeSleepHookSeesEverythingThatCompletedInTheTurn) {
  // Round r starts 10*(r+1) tasks that each wait for one completion and then queue an item; the
  // completions arrive together, so the hook flushes each round as one batch.
  std::vector<size_t> batch_sizes;
  std::vector<int> pending;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    shard.add_before_sleep([&] {
      if (!pending.empty()) batch_sizes.push_back(pending.size());
      pending.clear();
    });
    for (int round = 0; round < 3; round++) {
      const int count = 10 * (round + 1);
      Latch queued(count);
      for (int i = 0; i < count; i++) {
        shard.spawn([](Io& io, std::vector<int>& out, int item, Latch& done) -> Task<void> {
          co_await ops::nop(io);
          out.push_back(item);
          done.count_down();
        }(shard.io(), pending, i, queued));
      }
      co_await queued.wait();
    }
  });
  EXPECT_EQ(batch_sizes, (std::vector<size_t>{10, 20, 30}));
}

TEST(Batching, HooksCanBeRemovedAndAddedFromInsideAHook) {
  std::vector<std::string> calls;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Shard::HookId once = 0;
    once = shard.add_before_sleep([&] {
      calls.push_back("once");
      shard.remove_before_sleep(once);                            // removes itself while running
      shard.add_before_sleep([&] { calls.push_back("added"); });  // may reuse the slot
    });
    const Shard::HookId steady = shard.add_before_sleep([&] { calls.push_back("steady"); });
    for (int turn = 0; turn < 3; turn++) co_await shard.yield();
    shard.remove_before_sleep(steady);
    co_await shard.yield();
  });
  // The body resumes before the hooks of each turn. Turn 1: once, steady. Turn 2: added (in the
  // slot `once` freed), steady. Turn 3: the body removed steady; added. Later turns: added.
  ASSERT_GE(calls.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(calls.begin(), calls.begin() + 5),
            (std::vector<std::string>{"once", "steady", "added", "steady", "added"}));
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "steady"), 2);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "once"), 1);
}

}  // namespace
}  // namespace ringraft
