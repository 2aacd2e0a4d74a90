// Transports on loopback delivering messages: every message type, batching of a turn's frames
// into one sendmsg, both directions, and a node with 16 peers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>

#include "common/crc32c.h"
#include "tests/net/transport_harness.h"
#include "tests/net/wire_samples.h"
#include "tests/reactor/test_reactor.h"

namespace ringraft::net {
namespace {

using ringraft::testing::run_on_reactor;
using testing::free_port;
using testing::Inbox;
using testing::loopback_options;
using testing::loopback_peer;
using testing::wait_until;

struct Pair {
  Inbox inbox_a;
  Inbox inbox_b;
  std::unique_ptr<Transport> a;  // node 1
  std::unique_ptr<Transport> b;  // node 2
};

Task<bool> start_pair(Shard& shard, Pair& pair) {
  const uint16_t port_a = free_port();
  const uint16_t port_b = free_port();
  pair.a = Transport::create(shard, loopback_options(1, port_a, {loopback_peer(2, port_b)}),
                             pair.inbox_a.handler())
               .value();
  pair.b = Transport::create(shard, loopback_options(2, port_b, {loopback_peer(1, port_a)}),
                             pair.inbox_b.handler())
               .value();
  if (!(co_await pair.a->start()).ok() || !(co_await pair.b->start()).ok()) co_return false;
  co_return co_await wait_until(
      shard, [&] { return pair.a->writable(NodeId(2)) && pair.b->writable(NodeId(1)); });
}

Task<void> stop_pair(Pair& pair) {
  co_await pair.a->stop();
  co_await pair.b->stop();
}

TEST(Transport, EveryMessageTypeRoundTrips) {
  const std::vector<testing::SampleMessage> samples = testing::one_of_each_message();
  std::vector<uint64_t> expected_digests;
  for (const auto& sample : samples) {
    expected_digests.push_back(
        testing::read_every_field(*wire::GetMessage(sample.flatbuffer.data())));
  }
  std::vector<testing::Received> received;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Pair pair;
    EXPECT_TRUE(co_await start_pair(shard, pair));
    for (const auto& sample : samples) {
      EXPECT_EQ(pair.a->send(NodeId(2), sample.flatbuffer), SendStatus::kQueued);
    }
    EXPECT_TRUE(co_await wait_until(shard, [&] { return pair.inbox_b.count() == samples.size(); }));
    received = pair.inbox_b.messages();
    co_await stop_pair(pair);
  });
  ASSERT_EQ(received.size(), samples.size());
  for (size_t i = 0; i < samples.size(); i++) {
    EXPECT_EQ(received[i].from, NodeId(1));
    EXPECT_EQ(received[i].body_type, samples[i].body_type)
        << wire::EnumNameBody(samples[i].body_type);
    EXPECT_EQ(received[i].digest, expected_digests[i]) << wire::EnumNameBody(samples[i].body_type);
  }
}

// Node 1 on shard 0 and node 2 on shard 1: two loops on two threads, as in a real process.
TEST(Transport, EveryMessageTypeRoundTripsBetweenTwoShards) {
  const std::vector<testing::SampleMessage> samples = testing::one_of_each_message();
  const uint16_t port_a = free_port();
  const uint16_t port_b = free_port();
  std::atomic<bool> delivered{false};
  std::atomic<int> stopped{0};
  std::vector<testing::Received> received;  // written by shard 1 until `delivered`
  Reactor reactor(ringraft::testing::test_config(2));
  const Result<void> ran = reactor.run([&](Shard& shard) -> Task<void> {
    const bool is_a = shard.id().value() == 0;
    Inbox inbox;
    auto transport =
        Transport::create(shard,
                          is_a ? loopback_options(1, port_a, {loopback_peer(2, port_b)})
                               : loopback_options(2, port_b, {loopback_peer(1, port_a)}),
                          inbox.handler())
            .value();
    EXPECT_TRUE((co_await transport->start()).ok());
    if (is_a) {
      EXPECT_TRUE(co_await wait_until(shard, [&] { return transport->writable(NodeId(2)); }));
      for (const auto& sample : samples) {
        EXPECT_EQ(transport->send(NodeId(2), sample.flatbuffer), SendStatus::kQueued);
      }
    } else {
      EXPECT_TRUE(co_await wait_until(shard, [&] { return inbox.count() == samples.size(); }));
      received = inbox.messages();
      delivered = true;
    }
    EXPECT_TRUE(co_await wait_until(shard, [&] { return delivered.load(); }));
    co_await transport->stop();
    if (stopped.fetch_add(1) == 1) shard.reactor().stop();
  });
  ASSERT_TRUE(ran.ok()) << ran.error().message();
  ASSERT_EQ(received.size(), samples.size());
  for (size_t i = 0; i < samples.size(); i++) {
    EXPECT_EQ(received[i].body_type, samples[i].body_type);
    EXPECT_EQ(received[i].digest,
              testing::read_every_field(*wire::GetMessage(samples[i].flatbuffer.data())));
  }
}

