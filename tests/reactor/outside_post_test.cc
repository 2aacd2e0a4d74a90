// Work handed to shards by threads that are not shards (Reactor::try_post): every message runs
// once on the shard it was posted to, in order per producer, the inbox is bounded, and nothing
// posted is lost silently at stop (it ran or it was counted as dropped).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "tests/reactor/test_reactor.h"

namespace ringraft {
namespace {

constexpr uint32_t kShards = 2;

struct PostState {
  uint64_t expected = 0;  // stop once this many ran (0: never stop on count)
  std::atomic<uint64_t> ran{0};
  std::vector<std::atomic<uint32_t>> seen;  // per (producer, sequence): times run
  std::atomic<uint64_t> wrong_shard{0};
  std::atomic<uint64_t> out_of_order{0};
  // last sequence + 1 seen per [shard][producer]; each row touched by its shard only
  std::vector<std::vector<uint64_t>> next_per_producer;
  uint64_t per_producer = 0;
};

void on_post(Shard& shard, const ShardMessage& message) {
  auto* state = static_cast<PostState*>(message.object);
  const uint64_t producer = message.value0;
  const uint64_t sequence = message.value1;
  if (sequence % kShards != shard.id().value()) state->wrong_shard.fetch_add(1);
  uint64_t& next = state->next_per_producer[shard.id().value()][producer];
  if (sequence < next) state->out_of_order.fetch_add(1);
  next = sequence + 1;
  if (!state->seen.empty()) state->seen[producer * state->per_producer + sequence].fetch_add(1);
  if (state->ran.fetch_add(1) + 1 == state->expected) shard.reactor().stop();
}

// Stops a hung test after `limit` and fails it: a bound on time, not a measurement.
Task<void> watchdog(Shard& shard, std::chrono::seconds limit) {
  const IoResult slept = co_await ops::sleep_for(shard.io(), limit);
  if (slept.ok()) {
    ADD_FAILURE() << "still running after " << limit.count() << " s";
    shard.reactor().stop();
  }
}

// Posts `count` messages round-robin over the shards; retries while the inbox is full. Returns
// how many were accepted (fewer than count only if the reactor closed the inboxes).
uint64_t produce(Reactor& reactor, PostState& state, uint64_t producer, uint64_t count,
                 std::atomic<uint64_t>& full) {
  uint64_t accepted = 0;
  for (uint64_t sequence = 0; sequence < count; sequence++) {
    ShardMessage message;
    message.handler = &on_post;
    message.object = &state;
    message.value0 = producer;
    message.value1 = sequence;
    while (true) {
      const PostResult posted = reactor.try_post(ShardId(sequence % kShards), message);
      if (posted == PostResult::kPosted) break;
      if (posted == PostResult::kClosed) return accepted;
      full.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::yield();  // back-pressure: the shard drains at its next turn
    }
    accepted++;
  }
  return accepted;
}

TEST(OutsidePost, ManyThreadsEveryMessageRunsOnceOnItsShardInOrder) {
  constexpr uint64_t kProducers = 4;
  constexpr uint64_t kPerProducer = 20'000;
  ReactorConfig config = testing::test_config(kShards);
  config.outside_capacity = 64;  // small, so producers meet a full inbox
  Reactor reactor(config);
  PostState state;
  state.expected = kProducers * kPerProducer;
  state.per_producer = kPerProducer;
  state.seen = std::vector<std::atomic<uint32_t>>(kProducers * kPerProducer);
  state.next_per_producer.assign(kShards, std::vector<uint64_t>(kProducers, 0));
  std::atomic<uint64_t> full{0};
  std::vector<std::thread> producers;
  for (uint64_t p = 0; p < kProducers; p++) {
    producers.emplace_back([&, p] { produce(reactor, state, p, kPerProducer, full); });
  }
  Result<void> ran = reactor.run([](Shard& shard) -> Task<void> {
    if (shard.id().value() == 0) shard.spawn(watchdog(shard, std::chrono::seconds(60)));
    co_return;
  });
  for (std::thread& producer : producers) producer.join();
  ASSERT_TRUE(ran.ok()) << ran.error().message();
  EXPECT_EQ(state.ran.load(), state.expected);
  EXPECT_EQ(state.wrong_shard.load(), 0u);
  EXPECT_EQ(state.out_of_order.load(), 0u);
  uint64_t not_once = 0;
  for (const std::atomic<uint32_t>& times : state.seen) not_once += times.load() != 1 ? 1 : 0;
  EXPECT_EQ(not_once, 0u);
  uint64_t received = 0;
  for (const ShardStats& stats : reactor.final_stats()) received += stats.posts_received;
  EXPECT_EQ(received, state.expected);
  std::printf("inbox full %llu times\n", static_cast<unsigned long long>(full.load()));
}

TEST(OutsidePost, FullInboxRefusesAndPostsBeforeRunRunAtStart) {
  ReactorConfig config = testing::test_config(kShards);
  config.outside_capacity = 4;
  Reactor reactor(config);
  PostState state;
  state.expected = 4;
  state.next_per_producer.assign(kShards, std::vector<uint64_t>(1, 0));
  ShardMessage message;
  message.handler = &on_post;
  message.object = &state;
  for (uint64_t i = 0; i < 4; i++) {
    message.value1 = i * kShards + 1;  // every one for shard 1
    EXPECT_EQ(reactor.try_post(ShardId(1), message), PostResult::kPosted);
  }
  EXPECT_EQ(reactor.try_post(ShardId(1), message), PostResult::kFull);
  Result<void> ran = reactor.run([](Shard& shard) -> Task<void> {
    if (shard.id().value() == 0) shard.spawn(watchdog(shard, std::chrono::seconds(30)));
    co_return;
  });
  ASSERT_TRUE(ran.ok());
  EXPECT_EQ(state.ran.load(), 4u);
  EXPECT_EQ(state.wrong_shard.load(), 0u);
  EXPECT_EQ(reactor.final_stats()[1].posts_received, 4u);
  EXPECT_EQ(reactor.try_post(ShardId(1), message), PostResult::kClosed);
}

TEST(OutsidePost, PostsRacingStopEitherRunOrAreCountedDropped) {
  constexpr uint64_t kProducers = 3;
  Reactor reactor(testing::test_config(kShards));
  PostState state;
  state.expected = 5'000;  // stop while producers still post
  state.next_per_producer.assign(kShards, std::vector<uint64_t>(kProducers, 0));
  std::atomic<uint64_t> full{0};
  std::atomic<uint64_t> accepted{0};
  std::vector<std::thread> producers;
  for (uint64_t p = 0; p < kProducers; p++) {
    producers.emplace_back(
        [&, p] { accepted.fetch_add(produce(reactor, state, p, UINT64_MAX, full)); });
  }
  Result<void> ran = reactor.run([](Shard& shard) -> Task<void> {
    if (shard.id().value() == 0) shard.spawn(watchdog(shard, std::chrono::seconds(60)));
    co_return;
  });
  for (std::thread& producer : producers) producer.join();  // each ends at kClosed
  ASSERT_TRUE(ran.ok());
  uint64_t received = 0;
  uint64_t dropped = 0;
  for (const ShardStats& stats : reactor.final_stats()) {
    received += stats.posts_received;
    dropped += stats.posts_dropped_at_stop;
  }
  EXPECT_GE(received, state.expected);
  EXPECT_EQ(received, state.ran.load());
  EXPECT_EQ(received + dropped, accepted.load());
  EXPECT_EQ(state.out_of_order.load(), 0u);
}

}  // namespace
}  // namespace ringraft
