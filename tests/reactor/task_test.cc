#include "reactor/task.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/reactor/test_reactor.h"

namespace ringraft {
namespace {

using testing::run_on_reactor;

Task<int> add_one(int value, std::vector<std::string>* trace) {
  trace->push_back("add_one " + std::to_string(value));
  co_return value + 1;
}

Task<int> add_two(int value, std::vector<std::string>* trace) {
  const int once = co_await add_one(value, trace);
  co_return co_await add_one(once, trace);
}

TEST(Task, IsLazyUntilAwaited) {
  std::vector<std::string> trace;
  Task<int> task = add_one(1, &trace);
  EXPECT_TRUE(trace.empty());
  EXPECT_FALSE(task.done());
}

TEST(Task, ChainsReturnValues) {
  std::vector<std::string> trace;
  int result = 0;
  run_on_reactor([&](Shard&) -> Task<void> { result = co_await add_two(40, &trace); });
  EXPECT_EQ(result, 42);
  EXPECT_EQ(trace, (std::vector<std::string>{"add_one 40", "add_one 41"}));
}

TEST(Task, MoveOnlyResults) {
  std::unique_ptr<int> result;
  run_on_reactor([&](Shard&) -> Task<void> {
    result = co_await []() -> Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); }();
  });
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(*result, 7);
}

TEST(Task, DestroyingAnUnstartedTaskRunsNoBody) {
  bool ran = false;
  {
    Task<void> task = [](bool& flag) -> Task<void> {
      flag = true;
      co_return;
    }(ran);
  }
  EXPECT_FALSE(ran);
}

TEST(Task, SpawnedTasksRunUntilTheirFirstSuspension) {
  std::vector<std::string> trace;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    shard.spawn([](Shard& self, std::vector<std::string>& out) -> Task<void> {
      out.push_back("child before yield");
      co_await self.yield();
      out.push_back("child after yield");
    }(shard, trace));
    trace.push_back("parent after spawn");
    co_await shard.yield();
    co_await shard.yield();
    trace.push_back("parent done");
  });
  EXPECT_EQ(trace, (std::vector<std::string>{"child before yield", "parent after spawn",
                                             "child after yield", "parent done"}));
}

TEST(Task, YieldRoundRobinsReadyTasks) {
  std::vector<int> order;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    for (int id = 0; id < 3; id++) {
      shard.spawn([](Shard& self, std::vector<int>& out, int me) -> Task<void> {
        for (int round = 0; round < 2; round++) {
          out.push_back(me);
          co_await self.yield();
        }
      }(shard, order, id));
    }
    for (int i = 0; i < 4; i++) co_await shard.yield();
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 0, 1, 2}));
}

}  // namespace
}  // namespace ringraft
