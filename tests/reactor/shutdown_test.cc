// Orderly shutdown: pending operations are cancelled and drained, tasks end, nothing leaks.
#include <gtest/gtest.h>

#include "reactor/accept_stream.h"
#include "reactor/latch.h"
#include "reactor/recv_stream.h"
#include "reactor/timer.h"
#include "tests/reactor/test_reactor.h"

namespace ringraft {
namespace {

using namespace std::chrono_literals;

TEST(Shutdown, CancelsPendingOperationsAndLetsTasksFinish) {
  Reactor reactor(testing::test_config(1));
  sockaddr_in address = ipv4_address("127.0.0.1", 0).value();
  FileDescriptor listener = listen_tcp(address).value();
  int sockets[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
  FileDescriptor quiet(sockets[0]), other_end(sockets[1]);

  IoResult timer_result{1}, recv_result{1}, accept_result{1}, multishot_result{1};
  int tasks_finished = 0;
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    Io& io = shard.io();
    shard.spawn([](Io& io_, IoResult& out, int& done) -> Task<void> {
      out = co_await ops::sleep_for(io_, std::chrono::hours(1));
      done++;
    }(io, timer_result, tasks_finished));
    shard.spawn([](Io& io_, int fd, IoResult& out, int& done) -> Task<void> {
      std::byte buffer[64];
      out = co_await ops::recv(io_, fd, buffer);  // nobody ever sends
      done++;
    }(io, quiet.get(), recv_result, tasks_finished));
    shard.spawn([](Io& io_, int fd, IoResult& out, int& done) -> Task<void> {
      out = co_await ops::accept(io_, fd);  // nobody ever connects
      done++;
    }(io, listener.get(), accept_result, tasks_finished));
    shard.spawn([](Shard& self, int fd, IoResult& out, int& done) -> Task<void> {
      auto group = self.io().create_buffer_group(4, 1024);
      RecvStream stream(self.io(), fd, *group.value());
      RecvResult received = co_await stream.next();
      out = received.status;
      co_await stream.stop();
      done++;
    }(shard, other_end.get(), multishot_result, tasks_finished));
    co_await ops::sleep_for(io, 5ms);  // let every operation reach the kernel
    shard.reactor().stop();
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(timer_result.value, -ECANCELED);
  EXPECT_EQ(recv_result.value, -ECANCELED);
  EXPECT_EQ(accept_result.value, -ECANCELED);
  EXPECT_EQ(multishot_result.value, -ECANCELED);
  EXPECT_EQ(tasks_finished, 4);
  EXPECT_EQ(reactor.final_stats()[0].tasks_destroyed_at_stop, 0u);
}

// A task waiting on something that never happens is destroyed at shutdown, and its
// destructors run (no leak, no hang).
TEST(Shutdown, DestroysTasksThatWaitForever) {
  struct NeverResumes {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
  };
  struct SetOnDestroy {
    bool* flag;
    ~SetOnDestroy() { *flag = true; }
  };
  bool destroyed = false;
  Reactor reactor(testing::test_config(1));
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    shard.spawn([](bool& flag) -> Task<void> {
      SetOnDestroy guard{&flag};
      co_await NeverResumes{};
    }(destroyed));
    shard.reactor().stop();
    co_return;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(reactor.final_stats()[0].tasks_destroyed_at_stop, 1u);
}

// The common shape "spawn workers, await a Latch" must survive a stop while a worker hangs:
// the Latch is destroyed with its waiter inside the frames being torn down.
TEST(Shutdown, TaskWaitingOnALatchIsDestroyedCleanly) {
  Reactor reactor(testing::test_config(2));
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    Latch never(1);
    if (shard.id().value() == 1) shard.reactor().stop();
    co_await never.wait();
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(reactor.final_stats()[0].tasks_destroyed_at_stop, 1u);
  EXPECT_EQ(reactor.final_stats()[1].tasks_destroyed_at_stop, 1u);
}

TEST(Shutdown, OperationsAfterStopAreRefused) {
  IoResult after_stop{1};
  Reactor reactor(testing::test_config(1));
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    shard.reactor().stop();
    co_await shard.yield();  // the loop sees the stop request at the top of the next turn
    after_stop = co_await ops::sleep_for(shard.io(), 1ms);
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(after_stop.value, -ECANCELED);
}

TEST(Shutdown, StopFromAnotherThreadWakesSleepingShards) {
  Reactor reactor(testing::test_config(2));
  std::atomic<int> started{0};
  std::thread stopper;
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    if (started.fetch_add(1) == 1) {
      stopper = std::thread([&reactor] { reactor.stop(); });
    }
    co_await ops::sleep_for(shard.io(), std::chrono::hours(1));
  });
  stopper.join();
  ASSERT_TRUE(result.ok());
}

}  // namespace
}  // namespace ringraft
