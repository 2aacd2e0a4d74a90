// Cross-shard messages: the reactor's SPSC channels with MSG_RING wake-ups against the textbook
// alternative, a std::deque behind a std::mutex with two std::condition_variables, between two
// plain threads.
//
//   BM_CrossShard/<reactor|mutex_queue>/one_way     shard 0 streams messages, shard 1 counts them
//   BM_CrossShard/<reactor|mutex_queue>/round_trip  one message in flight, bounced back and forth
//
// Both queues hold the same 32-byte message and the same bound (kQueueCapacity); both receivers
// run a handler per message and check that messages arrive in order.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "bench/micro/reactor_bench_support.h"

namespace ringraft::bench {
namespace {

constexpr uint32_t kQueueCapacity = 4096;  // ReactorConfig's default channel capacity
constexpr uint64_t kOneWayMessages = 2'000'000;
constexpr uint64_t kRoundTrips = 20'000;

const ShardId kSender(0);
const ShardId kReceiver(1);

void report_one_way(benchmark::State& state, uint64_t messages, double seconds) {
  state.SetIterationTime(seconds);
  state.SetItemsProcessed(static_cast<int64_t>(messages));
  state.counters["ns_per_message"] = seconds * 1e9 / static_cast<double>(messages);
}

void report_round_trips(benchmark::State& state, uint64_t round_trips, double seconds) {
  state.SetIterationTime(seconds);
  state.SetItemsProcessed(static_cast<int64_t>(round_trips));
  state.counters["rtt_us"] = seconds * 1e6 / static_cast<double>(round_trips);
}

// ---- reactor: one way -------------------------------------------------------------------------

// Written by the shard named beside each field; read by the benchmark thread after the run.
struct OneWayRun {
  uint64_t received = 0;            // receiver
  bool in_order = true;             // receiver
  BenchClock::time_point started;   // sender
  BenchClock::time_point finished;  // receiver
};

void count_message(Shard& receiver, const ShardMessage& message) {
  auto& run = *static_cast<OneWayRun*>(message.object);
  run.in_order = run.in_order && message.value0 == run.received;
  if (++run.received < kOneWayMessages) return;
  run.finished = BenchClock::now();
  receiver.reactor().stop();
}

// Pushes while the channel has room; when it is full, Shard::send parks the task until the
// receiver frees space, so the sender never spins on a full ring.
Task<void> send_messages(Shard& shard, OneWayRun& run) {
  ShardMessage message;
  message.handler = &count_message;
  message.object = &run;
  run.started = BenchClock::now();
  for (uint64_t i = 0; i < kOneWayMessages; i++) {
    message.value0 = i;
    if (shard.try_send(kReceiver, message)) continue;
    if (!co_await shard.send(kReceiver, message)) co_return;  // stopping
  }
}

void BM_CrossShardReactorOneWay(benchmark::State& state) {
  ReactorRunReport report;
  for (auto _ : state) {
    OneWayRun run;
    report = run_reactor_workload(2, [&run](Shard& shard) -> Task<void> {
      if (shard.id() == kSender) return send_messages(shard, run);
      return []() -> Task<void> { co_return; }();
    });
    if (!report.ok() || !run.in_order) {
      state.SkipWithError(!report.ok() ? report.error.c_str() : "messages arrived out of order");
      break;
    }
    report_one_way(state, kOneWayMessages, seconds_between(run.started, run.finished));
  }
  if (state.error_occurred()) return;
  state.counters["sender_full"] = static_cast<double>(report.shard_stats[0].send_full);
  state.counters["receiver_wakes"] = static_cast<double>(report.uring_stats[1].wakes_received);
}

// ---- reactor: round trip ----------------------------------------------------------------------

struct RoundTripRun {
  uint64_t completed = 0;           // sender
  bool channel_full = false;        // either; one message in flight can never fill a channel
  BenchClock::time_point started;   // sender
  BenchClock::time_point finished;  // sender
};

void on_pong(Shard& sender, const ShardMessage& pong);

void on_ping(Shard& receiver, const ShardMessage& ping) {
  ShardMessage pong = ping;
  pong.handler = &on_pong;
  if (!receiver.try_send(kSender, pong))
    static_cast<RoundTripRun*>(ping.object)->channel_full = true;
}

void on_pong(Shard& sender, const ShardMessage& pong) {
  auto& run = *static_cast<RoundTripRun*>(pong.object);
  if (++run.completed == kRoundTrips) {
    run.finished = BenchClock::now();
    sender.reactor().stop();
    return;
  }
  ShardMessage ping = pong;
  ping.handler = &on_ping;
  if (!sender.try_send(kReceiver, ping)) run.channel_full = true;
}

void BM_CrossShardReactorRoundTrip(benchmark::State& state, Duration idle_poll) {
  for (auto _ : state) {
    RoundTripRun run;
    ReactorRunReport report = run_reactor_workload(
        2,
        [&run](Shard& shard) -> Task<void> {
          if (shard.id() == kSender) {
            ShardMessage ping;
            ping.handler = &on_ping;
            ping.object = &run;
            run.started = BenchClock::now();
            if (!shard.try_send(kReceiver, ping)) run.channel_full = true;
          }
          return []() -> Task<void> { co_return; }();
        },
        idle_poll);
    if (!report.ok() || run.channel_full) {
      state.SkipWithError(!report.ok() ? report.error.c_str() : "a channel was full");
      break;
    }
    report_round_trips(state, kRoundTrips, seconds_between(run.started, run.finished));
  }
}

// ---- mutex + condition variable baseline ------------------------------------------------------

struct QueueMessage {
  void (*handler)(const QueueMessage& message) = nullptr;
  void* object = nullptr;
  uint64_t value0 = 0;
  uint64_t value1 = 0;
};
static_assert(sizeof(QueueMessage) == sizeof(ShardMessage));

// A bounded blocking queue, as most code without a reactor would write it.
class MutexQueue {
 public:
  explicit MutexQueue(size_t capacity) : capacity_(capacity) {}

