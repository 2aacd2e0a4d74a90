// FrameDecoder::poll over received chunks: frames that lie whole in a chunk are verified where
// they lie (no copy), only frames that straddle chunks go through the decoder's buffer, and
// both paths refuse the same bad input.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "common/bytes.h"
#include "net/frame.h"
#include "tests/net/wire_samples.h"

namespace ringraft::net {
namespace {

using Frames = std::vector<std::vector<std::byte>>;

constexpr FrameLimits kLimits{.frame_bytes_max = 64u << 10};

struct Stream {
  std::vector<std::byte> bytes;
  Frames flatbuffers;
};

Stream stream_of(uint32_t frames, uint32_t entry_bytes) {
  Stream stream;
  for (uint32_t i = 0; i < frames; ++i) {
    stream.flatbuffers.push_back(
        testing::append_entries_message(i + 1, 1 + i % 3, entry_bytes, uint8_t(i)));
    const auto frame = testing::frame_of(stream.flatbuffers.back());
    stream.bytes.insert(stream.bytes.end(), frame.begin(), frame.end());
  }
  return stream;
}

// Delivers `stream` in chunks of `chunk_bytes`, each copied into an 8-byte aligned buffer as a
// provided receive buffer would be, and polls every frame out of each chunk.
bool poll_in_chunks(FrameDecoder& decoder, ConstByteSpan stream, size_t chunk_bytes,
                    Frames* frames) {
  AlignedBuffer chunk_buffer(chunk_bytes, kWireAlignBytes);
  while (!stream.empty()) {
    const size_t take_bytes = std::min(chunk_bytes, stream.size());
    std::memcpy(chunk_buffer.data(), stream.data(), take_bytes);
    stream = stream.subspan(take_bytes);
    ConstByteSpan unconsumed(chunk_buffer.data(), take_bytes);
    while (true) {
      auto frame = decoder.poll(&unconsumed);
      if (!frame.ok()) return false;
      if (!frame.value().has_value()) break;
      const ConstByteSpan bytes = frame.value()->flatbuffer;
      frames->emplace_back(bytes.begin(), bytes.end());
    }
    if (!unconsumed.empty()) return false;  // poll() returns nullopt only when it used it all
  }
  return decoder.finish().ok();
}

TEST(FrameInPlace, FramesWithinOneChunkAreNotCopied) {
  const Stream stream = stream_of(20, 300);
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  Frames frames;
  ASSERT_TRUE(poll_in_chunks(decoder, stream.bytes, stream.bytes.size(), &frames));
  EXPECT_EQ(frames, stream.flatbuffers);
  EXPECT_EQ(counters.frames_accepted, 20u);
  EXPECT_EQ(counters.frames_in_place, 20u);
}

TEST(FrameInPlace, OnlyFramesThatStraddleChunksAreCopied) {
  const Stream stream = stream_of(40, 200);
  const size_t frame_size = stream.bytes.size() / 40;  // equal sizes: same entry bytes
  ASSERT_EQ(frame_size * 40, stream.bytes.size());
  // Chunks of about 3.5 frames, a multiple of 8 bytes so frames stay aligned: every frame that
  // crosses a chunk's end straddles.
  const size_t chunk_bytes = frame_size * 7 / 2 / kWireAlignBytes * kWireAlignBytes;
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  Frames frames;
  ASSERT_TRUE(poll_in_chunks(decoder, stream.bytes, chunk_bytes, &frames));
  EXPECT_EQ(frames, stream.flatbuffers);
  uint64_t straddling = 0;
  for (size_t begin = 0; begin < stream.bytes.size(); begin += frame_size) {
    if (begin / chunk_bytes != (begin + frame_size - 1) / chunk_bytes) straddling++;
  }
  ASSERT_GT(straddling, 0u);
  EXPECT_EQ(counters.frames_in_place, 40u - straddling);
}

TEST(FrameInPlace, RandomChunkSizesYieldTheSameFramesAsTheCopyingDecoder) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 random(seed);
  Stream stream;
  for (const auto& sample : testing::one_of_each_message()) {
    const auto frame = testing::frame_of(sample.flatbuffer);
    stream.bytes.insert(stream.bytes.end(), frame.begin(), frame.end());
    stream.flatbuffers.push_back(sample.flatbuffer);
  }
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  for (int round = 0; round < 200; ++round) {
    decoder.reset();
    Frames frames;
    const size_t chunk_bytes = 1 + random() % 2000;  // odd sizes misalign what follows
    ASSERT_TRUE(poll_in_chunks(decoder, stream.bytes, chunk_bytes, &frames))
        << "chunk " << chunk_bytes;
    ASSERT_EQ(frames, stream.flatbuffers) << "chunk " << chunk_bytes;
    decoder.check_invariants();
  }
  EXPECT_GT(counters.frames_in_place, 0u);
  EXPECT_LT(counters.frames_in_place, counters.frames_accepted);
}

TEST(FrameInPlace, ABadCrcInsideAChunkFailsTheDecoder) {
  Stream stream = stream_of(3, 100);
  stream.bytes[stream.bytes.size() - 1] ^= std::byte{0x01};  // the last frame's body
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  Frames frames;
  EXPECT_FALSE(poll_in_chunks(decoder, stream.bytes, stream.bytes.size(), &frames));
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_EQ(decoder.failure(), FrameError::kBadCrc);
  EXPECT_EQ(counters.errors(FrameError::kBadCrc), 1u);
}

TEST(FrameInPlace, AnOversizedLengthIsRefusedBeforeItsBodyArrives) {
  std::vector<std::byte> header(kFrameHeaderBytes + 16);
  const uint32_t length_bytes = kLimits.frame_bytes_max + 1;
  std::memcpy(header.data(), &length_bytes, sizeof(length_bytes));
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  Frames frames;
  EXPECT_FALSE(poll_in_chunks(decoder, header, header.size(), &frames));
  EXPECT_EQ(decoder.failure(), FrameError::kTooLarge);
}

}  // namespace
}  // namespace ringraft::net
