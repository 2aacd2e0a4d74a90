// Large frames received straight into the connection's frame buffer: the multishot receive is
// paused for the rest of a large frame, that rest is received in one recv, and the receive is
// re-armed for what follows. Whatever the mix of sizes, every message arrives intact and in
// order, with the direct path on or off.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "reactor/ops.h"
#include "reactor/socket.h"
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

struct StreamOutcome {
  std::vector<uint64_t> sent_digests;
  std::vector<uint64_t> received_digests;
  FrameCounters frames;  // the receiver's
};

// Node 1 streams `count` AppendEntries of seeded random sizes (small ones, ones that straddle a
// few 4 KiB receive buffers, and ones close to the 64 KiB frame bound) to node 2, waiting for
// the writable handler whenever its output is full.
StreamOutcome stream_mixed_sizes(uint32_t direct_receive_bytes_min, size_t count) {
  std::mt19937_64 random(testing::test_seed());
  const std::vector<size_t> sizes = {64, 3000, 9000, 20000, 48000, 64000};
  std::vector<std::vector<std::byte>> messages;
  StreamOutcome outcome;
  for (size_t i = 0; i < count; i++) {
    const size_t entry_bytes = sizes[random() % sizes.size()];
    messages.push_back(testing::append_entries_message(i, 1 + i % 4, entry_bytes, uint8_t(i)));
    outcome.sent_digests.push_back(
        testing::read_every_field(*wire::GetMessage(messages.back().data())));
  }
  run_on_reactor([&](Shard& shard) -> Task<void> {
    const uint16_t port_a = free_port();
    const uint16_t port_b = free_port();
    Inbox inbox_a;
    Inbox inbox_b;
    auto a = Transport::create(shard, loopback_options(1, port_a, {loopback_peer(2, port_b)}),
                               inbox_a.handler())
                 .value();
    TransportOptions options_b = loopback_options(2, port_b, {loopback_peer(1, port_a)});
    options_b.recv_buffer_bytes = 4u << 10;
    options_b.direct_receive_bytes_min = direct_receive_bytes_min;
    auto b = Transport::create(shard, options_b, inbox_b.handler()).value();
    EXPECT_TRUE((co_await a->start()).ok());
    EXPECT_TRUE((co_await b->start()).ok());
    EXPECT_TRUE(co_await wait_until(shard, [&] { return a->writable(NodeId(2)); }));
    for (const auto& message : messages) {
      SendStatus status = a->send(NodeId(2), message);
      while (status == SendStatus::kFull) {
        EXPECT_TRUE(co_await wait_until(shard, [&] { return a->writable(NodeId(2)); }));
        status = a->send(NodeId(2), message);
      }
      EXPECT_EQ(status, SendStatus::kQueued);
    }
    EXPECT_TRUE(co_await wait_until(shard, [&] { return inbox_b.count() == messages.size(); }));
    for (const auto& received : inbox_b.messages()) {
      outcome.received_digests.push_back(received.digest);
    }
    outcome.frames = b->stats().frames;
    co_await a->stop();
    co_await b->stop();
  });
  return outcome;
}

TEST(TransportDirectReceive, MixedSizesArriveIntactAndInOrder) {
  const StreamOutcome outcome = stream_mixed_sizes(/*direct_receive_bytes_min=*/8u << 10, 300);
  EXPECT_EQ(outcome.received_digests, outcome.sent_digests);
  EXPECT_GT(outcome.frames.frames_received_direct, 0u) << "no frame took the direct path";
  EXPECT_GT(outcome.frames.bytes_received_direct, 0u);
  EXPECT_LE(outcome.frames.frames_received_direct, outcome.frames.frames_accepted);
}

TEST(TransportDirectReceive, OffReassemblesEveryFrameFromReceiveBuffers) {
  const StreamOutcome outcome = stream_mixed_sizes(/*direct_receive_bytes_min=*/0, 100);
  EXPECT_EQ(outcome.received_digests, outcome.sent_digests);
  EXPECT_EQ(outcome.frames.frames_received_direct, 0u);
  EXPECT_EQ(outcome.frames.bytes_received_direct, 0u);
}

// Stopping a transport while a connection waits inside a large frame's direct receive ends that
// receive: stop() returns.
TEST(TransportDirectReceive, StopEndsAReceiveInsideALargeFrame) {
  bool stopped = false;
  uint64_t direct_frames = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    const uint16_t port = free_port();
    TransportOptions options = loopback_options(2, port, {loopback_peer(1, free_port())});
    options.recv_buffer_count = 2;
    options.recv_buffer_bytes = 4u << 10;
    options.direct_receive_bytes_min = 8u << 10;
    auto transport = Transport::create(shard, options, Inbox().handler()).value();
    EXPECT_TRUE((co_await transport->start()).ok());
    // A raw node 1: a good handshake, then 20 KB of a 60 KB frame, and nothing more.
    FileDescriptor fd = tcp_socket().value();
    const sockaddr_in address = ipv4_address("127.0.0.1", port).value();
    EXPECT_TRUE(
        (co_await ops::connect(shard.io(), fd.get(), reinterpret_cast<const sockaddr*>(&address),
                               sizeof(address)))
            .ok());
    auto bytes = testing::frame_of(
        testing::handshake_message(testing::kClusterId, 1, 2, 0, kWireProtocolVersion));
    const auto large = testing::frame_of(testing::append_entries_message(1, 1, 60000, 7));
    bytes.insert(bytes.end(), large.begin(), large.begin() + 20000);
    EXPECT_TRUE((co_await ops::send_all(shard.io(), fd.get(), bytes)).ok());
    // MSG_WAITALL: the receive waits for the 40 KB that never come.
    EXPECT_TRUE(co_await wait_until(
        shard, [&] { return transport->stats().frames.frames_received_direct > 0; }));
    direct_frames = transport->stats().frames.frames_received_direct;
    co_await transport->stop();
    stopped = true;
  });
  EXPECT_TRUE(stopped);
  EXPECT_EQ(direct_frames, 1u);
}

}  // namespace
}  // namespace ringraft::net
