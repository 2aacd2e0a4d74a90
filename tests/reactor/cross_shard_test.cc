// Messages between shards: delivery, order, round trips and back-pressure.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "tests/reactor/test_reactor.h"

namespace ringraft {
namespace {

struct PingPongState {
  std::atomic<uint64_t> pongs{0};
  uint64_t rounds = 0;
};

void on_ping(Shard& receiver, const ShardMessage& ping) {
  ShardMessage pong = ping;
  pong.handler = [](Shard& shard, const ShardMessage& message) {
    auto* state = static_cast<PingPongState*>(message.object);
    const uint64_t done = state->pongs.fetch_add(1) + 1;
    if (done == state->rounds) {
      shard.reactor().stop();
      return;
    }
    ShardMessage next = message;
    next.value0 = done;
    next.handler = &on_ping;
    EXPECT_TRUE(shard.try_send(ShardId(1), next));
  };
  EXPECT_TRUE(receiver.try_send(ShardId(0), pong));
}

// Runs `rounds` ping-pongs between shards 0 and 1; returns the shards' final stats.
std::vector<ShardStats> run_ping_pong(const ReactorConfig& config, uint64_t rounds) {
  PingPongState state;
  state.rounds = rounds;
  Reactor reactor(config);
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    if (shard.id().value() == 0) {
      ShardMessage ping;
      ping.handler = &on_ping;
      ping.object = &state;
      EXPECT_TRUE(shard.try_send(ShardId(1), ping));
    }
    co_return;
  });
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(state.pongs.load(), rounds);
  return reactor.final_stats();
}

TEST(CrossShard, PingPongRoundTrips) {
  const std::vector<ShardStats> stats = run_ping_pong(testing::test_config(2), 20'000);
  EXPECT_GE(stats[1].messages_received, 20'000u);
}

TEST(CrossShard, IdlePollingFindsRepliesWithoutSleeping) {
  ReactorConfig config = testing::test_config(2);
  config.idle_poll = std::chrono::milliseconds(2);
  const std::vector<ShardStats> stats = run_ping_pong(config, 2'000);
  // Replies came within the polling window at least sometimes: turns that never slept.
  EXPECT_GT(stats[0].idle_polls + stats[1].idle_polls, 0u);
}

struct Sequence {
  std::vector<uint64_t> received;  // touched only by the receiving shard
  uint64_t expected_count = 0;
};

TEST(CrossShard, FullRingMakesTheSenderWaitAndDropsNothing) {
  constexpr uint64_t kMessages = 50'000;
  ReactorConfig config = testing::test_config(2);
  config.channel_capacity = 16;  // tiny, so the sender outruns the receiver
  Reactor reactor(config);
  Sequence sequence;
  sequence.expected_count = kMessages;
  bool all_sent = true;
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    if (shard.id().value() != 0) co_return;
    for (uint64_t i = 0; i < kMessages; i++) {
      ShardMessage message;
      message.object = &sequence;
      message.value0 = i;
      message.handler = [](Shard& receiver, const ShardMessage& m) {
        auto* seq = static_cast<Sequence*>(m.object);
        seq->received.push_back(m.value0);
        if (seq->received.size() == seq->expected_count) receiver.reactor().stop();
      };
      all_sent = (co_await shard.send(ShardId(1), message)) && all_sent;
    }
  });
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(all_sent);
  ASSERT_EQ(sequence.received.size(), kMessages);
  for (uint64_t i = 0; i < kMessages; i++) ASSERT_EQ(sequence.received[i], i);
  // The ring really was full and the sender really waited.
  EXPECT_GT(reactor.final_stats()[0].send_full, 0u);
}

constexpr uint32_t kAllToAllShards = 4;

TEST(CrossShard, EveryShardReachesEveryOther) {
  constexpr uint32_t kShards = kAllToAllShards;
  std::atomic<uint32_t> delivered{0};
  Reactor reactor(testing::test_config(kShards));
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    for (uint32_t to = 0; to < kShards; to++) {
      if (to == shard.id().value()) continue;
      ShardMessage message;
      message.object = &delivered;
      message.value0 = shard.id().value();
      message.handler = [](Shard& receiver, const ShardMessage& m) {
        EXPECT_NE(m.value0, receiver.id().value());
        auto* count = static_cast<std::atomic<uint32_t>*>(m.object);
        if (count->fetch_add(1) + 1 == kAllToAllShards * (kAllToAllShards - 1)) {
          receiver.reactor().stop();
        }
      };
      EXPECT_TRUE(co_await shard.send(ShardId(to), message));
    }
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(delivered.load(), kShards * (kShards - 1));
}

}  // namespace
}  // namespace ringraft
