// A transport facing hostile or broken peers: every kind of bad input closes that one connection
// with a counted reason, and the transport carries on serving good peers. Nothing crashes.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>

#include "common/crc32c.h"
#include "tests/net/transport_harness.h"
#include "tests/net/wire_samples.h"
#include "tests/reactor/test_reactor.h"

namespace ringraft::net {
namespace {

using ringraft::testing::run_on_reactor;
using testing::free_port;
using testing::handshake_message;
using testing::Inbox;
using testing::kClusterId;
using testing::loopback_options;
using testing::loopback_peer;
using testing::send_raw_and_expect_close;
using testing::wait_until;

constexpr uint64_t kUs = 2;
constexpr uint64_t kPeer = 1;  // the node the raw client pretends to be

std::vector<std::byte> header(uint32_t length_bytes, uint32_t crc) {
  std::vector<std::byte> bytes(kFrameHeaderBytes);
  std::memcpy(bytes.data(), &length_bytes, 4);
  std::memcpy(bytes.data() + 4, &crc, 4);
  return bytes;
}

std::vector<std::byte> concat(std::vector<std::byte> first, const std::vector<std::byte>& second) {
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

std::vector<std::byte> good_handshake_frame() {
  return testing::frame_of(handshake_message(kClusterId, kPeer, kUs, 0, kWireProtocolVersion));
}

// Runs a transport as node 2 (its peer, node 1, is not running), sends `bytes` from a raw client,
// and expects the connection closed with `reason` counted once. Then checks that a well-behaved
// node 1 still gets through. Returns the transport's stats. `adjust` changes node 2's options.
TransportStats expect_refused(std::vector<std::byte> bytes, CloseReason reason,
                              bool close_after_send, uint32_t handshake_timeout_ms = 2000,
                              const std::function<void(TransportOptions&)>& adjust = {}) {
  const uint16_t port = free_port();
  const uint16_t peer_port = free_port();
  bool closed = false;
  TransportStats stats;
  size_t delivered_after = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox inbox;
    TransportOptions options = loopback_options(kUs, port, {loopback_peer(kPeer, peer_port)});
    options.handshake_timeout_ms = handshake_timeout_ms;
    if (adjust) adjust(options);
    auto transport = Transport::create(shard, options, inbox.handler()).value();
    EXPECT_TRUE((co_await transport->start()).ok());
    closed = co_await send_raw_and_expect_close(shard, port, bytes, close_after_send);
    EXPECT_TRUE(co_await wait_until(shard, [&] { return transport->stats().closed(reason) > 0; }));

    // A real node 1 now connects and delivers a message.
    auto good =
        Transport::create(shard, loopback_options(kPeer, peer_port, {loopback_peer(kUs, port)}),
                          Inbox().handler())
            .value();
    EXPECT_TRUE((co_await good->start()).ok());
    const auto sample = testing::append_entries_message(1, 3, 100, 7);
    EXPECT_TRUE(co_await wait_until(shard, [&] {
      if (inbox.count() > 0) return true;
      (void)good->send(NodeId(kUs), sample);
      return false;
    }));
    delivered_after = inbox.count();
    stats = transport->stats();
    co_await good->stop();
    co_await transport->stop();
  });
  EXPECT_TRUE(closed) << "the transport left a bad connection open";
  EXPECT_EQ(stats.closed(reason), 1u) << close_reason_name(reason);
  EXPECT_GE(delivered_after, 1u) << "the transport stopped serving good peers";
  return stats;
}

TEST(TransportBadInput, GarbageClosesTheConnection) {
  std::vector<std::byte> garbage(300);
  for (size_t i = 0; i < garbage.size(); i++)
    garbage[i] = std::byte(static_cast<uint8_t>(i * 37 + 11));
  expect_refused(garbage, CloseReason::kBadFrame, false);
}

TEST(TransportBadInput, OversizedLengthClosesBeforeBuffering) {
  expect_refused(header(0xFFFFFFF0u, 0), CloseReason::kBadFrame, false);
}

TEST(TransportBadInput, BadCrcClosesTheConnection) {
  std::vector<std::byte> frame = good_handshake_frame();
  frame[5] ^= std::byte{0x40};
  expect_refused(frame, CloseReason::kBadFrame, false);
}

TEST(TransportBadInput, ValidCrcAroundAnInvalidFlatBufferIsRefused) {
  std::vector<std::byte> junk(64);
  for (size_t i = 0; i < junk.size(); i++) junk[i] = std::byte(static_cast<uint8_t>(0xA5 ^ i));
  std::memcpy(junk.data() + 4, "RRFT", 4);  // right identifier, nonsense offsets
  const auto frame = concat(header(static_cast<uint32_t>(junk.size()), crc32c(junk)), junk);
  expect_refused(frame, CloseReason::kBadFrame, false);
}

TEST(TransportBadInput, TruncatedFrameThenCloseIsCounted) {
  std::vector<std::byte> frame = good_handshake_frame();
  frame.resize(frame.size() - 5);
  expect_refused(frame, CloseReason::kBadFrame, true);
}

TEST(TransportBadInput, WrongClusterIdIsRefused) {
  expect_refused(
      testing::frame_of(handshake_message(kClusterId + 1, kPeer, kUs, 0, kWireProtocolVersion)),
      CloseReason::kWrongCluster, false);
}

TEST(TransportBadInput, UnknownNodeIsRefused) {
  expect_refused(testing::frame_of(handshake_message(kClusterId, 9, kUs, 0, kWireProtocolVersion)),
                 CloseReason::kUnknownNode, false);
}

TEST(TransportBadInput, WrongShardIsRefused) {
  expect_refused(
      testing::frame_of(handshake_message(kClusterId, kPeer, kUs, 3, kWireProtocolVersion)),
      CloseReason::kWrongShard, false);
}

TEST(TransportBadInput, WrongProtocolVersionIsRefused) {
  expect_refused(testing::frame_of(handshake_message(kClusterId, kPeer, kUs, 0, 99)),
                 CloseReason::kWrongVersion, false);
}

TEST(TransportBadInput, FirstFrameThatIsNotAHandshakeIsRefused) {
  expect_refused(testing::frame_of(testing::append_entries_message(1, 1, 10, 1)),
                 CloseReason::kNotHandshake, false);
}

TEST(TransportBadInput, SilentPeerTimesOut) {
  expect_refused({}, CloseReason::kHandshakeTimeout, false, /*handshake_timeout_ms=*/100);
}

TEST(TransportBadInput, MessageFromAnotherNodeAfterTheHandshakeIsRefused) {
  // The sample messages say from 1 to 2; this one claims to come from node 7.
  flatbuffers::FlatBufferBuilder builder(256);
  begin_message(builder);
  finish_message(builder, 7, kUs, wire::CreateTimeoutNow(builder, 1, 2));
  expect_refused(concat(good_handshake_frame(), testing::frame_of(testing::builder_bytes(builder))),
                 CloseReason::kWrongSender, false);
}

// The same checks when a large frame's body is received straight into the frame buffer. Two
// receive buffers of 4 KiB: at most 8 KiB of a frame can be received into them before the
// connection looks at what is missing, so the rest of a 40 KB frame always takes the direct
// path (from 8 KiB missing on).
constexpr uint32_t kLargeBodyBytes = 40000;

void small_ring_direct_receive(TransportOptions& options) {
  options.recv_buffer_count = 2;
  options.recv_buffer_bytes = 4u << 10;
  options.direct_receive_bytes_min = 8u << 10;
}

std::vector<std::byte> large_body() {
  std::vector<std::byte> body(kLargeBodyBytes);
  for (size_t i = 0; i < body.size(); i++) body[i] = std::byte(static_cast<uint8_t>(i * 13 + 5));
  return body;
}

TEST(TransportBadInput, LargeFrameWithBadCrcReceivedDirectlyIsRefused) {
  const std::vector<std::byte> body = large_body();
  const auto bytes =
      concat(good_handshake_frame(), concat(header(kLargeBodyBytes, crc32c(body) ^ 1u), body));
  const TransportStats stats =
      expect_refused(bytes, CloseReason::kBadFrame, false, 2000, small_ring_direct_receive);
  EXPECT_EQ(stats.frames.errors(FrameError::kBadCrc), 1u);
  EXPECT_GT(stats.frames.bytes_received_direct, 0u) << "the direct path was not taken";
}

TEST(TransportBadInput, LargeFrameCutShortByACloseIsTruncated) {
  std::vector<std::byte> body = large_body();
  const uint32_t crc = crc32c(body);
  body.resize(body.size() / 2);
  const auto bytes = concat(good_handshake_frame(), concat(header(kLargeBodyBytes, crc), body));
  const TransportStats stats =
      expect_refused(bytes, CloseReason::kBadFrame, true, 2000, small_ring_direct_receive);
  EXPECT_EQ(stats.frames.errors(FrameError::kTruncated), 1u);
  EXPECT_EQ(stats.frames.frames_received_direct, 1u) << "the direct path was not taken";
}

TEST(TransportBadInput, ValidCrcAroundALargeInvalidFlatBufferIsRefused) {
  std::vector<std::byte> body = large_body();
  std::memcpy(body.data() + 4, "RRFT", 4);  // right identifier, nonsense offsets
  const auto bytes =
      concat(good_handshake_frame(), concat(header(kLargeBodyBytes, crc32c(body)), body));
  const TransportStats stats =
      expect_refused(bytes, CloseReason::kBadFrame, false, 2000, small_ring_direct_receive);
  EXPECT_EQ(stats.frames.errors(FrameError::kInvalidFlatBuffer), 1u);
  EXPECT_EQ(stats.frames.frames_received_direct, 1u);
}

// A stranger announces a large first frame and goes silent inside it: the handshake deadline
// must end the direct receive too.
TEST(TransportBadInput, SilentPeerInsideALargeFrameTimesOut) {
  std::vector<std::byte> bytes = header(kLargeBodyBytes, 0);
  bytes.resize(bytes.size() + 100);
  expect_refused(bytes, CloseReason::kHandshakeTimeout, false, /*handshake_timeout_ms=*/100,
                 small_ring_direct_receive);
}

}  // namespace
}  // namespace ringraft::net
