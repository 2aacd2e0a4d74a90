// Transports when peers fail: a peer that is down, a peer that restarts, a peer that never reads.
#include <gtest/gtest.h>

#include <map>
#include <memory>

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

TEST(TransportFaults, DownPeerIsRetriedWithBackoffNotABusyLoop) {
  constexpr uint64_t kAttempts = 8;
  PeerStats peer;
  uint64_t turns = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox inbox;
    TransportOptions options = loopback_options(1, free_port(), {loopback_peer(2, free_port())});
    options.reconnect_backoff_min_ms = 5;
    options.reconnect_backoff_max_ms = 40;
    auto transport = Transport::create(shard, options, inbox.handler()).value();
    const uint64_t turns_before = shard.stats().turns;
    EXPECT_TRUE((co_await transport->start()).ok());
    // Polls rarely, so the loop turns counted are the transport's own.
    EXPECT_TRUE(co_await wait_until(
        shard, [&] { return transport->stats().peer(NodeId(2))->connect_attempts >= kAttempts; },
        std::chrono::milliseconds(20000), std::chrono::milliseconds(20)));
    turns = shard.stats().turns - turns_before;
    peer = *transport->stats().peer(NodeId(2));
    co_await transport->stop();
  });
  EXPECT_GE(peer.connect_attempts, kAttempts);
  EXPECT_EQ(peer.connects, 0u);
  // Every refused connect waits a backoff: a handful of loop turns per attempt, not thousands.
  EXPECT_LE(turns, peer.connect_attempts * 10) << "turns " << turns;
  // After 7 failures the delay is capped: min(40, 5 * 2^6) = 40 ms, jittered into [20, 40].
  EXPECT_GE(peer.last_backoff_ms, 20u);
  EXPECT_LE(peer.last_backoff_ms, 40u);
}

TEST(TransportFaults, DialledPeerThatNeverAnswersTheHandshakeTimesOut) {
  // The listener exists but nobody accepts: the kernel completes the connect, no reply follows.
  FileDescriptor mute = listen_tcp(ipv4_address("127.0.0.1", 0).value()).value();
  const uint16_t mute_port = local_port(mute.get()).value();
  TransportStats stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox inbox;
    TransportOptions options = loopback_options(1, free_port(), {loopback_peer(2, mute_port)});
    options.handshake_timeout_ms = 50;
    auto transport = Transport::create(shard, options, inbox.handler()).value();
    EXPECT_TRUE((co_await transport->start()).ok());
    EXPECT_TRUE(co_await wait_until(
        shard, [&] { return transport->stats().closed(CloseReason::kHandshakeTimeout) >= 2; }));
    stats = transport->stats();
    co_await transport->stop();
  });
  EXPECT_GE(stats.closed(CloseReason::kHandshakeTimeout), 2u);
  EXPECT_EQ(stats.peer(NodeId(2))->connects, 0u);
  EXPECT_GE(stats.peer(NodeId(2))->connect_attempts, 2u);  // it keeps trying, with backoff
}

TEST(TransportFaults, DialledPeerOfAnotherClusterIsRefused) {
  FileDescriptor stranger = listen_tcp(ipv4_address("127.0.0.1", 0).value()).value();
  const uint16_t stranger_port = local_port(stranger.get()).value();
  TransportStats stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox inbox;
    auto transport = Transport::create(
                         shard, loopback_options(1, free_port(), {loopback_peer(2, stranger_port)}),
                         inbox.handler())
                         .value();
    EXPECT_TRUE((co_await transport->start()).ok());
    FileDescriptor answered = co_await testing::accept_and_answer_handshake(
        shard, stranger.get(), 2, 1, testing::kClusterId + 1);
    EXPECT_TRUE(answered.valid());
    EXPECT_TRUE(co_await wait_until(
        shard, [&] { return transport->stats().closed(CloseReason::kWrongCluster) == 1; }));
    stats = transport->stats();
    co_await transport->stop();
  });
  EXPECT_EQ(stats.closed(CloseReason::kWrongCluster), 1u);
  EXPECT_EQ(stats.peer(NodeId(2))->connects, 0u);
}

TEST(TransportFaults, PeerRestartIsReconnected) {
  const uint16_t port_a = free_port();
  const uint16_t port_b = free_port();
  PeerStats a_view;
  SendStatus while_down = SendStatus::kQueued;
  size_t delivered_after_restart = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox inbox_a;
    auto a = Transport::create(shard, loopback_options(1, port_a, {loopback_peer(2, port_b)}),
                               inbox_a.handler())
                 .value();
    EXPECT_TRUE((co_await a->start()).ok());
    const auto message = testing::append_entries_message(1, 1, 50, 2);
    {
      Inbox inbox_b;
      auto b = Transport::create(shard, loopback_options(2, port_b, {loopback_peer(1, port_a)}),
                                 inbox_b.handler())
                   .value();
      EXPECT_TRUE((co_await b->start()).ok());
      EXPECT_TRUE(co_await wait_until(shard, [&] { return a->writable(NodeId(2)); }));
      EXPECT_EQ(a->send(NodeId(2), message), SendStatus::kQueued);
      EXPECT_TRUE(co_await wait_until(shard, [&] { return inbox_b.count() == 1; }));
      co_await b->stop();
    }
    EXPECT_TRUE(
        co_await wait_until(shard, [&] { return a->stats().peer(NodeId(2))->disconnects == 1; }));
    while_down = a->send(NodeId(2), message);

    Inbox inbox_b;  // the restarted node 2, on the same port
    auto b = Transport::create(shard, loopback_options(2, port_b, {loopback_peer(1, port_a)}),
                               inbox_b.handler())
                 .value();
    EXPECT_TRUE((co_await b->start()).ok());
    EXPECT_TRUE(co_await wait_until(shard, [&] {
      return a->writable(NodeId(2)) && a->stats().peer(NodeId(2))->inbound_connects == 2;
    }));
    EXPECT_EQ(a->send(NodeId(2), message), SendStatus::kQueued);
    EXPECT_TRUE(co_await wait_until(shard, [&] { return inbox_b.count() == 1; }));
    delivered_after_restart = inbox_b.count();
    a_view = *a->stats().peer(NodeId(2));
    co_await b->stop();
    co_await a->stop();
  });
  EXPECT_EQ(while_down, SendStatus::kUnreachable);
  EXPECT_EQ(delivered_after_restart, 1u);
  EXPECT_EQ(a_view.connects, 2u);
  EXPECT_EQ(a_view.disconnects, 1u);
  EXPECT_GE(a_view.sends_unreachable, 1u);
}

