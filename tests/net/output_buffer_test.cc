// The per-peer output buffer (bounds, the swap into flight, short sends, drops) and the checks
// on TransportOptions.
#include "net/output_buffer.h"

#include <gtest/gtest.h>

#include <functional>

#include "net/transport_options.h"
#include "tests/net/wire_samples.h"

namespace ringraft::net {
namespace {

TEST(OutputBuffer, RefusesAFrameThatDoesNotFitAndKeepsWhatFits) {
  const auto message = testing::append_entries_message(1, 1, 100, 1);
  const size_t frame_size = frame_bytes(message.size());
  OutputBuffer output(frame_size * 3 + 7);
  EXPECT_TRUE(output.try_append_frame(message));
  EXPECT_TRUE(output.try_append_frame(message));
  EXPECT_TRUE(output.try_append_frame(message));
  EXPECT_FALSE(output.try_append_frame(message));
  EXPECT_EQ(output.pending_frames(), 3u);
  EXPECT_EQ(output.pending_bytes(), frame_size * 3);
  output.check_invariants();
}

TEST(OutputBuffer, SendSwapsPendingIntoFlightAndFreesPending) {
  const auto message = testing::append_entries_message(1, 1, 100, 1);
  const size_t frame_size = frame_bytes(message.size());
  OutputBuffer output(frame_size * 2);
  ASSERT_TRUE(output.try_append_frame(message));
  ASSERT_TRUE(output.try_append_frame(message));
  const std::span<const iovec> sending = output.begin_send();
  ASSERT_EQ(sending.size(), 1u);  // copied frames are one contiguous run
  EXPECT_EQ(sending[0].iov_len, frame_size * 2);
  const auto* sent = static_cast<const std::byte*>(sending[0].iov_base);
  EXPECT_EQ(testing::frame_of(message), std::vector<std::byte>(sent, sent + frame_size));
  EXPECT_TRUE(output.sending());
  EXPECT_EQ(output.pending_bytes(), 0u);
  // New frames queue behind the send in flight, up to the bound again.
  EXPECT_TRUE(output.try_append_frame(message));
  EXPECT_TRUE(output.try_append_frame(message));
  EXPECT_FALSE(output.try_append_frame(message));
  // A short send leaves the rest to send.
  EXPECT_FALSE(output.advance_send(10));
  EXPECT_EQ(output.unsent_bytes(), frame_size * 2 - 10);
  EXPECT_EQ(output.unsent()[0].iov_len, frame_size * 2 - 10);
  EXPECT_TRUE(output.advance_send(frame_size * 2 - 10));
  EXPECT_FALSE(output.sending());
  EXPECT_EQ(output.drop_all(), 2u);  // the two pending ones
  EXPECT_EQ(output.pending_bytes(), 0u);
  output.check_invariants();
}

TEST(OutputBuffer, DropAllCountsPendingAndInFlightFrames) {
  const auto message = testing::append_entries_message(1, 1, 10, 1);
  OutputBuffer output(4096);
  ASSERT_TRUE(output.try_append_frame(message));
  (void)output.begin_send();
  ASSERT_TRUE(output.try_append_frame(message));
  ASSERT_TRUE(output.try_append_frame(message));
  EXPECT_EQ(output.drop_all(), 3u);
  EXPECT_FALSE(output.sending());
}

TransportOptions valid_options() {
  TransportOptions options;
  options.node = NodeId(1);
  options.limits.frame_bytes_max = 1024;
  options.peer_output_bytes_max = 4096;
  PeerAddress peer;
  peer.node = NodeId(2);
  peer.host = "127.0.0.1";
  peer.port = 9000;
  options.peers.push_back(peer);
  return options;
}

TEST(TransportOptions, AcceptsASaneConfiguration) {
  EXPECT_TRUE(valid_options().validate().ok());
}

TEST(TransportOptions, RefusesEachInvalidSetting) {
  std::vector<std::function<void(TransportOptions&)>> breakers = {
      [](TransportOptions& o) { o.node = NodeId(0); },
      [](TransportOptions& o) { o.listen_host = "example.org"; },
      [](TransportOptions& o) { o.peer_output_bytes_max = 1000; },  // below one frame
      [](TransportOptions& o) { o.reconnect_backoff_min_ms = 0; },
      [](TransportOptions& o) { o.reconnect_backoff_max_ms = 1; },
      [](TransportOptions& o) { o.handshake_timeout_ms = 0; },
      [](TransportOptions& o) { o.recv_buffer_count = 48; },
      [](TransportOptions& o) { o.inbound_connections_max = 0; },
      [](TransportOptions& o) { o.peers.push_back(o.peers.front()); },  // listed twice
      [](TransportOptions& o) { o.peers.front().node = NodeId(1); },    // ourselves
      [](TransportOptions& o) { o.peers.front().port = 0; },
  };
  for (size_t i = 0; i < breakers.size(); i++) {
    TransportOptions options = valid_options();
    breakers[i](options);
    EXPECT_FALSE(options.validate().ok()) << "breaker " << i;
  }
}

}  // namespace
}  // namespace ringraft::net