TEST(Transport, FramesQueuedInOneTurnLeaveInOneSendmsg) {
  constexpr size_t kMessages = 200;
  PeerStats before;
  PeerStats after;
  size_t delivered = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Pair pair;
    EXPECT_TRUE(co_await start_pair(shard, pair));
    const auto message = testing::append_entries_message(5, 1, 100, 3);
    before = *pair.a->stats().peer(NodeId(2));
    for (size_t i = 0; i < kMessages; i++) {
      EXPECT_EQ(pair.a->send(NodeId(2), message), SendStatus::kQueued);
    }
    EXPECT_TRUE(co_await wait_until(shard, [&] { return pair.inbox_b.count() == kMessages; }));
    delivered = pair.inbox_b.count();
    after = *pair.a->stats().peer(NodeId(2));
    co_await stop_pair(pair);
  });
  EXPECT_EQ(delivered, kMessages);
  EXPECT_EQ(after.frames_out - before.frames_out, kMessages);
  // 200 frames of ~200 bytes fit the socket buffer: one flush, one sendmsg.
  EXPECT_EQ(after.sendmsg_calls - before.sendmsg_calls, 1u);
}

TEST(Transport, MessagesBuiltInPlaceArriveInOrderBesideCopiedOnes) {
  // Built in place with generous bounds (gaps, so several iovec segments), small ones moved
  // over their gaps, copied ones in between, and one that outgrows its bound: all in one turn.
  const std::vector<size_t> entry_bytes = {30000, 100, 20000, 5000, 40000, 64};
  std::vector<std::vector<std::byte>> expected;
  std::vector<uint64_t> received_digests;
  PeerStats before;
  PeerStats after;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Pair pair;
    EXPECT_TRUE(co_await start_pair(shard, pair));
    before = *pair.a->stats().peer(NodeId(2));
    for (size_t i = 0; i < entry_bytes.size(); i++) {
      const auto fill = static_cast<uint8_t>(i + 1);
      expected.push_back(testing::append_entries_message(i, 1, entry_bytes[i], fill));
      const size_t bound = i == 3 ? 1024 : entry_bytes[i] + kMessageOverheadBytes + 3000;
      EXPECT_EQ(pair.a->send_built(NodeId(2), bound,
                                   [&](flatbuffers::FlatBufferBuilder& builder) {
                                     testing::build_append_entries(builder, i, 1, entry_bytes[i],
                                                                   fill);
                                   }),
                SendStatus::kQueued);
      if (i % 2 == 1) {
        expected.push_back(testing::append_entries_message(100 + i, 1, 50, fill));
        EXPECT_EQ(pair.a->send(NodeId(2), expected.back()), SendStatus::kQueued);
      }
    }
    EXPECT_TRUE(
        co_await wait_until(shard, [&] { return pair.inbox_b.count() == expected.size(); }));
    for (const auto& received : pair.inbox_b.messages()) {
      received_digests.push_back(received.digest);
    }
    after = *pair.a->stats().peer(NodeId(2));
    co_await stop_pair(pair);
  });
  std::vector<uint64_t> expected_digests;
  for (const auto& flatbuffer : expected) {
    expected_digests.push_back(testing::read_every_field(*wire::GetMessage(flatbuffer.data())));
  }
  EXPECT_EQ(received_digests, expected_digests);
  EXPECT_EQ(after.sends_built - before.sends_built, entry_bytes.size());
  EXPECT_EQ(after.builds_outgrown - before.builds_outgrown, 1u);
  EXPECT_EQ(after.sendmsg_calls - before.sendmsg_calls, 1u);
}