// Node 1 talks to node 2, played by hand, which never reads, and to node 3, a real transport.
struct SlowReaderOutcome {
  PeerStats slow;
  size_t fast_delivered = 0;
  std::map<uint64_t, int> writable_calls;
};

Task<void> fill_slow_reader(Shard& shard, Transport& transport, Inbox& fast_inbox,
                            SlowReaderOutcome& outcome) {
  const auto message = testing::append_entries_message(1, 16, 16u << 10, 9);
  // Send until the output stays full: the kernel's socket buffers fill first, then ours.
  int full_in_a_row = 0;
  for (int i = 0; i < 20000 && full_in_a_row < 50; i++) {
    const SendStatus status = transport.send(NodeId(2), message);
    full_in_a_row = status == SendStatus::kFull ? full_in_a_row + 1 : 0;
    if (status == SendStatus::kUnreachable) break;
    co_await shard.yield();
  }
  EXPECT_EQ(full_in_a_row, 50) << "the slow reader never filled up";
  EXPECT_FALSE(transport.writable(NodeId(2)));
  // Node 3 is unaffected.
  flatbuffers::FlatBufferBuilder builder(128);
  begin_message(builder);
  finish_message(builder, 1, 3, wire::CreateTimeoutNow(builder, 1, 1));
  EXPECT_EQ(transport.send(NodeId(3), testing::builder_bytes(builder)), SendStatus::kQueued);
  EXPECT_TRUE(co_await wait_until(shard, [&] { return fast_inbox.count() == 1; }));
  outcome.fast_delivered = fast_inbox.count();
}

void run_slow_reader(bool drain_then_close, SlowReaderOutcome& outcome) {
  const uint16_t port_a = free_port();
  const uint16_t port_c = free_port();
  FileDescriptor slow_listener = listen_tcp(ipv4_address("127.0.0.1", 0).value()).value();
  const uint16_t port_b = local_port(slow_listener.get()).value();
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Inbox inbox_a;
    Inbox inbox_c;
    auto a = Transport::create(
                 shard,
                 loopback_options(1, port_a, {loopback_peer(2, port_b), loopback_peer(3, port_c)}),
                 inbox_a.handler())
                 .value();
    a->set_writable_handler([&](NodeId peer) { outcome.writable_calls[peer.value()]++; });
    auto c = Transport::create(shard, loopback_options(3, port_c, {loopback_peer(1, port_a)}),
                               inbox_c.handler())
                 .value();
    EXPECT_TRUE((co_await a->start()).ok());
    EXPECT_TRUE((co_await c->start()).ok());
    FileDescriptor slow =
        co_await testing::accept_and_answer_handshake(shard, slow_listener.get(), 2, 1);
    EXPECT_TRUE(slow.valid());
    EXPECT_TRUE(co_await wait_until(
        shard, [&] { return a->writable(NodeId(2)) && a->writable(NodeId(3)); }));
    co_await fill_slow_reader(shard, *a, inbox_c, outcome);
    if (drain_then_close) {
      // Node 2 reads everything: the output drains and node 1 hears it is writable again.
      std::vector<std::byte> sink(1u << 20);
      while (outcome.writable_calls[2] < 2) {
        const IoResult got =
            co_await ops::recv(shard.io(), slow.get(), sink).with_timeout(std::chrono::seconds(10));
        if (got.value <= 0) break;
      }
    }
    slow.reset();  // node 2 goes away with frames still queued to it (when it did not drain)
    EXPECT_TRUE(
        co_await wait_until(shard, [&] { return a->stats().peer(NodeId(2))->disconnects == 1; }));
    outcome.slow = *a->stats().peer(NodeId(2));
    co_await c->stop();
    co_await a->stop();
  });
}

TEST(TransportFaults, PeerThatNeverReadsGetsFullAndOthersCarryOn) {
  SlowReaderOutcome outcome;
  run_slow_reader(/*drain_then_close=*/false, outcome);
  EXPECT_GT(outcome.slow.sends_full, 0u);
  EXPECT_EQ(outcome.fast_delivered, 1u);
  // Queued and in-flight frames died with the connection, counted.
  EXPECT_GT(outcome.slow.frames_dropped, 0u);
  EXPECT_EQ(outcome.writable_calls[2], 1);  // on connect only: it never drained
}

TEST(TransportFaults, FullPeerThatDrainsIsReportedWritable) {
  SlowReaderOutcome outcome;
  run_slow_reader(/*drain_then_close=*/true, outcome);
  EXPECT_GT(outcome.slow.sends_full, 0u);
  EXPECT_EQ(outcome.fast_delivered, 1u);
  EXPECT_GE(outcome.writable_calls[2], 2);  // on connect, then when the full output drained
}

}  // namespace
}  // namespace ringraft::net