  void push(const QueueMessage& message) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(lock, [this] { return items_.size() < capacity_; });
      items_.push_back(message);
    }
    not_empty_.notify_one();
  }

  QueueMessage pop() {
    QueueMessage message;
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [this] { return !items_.empty(); });
      message = items_.front();
      items_.pop_front();
    }
    not_full_.notify_one();
    return message;
  }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<QueueMessage> items_;
};

struct QueueCounter {
  uint64_t received = 0;
  bool in_order = true;
};

void count_queue_message(const QueueMessage& message) {
  auto& counter = *static_cast<QueueCounter*>(message.object);
  counter.in_order = counter.in_order && message.value0 == counter.received;
  counter.received++;
}

void BM_CrossShardMutexQueueOneWay(benchmark::State& state) {
  for (auto _ : state) {
    MutexQueue queue(kQueueCapacity);
    QueueCounter counter;
    BenchClock::time_point started, finished;
    std::thread receiver([&] {
      for (uint64_t i = 0; i < kOneWayMessages; i++) {
        const QueueMessage message = queue.pop();
        message.handler(message);
      }
      finished = BenchClock::now();
    });
    std::thread sender([&] {
      QueueMessage message;
      message.handler = &count_queue_message;
      message.object = &counter;
      started = BenchClock::now();
      for (uint64_t i = 0; i < kOneWayMessages; i++) {
        message.value0 = i;
        queue.push(message);
      }
    });
    sender.join();
    receiver.join();
    if (!counter.in_order) {
      state.SkipWithError("messages arrived out of order");
      break;
    }
    report_one_way(state, kOneWayMessages, seconds_between(started, finished));
  }
}

void BM_CrossShardMutexQueueRoundTrip(benchmark::State& state) {
  for (auto _ : state) {
    MutexQueue pings(kQueueCapacity), pongs(kQueueCapacity);
    QueueCounter counter;
    BenchClock::time_point started, finished;
    std::thread receiver([&] {
      for (uint64_t i = 0; i < kRoundTrips; i++) pongs.push(pings.pop());
    });
    std::thread sender([&] {
      QueueMessage ping;
      ping.handler = &count_queue_message;
      ping.object = &counter;
      started = BenchClock::now();
      for (uint64_t i = 0; i < kRoundTrips; i++) {
        ping.value0 = i;
        pings.push(ping);
        const QueueMessage pong = pongs.pop();
        pong.handler(pong);
      }
      finished = BenchClock::now();
    });
    sender.join();
    receiver.join();
    if (!counter.in_order || counter.received != kRoundTrips) {
      state.SkipWithError("round trips lost or reordered");
      break;
    }
    report_round_trips(state, kRoundTrips, seconds_between(started, finished));
  }
}

void one_run(benchmark::internal::Benchmark* benchmark) {
  benchmark->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_CrossShardReactorOneWay)->Name("BM_CrossShard/reactor/one_way")->Apply(one_run);
BENCHMARK(BM_CrossShardMutexQueueOneWay)->Name("BM_CrossShard/mutex_queue/one_way")->Apply(one_run);
BENCHMARK_CAPTURE(BM_CrossShardReactorRoundTrip, reactor, Duration::zero())
    ->Name("BM_CrossShard/reactor/round_trip")
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_CrossShardReactorRoundTrip, reactor_polling, kBenchIdlePoll)
    ->Name("BM_CrossShard/reactor_polling/round_trip")
    ->Apply(one_run);
BENCHMARK(BM_CrossShardMutexQueueRoundTrip)
    ->Name("BM_CrossShard/mutex_queue/round_trip")
    ->Apply(one_run);

}  // namespace
}  // namespace ringraft::bench
