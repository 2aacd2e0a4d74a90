#include "reactor/timer.h"

#include <gtest/gtest.h>

#include <vector>

#include "reactor/timer_heap.h"
#include "tests/reactor/test_reactor.h"

namespace ringraft {
namespace {

using namespace std::chrono_literals;
using testing::run_on_reactor;

Task<void> sleep_then_record(Io& io, Duration delay, int id, std::vector<int>& fired) {
  const IoResult result = co_await ops::sleep_for(io, delay);
  EXPECT_TRUE(result.ok()) << result.message();
  fired.push_back(id);
}

TEST(Timer, FiresInDeadlineOrderNotCreationOrder) {
  std::vector<int> fired;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    shard.spawn(sleep_then_record(shard.io(), 30ms, 30, fired));
    shard.spawn(sleep_then_record(shard.io(), 10ms, 10, fired));
    shard.spawn(sleep_then_record(shard.io(), 20ms, 20, fired));
    co_await ops::sleep_for(shard.io(), 40ms);
  });
  EXPECT_EQ(fired, (std::vector<int>{10, 20, 30}));
}

TEST(Timer, EqualDeadlinesFireInCreationOrder) {
  std::vector<int> fired;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    const MonoTime deadline = shard.io().now() + 5ms;
    for (int id = 0; id < 5; id++) {
      shard.spawn([](Io& io, MonoTime at, int me, std::vector<int>& out) -> Task<void> {
        co_await ops::sleep_until(io, at);
        out.push_back(me);
      }(shard.io(), deadline, id, fired));
    }
    co_await ops::sleep_until(shard.io(), deadline + 5ms);
  });
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Timer, NeverFiresBeforeItsDeadline) {
  // Deadlines are on the loop's clock (read once per turn, never ahead of the real clock), so a
  // timer that fired means the real clock has passed its deadline too.
  run_on_reactor([&](Shard& shard) -> Task<void> {
    for (int round = 0; round < 5; round++) {
      const MonoTime deadline = shard.io().now() + 3ms;
      EXPECT_TRUE((co_await ops::sleep_until(shard.io(), deadline)).ok());
      EXPECT_GE(Clock::now(), deadline);
      EXPECT_GE(shard.io().now(), deadline);
    }
  });
}

TEST(Timer, CancelledTimerReportsCancelledAndDoesNotFire) {
  IoResult cancelled_result{1};
  std::vector<int> fired;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Timer timer(shard.io());
    shard.spawn([](Timer& t, IoResult& out) -> Task<void> { out = co_await t.wait_for(20ms); }(
                                                timer, cancelled_result));
    shard.spawn(sleep_then_record(shard.io(), 30ms, 1, fired));
    EXPECT_TRUE(timer.armed());
    timer.cancel();
    co_await ops::sleep_for(shard.io(), 40ms);
    EXPECT_FALSE(timer.armed());
  });
  EXPECT_EQ(cancelled_result.value, -ECANCELED);
  EXPECT_EQ(fired, std::vector<int>{1});
}

TEST(Timer, CanBeReusedAfterFiring) {
  int fired = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Timer timer(shard.io());
    for (int i = 0; i < 3; i++) {
      const IoResult result = co_await timer.wait_for(1ms);
      if (result.ok()) fired++;
    }
  });
  EXPECT_EQ(fired, 3);
}

TEST(Timer, OperationTimeoutCancelsASlowReceive) {
  IoResult result;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    FileDescriptor left(fds[0]), right(fds[1]);
    std::byte buffer[16];
    result = co_await ops::recv(shard.io(), left.get(), buffer).with_timeout(10ms);
  });
  EXPECT_EQ(result.value, -ECANCELED);
}

TEST(TimerHeap, KeepsOrderUnderRandomRemovals) {
  TimerHeap heap;
  std::vector<Operation> ops(200);
  const MonoTime base{};
  for (size_t i = 0; i < ops.size(); i++) {
    ops[i].deadline = base + std::chrono::milliseconds((i * 7919) % 211);
    heap.add(ops[i]);
  }
  for (size_t i = 0; i < ops.size(); i += 3) EXPECT_TRUE(heap.remove(ops[i]));
  heap.check_invariants();
  MonoTime last = base;
  size_t popped = 0;
  while (Operation* op = heap.pop_any()) {
    EXPECT_GE(op->deadline, last);
    last = op->deadline;
    popped++;
  }
  EXPECT_EQ(popped, ops.size() - (ops.size() + 2) / 3);
}

}  // namespace
}  // namespace ringraft
