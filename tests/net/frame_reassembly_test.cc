// The decoder reassembles frames from chunks split anywhere (as TCP delivers them), applies
// back-pressure when a chunk does not fit, and realigns FlatBuffers that arrive misaligned.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "net/frame.h"
#include "tests/net/wire_samples.h"

namespace ringraft::net {
namespace {

using Frames = std::vector<std::vector<std::byte>>;
using testing::feed_and_drain;

struct Stream {
  std::vector<std::byte> bytes;
  Frames flatbuffers;  // what the decoder must yield, in order
};

Stream stream_of_every_message() {
  Stream stream;
  for (const auto& sample : testing::one_of_each_message()) {
    const auto frame = testing::frame_of(sample.flatbuffer);
    stream.bytes.insert(stream.bytes.end(), frame.begin(), frame.end());
    stream.flatbuffers.push_back(sample.flatbuffer);
  }
  return stream;
}

constexpr FrameLimits kLimits{.frame_bytes_max = 64u << 10};

TEST(FrameReassembly, EverySplitPointOfAMultiFrameStreamYieldsTheSameFrames) {
  const Stream stream = stream_of_every_message();
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  const ConstByteSpan all(stream.bytes);
  for (size_t split = 0; split <= all.size(); ++split) {
    decoder.reset();
    Frames frames;
    ASSERT_TRUE(feed_and_drain(decoder, all.first(split), &frames)) << "split " << split;
    ASSERT_TRUE(feed_and_drain(decoder, all.subspan(split), &frames)) << "split " << split;
    ASSERT_EQ(frames, stream.flatbuffers) << "split " << split;
    ASSERT_TRUE(decoder.finish().ok());
    decoder.check_invariants();
  }
  EXPECT_EQ(counters.frames_accepted, (all.size() + 1) * stream.flatbuffers.size());
}

TEST(FrameReassembly, OneByteAtATime) {
  const Stream stream = stream_of_every_message();
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  Frames frames;
  for (std::byte byte : stream.bytes) {
    ASSERT_TRUE(feed_and_drain(decoder, ConstByteSpan(&byte, 1), &frames));
  }
  EXPECT_EQ(frames, stream.flatbuffers);
  EXPECT_TRUE(decoder.finish().ok());
}

TEST(FrameReassembly, RandomChunkSizesOverManyStreams) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 random(seed);
  const Stream stream = stream_of_every_message();
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  for (int round = 0; round < 200; ++round) {
    decoder.reset();
    Frames frames;
    ConstByteSpan rest(stream.bytes);
    while (!rest.empty()) {
      const size_t chunk_bytes = std::min<size_t>(rest.size(), 1 + random() % 700);
      ASSERT_TRUE(feed_and_drain(decoder, rest.first(chunk_bytes), &frames));
      rest = rest.subspan(chunk_bytes);
    }
    ASSERT_EQ(frames, stream.flatbuffers) << "round " << round;
  }
}

TEST(FrameReassembly, FeedTakesNoMoreThanTheFrameBeingAssembled) {
  // 40 frames of ~1 KiB through a decoder whose whole buffer holds one 4 KiB frame.
  std::vector<std::byte> bytes;
  Frames expected;
  for (uint64_t group = 1; group <= 40; ++group) {
    expected.push_back(testing::append_entries_message(group, 1, 1000, uint8_t(group)));
    const auto frame = testing::frame_of(expected.back());
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
  FrameCounters counters;
  FrameDecoder decoder(FrameLimits{.frame_bytes_max = 4096}, &counters);
  ASSERT_LT(decoder.capacity_bytes(), bytes.size());
  const size_t first_take = decoder.feed(bytes);
  EXPECT_EQ(first_take, frame_bytes(expected.front().size()));
  EXPECT_EQ(decoder.feed(ConstByteSpan(bytes).subspan(first_take)), 0u);  // a frame waits
  Frames frames;
  ASSERT_TRUE(feed_and_drain(decoder, ConstByteSpan(bytes).subspan(first_take), &frames));
  EXPECT_EQ(frames, expected);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameReassembly, AMisalignedFlatBufferIsMovedToAnAlignedPlaceBeforeVerification) {
  // A peer's FlatBuffer need not be a multiple of 8 bytes (trailing bytes are legal), so the
  // frame after it starts misaligned in the decoder's buffer.
  auto odd = testing::append_entries_message(2, 1, 16, 0x66);
  odd.resize(odd.size() + 4);
  ASSERT_EQ(odd.size() % 8, 4u);
  const auto normal = testing::append_entries_message(3, 2, 24, 0x77);
  std::vector<std::byte> bytes = testing::frame_of(odd);
  const auto second = testing::frame_of(normal);
  bytes.insert(bytes.end(), second.begin(), second.end());

  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  Frames frames;
  ASSERT_TRUE(feed_and_drain(decoder, bytes, &frames));
  EXPECT_EQ(frames, (Frames{odd, normal}));
}

}  // namespace
}  // namespace ringraft::net
