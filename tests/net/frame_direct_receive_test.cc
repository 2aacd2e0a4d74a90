// FrameDecoder::receive_space / commit_received: the rest of a large frame written straight into
// the decoder's buffer (as Connection's direct receive does) is checked exactly like fed bytes,
// and the space never reaches past the frame being assembled.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "common/bytes.h"
#include "common/crc32c.h"
#include "net/frame.h"
#include "tests/net/wire_samples.h"

namespace ringraft::net {
namespace {

FrameLimits limits_of(uint32_t frame_bytes_max) {
  FrameLimits limits;
  limits.frame_bytes_max = frame_bytes_max;
  return limits;
}

// Writes `bytes` into the decoder's receive space in pieces of random size, as a recv that
// returns short would.
void receive_in_pieces(FrameDecoder& decoder, ConstByteSpan bytes, std::mt19937_64& random) {
  while (!bytes.empty()) {
    const ByteSpan space = decoder.receive_space();
    ASSERT_GE(space.size(), bytes.size()) << "the space must cover the rest of the frame";
    const size_t piece = std::uniform_int_distribution<size_t>(1, bytes.size())(random);
    std::memcpy(space.data(), bytes.data(), piece);
    decoder.commit_received(piece);
    bytes = bytes.subspan(piece);
  }
}

TEST(FrameDirectReceive, BodyReceivedIntoTheSpaceDecodesLikeFedBytes) {
  std::mt19937_64 random(testing::test_seed());
  FrameCounters counters;
  FrameDecoder decoder(limits_of(256u << 10), &counters);
  // Two large frames back to back, then a small one fed the usual way.
  for (uint8_t fill = 1; fill <= 2; fill++) {
    const auto flatbuffer = testing::append_entries_message(fill, 3, 100000 + fill * 8, fill);
    const auto frame = testing::frame_of(flatbuffer);
    const size_t fed_bytes = std::uniform_int_distribution<size_t>(8, 5000)(random);
    ASSERT_EQ(decoder.feed(ConstByteSpan(frame).first(fed_bytes)), fed_bytes);
    EXPECT_EQ(decoder.receive_space().size(), frame.size() - fed_bytes);
    receive_in_pieces(decoder, ConstByteSpan(frame).subspan(fed_bytes), random);
    EXPECT_TRUE(decoder.receive_space().empty());
    auto decoded = decoder.next();
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    ASSERT_TRUE(decoded.value().has_value());
    EXPECT_EQ(testing::read_every_field(*decoded.value()->message),
              testing::read_every_field(*wire::GetMessage(flatbuffer.data())));
  }
  const auto small = testing::frame_of(testing::append_entries_message(9, 1, 10, 9));
  std::vector<std::vector<std::byte>> frames;
  EXPECT_TRUE(testing::feed_and_drain(decoder, small, &frames));
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_EQ(counters.frames_accepted, 3u);
}

TEST(FrameDirectReceive, TheSpaceIsTheHeaderFirstThenTheBodyItAnnounces) {
  FrameCounters counters;
  FrameDecoder decoder(limits_of(64u << 10), &counters);
  const auto frame = testing::frame_of(testing::append_entries_message(1, 1, 30000, 1));
  EXPECT_EQ(decoder.receive_space().size(), kFrameHeaderBytes);
  ASSERT_EQ(decoder.feed(ConstByteSpan(frame).first(5)), 5u);
  ASSERT_EQ(decoder.receive_space().size(), 3u);
  // The header's rest received directly, then the body: no byte beyond the frame is asked for.
  std::memcpy(decoder.receive_space().data(), frame.data() + 5, 3);
  decoder.commit_received(3);
  ASSERT_EQ(decoder.receive_space().size(), frame.size() - kFrameHeaderBytes);
  std::memcpy(decoder.receive_space().data(), frame.data() + kFrameHeaderBytes,
              frame.size() - kFrameHeaderBytes);
  decoder.commit_received(frame.size() - kFrameHeaderBytes);
  EXPECT_TRUE(decoder.receive_space().empty());
  auto decoded = decoder.next();
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_TRUE(decoded.value().has_value());
  EXPECT_EQ(decoder.receive_space().size(), kFrameHeaderBytes) << "then the next header";
}

TEST(FrameDirectReceive, AnOversizedLengthGetsNoSpaceAndIsRefused) {
  FrameCounters counters;
  FrameDecoder decoder(limits_of(64u << 10), &counters);
  std::vector<std::byte> header(kFrameHeaderBytes);
  const uint32_t length_bytes = (64u << 10) + 8;
  std::memcpy(header.data(), &length_bytes, sizeof(length_bytes));
  ASSERT_EQ(decoder.feed(header), header.size());
  EXPECT_TRUE(decoder.receive_space().empty());
  EXPECT_FALSE(decoder.next().ok());
  EXPECT_EQ(decoder.failure(), FrameError::kTooLarge);
  EXPECT_TRUE(decoder.receive_space().empty()) << "a failed decoder offers no space";
}

TEST(FrameDirectReceive, ACorruptByteReceivedDirectlyFailsTheCrc) {
  std::mt19937_64 random(testing::test_seed());
  FrameCounters counters;
  FrameDecoder decoder(limits_of(256u << 10), &counters);
  auto frame = testing::frame_of(testing::append_entries_message(1, 2, 150000, 4));
  const size_t corrupt_at =
      std::uniform_int_distribution<size_t>(kFrameHeaderBytes + 100, frame.size() - 1)(random);
  frame[corrupt_at] ^= std::byte{0x10};
  ASSERT_EQ(decoder.feed(ConstByteSpan(frame).first(100)), 100u);
  receive_in_pieces(decoder, ConstByteSpan(frame).subspan(100), random);
  EXPECT_FALSE(decoder.next().ok());
  EXPECT_EQ(decoder.failure(), FrameError::kBadCrc);
  EXPECT_EQ(counters.errors(FrameError::kBadCrc), 1u);
}

TEST(FrameDirectReceive, AFrameCutShortAfterADirectReceiveIsTruncated) {
  FrameCounters counters;
  FrameDecoder decoder(limits_of(64u << 10), &counters);
  const auto frame = testing::frame_of(testing::append_entries_message(1, 1, 30000, 1));
  ASSERT_EQ(decoder.feed(ConstByteSpan(frame).first(20)), 20u);
  std::memcpy(decoder.receive_space().data(), frame.data() + 20, 1000);
  decoder.commit_received(1000);
  auto next = decoder.next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next.value().has_value());
  EXPECT_FALSE(decoder.finish().ok());
  EXPECT_EQ(decoder.failure(), FrameError::kTruncated);
}

}  // namespace
}  // namespace ringraft::net