// A build that returns the entry block's CRC (as from the WAL): the frame's CRC is combined
// from it, and the receiver, which checks the whole frame in one pass, accepts it.
TEST(Transport, MessagesBuiltWithAKnownBlockCrcArriveIntact) {
  const std::vector<size_t> entry_bytes = {100, 30000, 8, 50000};
  std::vector<uint64_t> expected_digests;
  std::vector<uint64_t> received_digests;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Pair pair;
    EXPECT_TRUE(co_await start_pair(shard, pair));
    for (size_t i = 0; i < entry_bytes.size(); i++) {
      std::vector<std::byte> block(entry_bytes[i], std::byte(static_cast<uint8_t>(i + 5)));
      const auto status = pair.a->send_built(
          NodeId(2), block.size() + kMessageOverheadBytes,
          [&](flatbuffers::FlatBufferBuilder& builder) -> KnownCrcSpan {
            begin_message(builder);
            uint8_t* block_bytes = nullptr;
            const auto vector = builder.CreateUninitializedVector(block.size(), &block_bytes);
            std::memcpy(block_bytes, block.data(), block.size());
            const auto body = wire::CreateAppendEntries(builder, i, 3, 1, 100, 3, 99, 1, vector);
            finish_message(builder, 1, 2, body);
            expected_digests.push_back(
                testing::read_every_field(*wire::GetMessage(builder.GetBufferPointer())));
            KnownCrcSpan known;
            known.data = reinterpret_cast<const std::byte*>(block_bytes);
            known.size_bytes = block.size();
            known.crc = crc32c(block);
            return known;
          });
      EXPECT_EQ(status, SendStatus::kQueued);
    }
    EXPECT_TRUE(
        co_await wait_until(shard, [&] { return pair.inbox_b.count() == entry_bytes.size(); }));
    for (const auto& received : pair.inbox_b.messages()) {
      received_digests.push_back(received.digest);
    }
    co_await stop_pair(pair);
  });
  EXPECT_EQ(received_digests, expected_digests);
}

TEST(Transport, SendBuiltToAFullPeerRunsNoBuildAndQueuesNothing) {
  bool built_when_full = false;
  SendStatus status = SendStatus::kQueued;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Pair pair;
    EXPECT_TRUE(co_await start_pair(shard, pair));
    // Four reservations of 60 KiB fill the 256 KiB of pending output; the fifth is refused.
    for (int i = 0; i < 4; i++) {
      (void)pair.a->send_built(NodeId(2), 60u << 10, [&](flatbuffers::FlatBufferBuilder& b) {
        testing::build_append_entries(b, 1, 1, 50u << 10, 0x11);
      });
    }
    status = pair.a->send_built(NodeId(2), 60u << 10,
                                [&](flatbuffers::FlatBufferBuilder&) { built_when_full = true; });
    EXPECT_FALSE(pair.a->writable(NodeId(2)));
    co_await stop_pair(pair);
  });
  EXPECT_EQ(status, SendStatus::kFull);
  EXPECT_FALSE(built_when_full);
}

TEST(Transport, BothDirectionsCarryMessages) {
  size_t at_a = 0;
  size_t at_b = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Pair pair;
    EXPECT_TRUE(co_await start_pair(shard, pair));
    const auto to_b = testing::append_entries_message(1, 1, 10, 1);
    flatbuffers::FlatBufferBuilder builder(256);
    begin_message(builder);
    finish_message(builder, 2, 1, wire::CreateAppendResponse(builder, 1, 7, false, 42, 0, 0));
    const auto to_a = testing::builder_bytes(builder);
    for (int i = 0; i < 10; i++) {
      EXPECT_EQ(pair.a->send(NodeId(2), to_b), SendStatus::kQueued);
      EXPECT_EQ(pair.b->send(NodeId(1), to_a), SendStatus::kQueued);
    }
    EXPECT_TRUE(co_await wait_until(
        shard, [&] { return pair.inbox_a.count() == 10 && pair.inbox_b.count() == 10; }));
    at_a = pair.inbox_a.count();
    at_b = pair.inbox_b.count();
    co_await stop_pair(pair);
  });
  EXPECT_EQ(at_a, 10u);
  EXPECT_EQ(at_b, 10u);
}

TEST(Transport, SendToAPeerNotYetConnectedIsUnreachable) {
  SendStatus status = SendStatus::kQueued;
  SendStatus unknown = SendStatus::kQueued;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox inbox;
    auto transport =
        Transport::create(shard, loopback_options(1, free_port(), {loopback_peer(2, free_port())}),
                          inbox.handler())
            .value();
    EXPECT_TRUE((co_await transport->start()).ok());
    const auto message = testing::append_entries_message(1, 1, 10, 1);
    status = transport->send(NodeId(2), message);
    unknown = transport->send(NodeId(9), message);
    co_await transport->stop();
  });
  EXPECT_EQ(status, SendStatus::kUnreachable);
  EXPECT_EQ(unknown, SendStatus::kUnreachable);
}

