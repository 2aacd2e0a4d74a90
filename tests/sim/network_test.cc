// SimNetwork and EventQueue: delivery order, drops, duplicates, partitions.
#include "tests/sim/network.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringraft::sim {
namespace {

raft::Message message_to(uint64_t from, uint64_t to) {
  raft::Message message;
  message.from = NodeId{from};
  message.to = NodeId{to};
  message.term = Term{1};
  return message;
}

// Every delivery due by `until_ms`, as (from, to) pairs, through arrives().
std::vector<std::pair<uint64_t, uint64_t>> deliveries(EventQueue& events, SimNetwork& network,
                                                      uint64_t until_ms) {
  std::vector<std::pair<uint64_t, uint64_t>> delivered;
  while (std::optional<Event> event = events.pop_until(until_ms)) {
    if (network.arrives(event->message)) {
      delivered.emplace_back(event->message.from.value(), event->message.to.value());
    }
  }
  return delivered;
}

TEST(EventQueue, SameMillisecondRunsInSchedulingOrder) {
  EventQueue events;
  for (uint32_t node = 1; node <= 3; ++node) {
    Event event;
    event.node = node;
    events.schedule(5, event);
  }
  Event early;
  early.node = 9;
  events.schedule(4, early);
  std::vector<uint32_t> order;
  while (std::optional<Event> event = events.pop_until(100)) order.push_back(event->node);
  EXPECT_EQ(order, (std::vector<uint32_t>{9, 1, 2, 3}));
  EXPECT_EQ(events.now_ms(), 5u);
}

TEST(SimNetwork, DropsAndDuplicatesFollowTheProfile) {
  FaultProfile faults;
  raft::SplitMix64 rng(1);
  EventQueue events;
  SimNetwork network(3, faults, rng, events);
  faults.duplicate_percent = 100;
  network.send(message_to(1, 2));
  EXPECT_EQ(deliveries(events, network, 100).size(), 2u);
  faults.drop_percent = 100;
  network.send(message_to(1, 2));
  EXPECT_TRUE(deliveries(events, network, 200).empty());
  EXPECT_EQ(network.stats().dropped, 1u);
}

TEST(SimNetwork, PartitionCutsBothWaysAndInFlightMessagesUntilHealed) {
  FaultProfile faults;
  raft::SplitMix64 rng(1);
  EventQueue events;
  SimNetwork network(3, faults, rng, events);
  network.send(message_to(1, 3));  // in flight when the partition comes
  network.partition({0, 0, 1});
  network.send(message_to(3, 1));
  network.send(message_to(1, 2));
  EXPECT_EQ(deliveries(events, network, 100), (std::vector<std::pair<uint64_t, uint64_t>>{{1, 2}}));
  network.heal();
  network.send(message_to(3, 1));
  EXPECT_EQ(deliveries(events, network, 200), (std::vector<std::pair<uint64_t, uint64_t>>{{3, 1}}));
}

}  // namespace
}  // namespace ringraft::sim