TEST(Transport, SixteenPeersExchangeWithOneHub) {
  constexpr uint64_t kPeers = 16;
  const uint16_t hub_port = free_port();
  std::vector<uint16_t> ports;
  for (uint64_t i = 0; i < kPeers; i++) ports.push_back(free_port());
  size_t hub_received = 0;
  size_t spokes_received = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox hub_inbox;
    std::vector<PeerAddress> spokes;
    for (uint64_t i = 0; i < kPeers; i++) spokes.push_back(loopback_peer(2 + i, ports[i]));
    auto hub = Transport::create(shard, loopback_options(1, hub_port, spokes), hub_inbox.handler())
                   .value();
    EXPECT_TRUE((co_await hub->start()).ok());
    std::vector<Inbox> inboxes(kPeers);
    std::vector<std::unique_ptr<Transport>> nodes;
    for (uint64_t i = 0; i < kPeers; i++) {
      nodes.push_back(
          Transport::create(shard, loopback_options(2 + i, ports[i], {loopback_peer(1, hub_port)}),
                            inboxes[i].handler())
              .value());
      EXPECT_TRUE((co_await nodes.back()->start()).ok());
    }
    EXPECT_TRUE(co_await wait_until(shard, [&] {
      for (uint64_t i = 0; i < kPeers; i++) {
        if (!hub->writable(NodeId(2 + i)) || !nodes[i]->writable(NodeId(1))) return false;
      }
      return true;
    }));
    for (uint64_t i = 0; i < kPeers; i++) {
      flatbuffers::FlatBufferBuilder builder(256);
      begin_message(builder);
      finish_message(builder, 1, 2 + i, wire::CreateTimeoutNow(builder, i, 3));
      EXPECT_EQ(hub->send(NodeId(2 + i), testing::builder_bytes(builder)), SendStatus::kQueued);
      begin_message(builder);
      finish_message(builder, 2 + i, 1, wire::CreateVoteResponse(builder, i, 3, true, false));
      EXPECT_EQ(nodes[i]->send(NodeId(1), testing::builder_bytes(builder)), SendStatus::kQueued);
    }
    EXPECT_TRUE(co_await wait_until(shard, [&] {
      size_t total = 0;
      for (const Inbox& inbox : inboxes) total += inbox.count();
      return hub_inbox.count() == kPeers && total == kPeers;
    }));
    hub_received = hub_inbox.count();
    for (const Inbox& inbox : inboxes) spokes_received += inbox.count();
    for (auto& node : nodes) co_await node->stop();
    co_await hub->stop();
  });
  EXPECT_EQ(hub_received, kPeers);
  EXPECT_EQ(spokes_received, kPeers);
}

// A node added at run time (RINGRAFT.ADDNODE): node 1 starts knowing nobody and refuses node
// 2's dials; once node 1 adds node 2, both directions connect (the samples are messages from
// node 1, so only 1 -> 2 delivers one).
TEST(Transport, PeerAddedAtRunTimeIsDialledAndAccepted) {
  const std::vector<testing::SampleMessage> samples = testing::one_of_each_message();
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox inbox_a;
    Inbox inbox_b;
    const uint16_t port_a = free_port();
    const uint16_t port_b = free_port();
    auto a = Transport::create(shard, loopback_options(1, port_a, {}), inbox_a.handler()).value();
    auto b = Transport::create(shard, loopback_options(2, port_b, {loopback_peer(1, port_a)}),
                               inbox_b.handler())
                 .value();
    EXPECT_TRUE((co_await a->start()).ok());
    EXPECT_TRUE((co_await b->start()).ok());
    EXPECT_EQ(a->send(NodeId(2), samples[0].flatbuffer), SendStatus::kUnreachable);
    EXPECT_TRUE(a->add_peer(loopback_peer(2, port_b)).ok());
    EXPECT_TRUE(a->add_peer(loopback_peer(2, port_b)).ok());  // the same again: nothing to do
    EXPECT_EQ(a->add_peer(loopback_peer(2, static_cast<uint16_t>(port_b + 1))).error().code(),
              ErrorCode::kInvalidInput);
    EXPECT_EQ(a->add_peer(loopback_peer(1, port_b)).error().code(), ErrorCode::kInvalidInput);
    EXPECT_TRUE(co_await wait_until(
        shard, [&] { return a->writable(NodeId(2)) && b->writable(NodeId(1)); }));
    EXPECT_EQ(a->send(NodeId(2), samples[0].flatbuffer), SendStatus::kQueued);
    EXPECT_TRUE(co_await wait_until(shard, [&] { return inbox_b.count() == 1; }));
    EXPECT_EQ(a->stats().peers.size(), 1u);
    co_await a->stop();
    co_await b->stop();
  });
}

}  // namespace
}  // namespace ringraft::net
