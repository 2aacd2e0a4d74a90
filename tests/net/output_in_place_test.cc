// Messages built in place in a peer's output buffer (OutputBuffer::reserve_frame/commit_frame
// with an InPlaceBuilder): the bytes on the wire equal a copied frame's, gaps left by a
// generous bound become iovec segments or are closed, a message that outgrows its bound is
// copied, and short sends continue across segments.
#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "common/crc32c.h"
#include "net/frame.h"
#include "net/message_builder.h"
#include "net/output_buffer.h"
#include "tests/net/wire_samples.h"

namespace ringraft::net {
namespace {

using Frames = std::vector<std::vector<std::byte>>;

struct Built {
  std::vector<std::byte> flatbuffer;  // the same message built the ordinary way
  bool committed = false;
  bool outgrew = false;
};

// Builds an AppendEntries of `entries_bytes` in place with a bound of `bound_bytes`.
Built build_in_place(OutputBuffer& output, InPlaceBuilder& in_place, size_t entries_bytes,
                     size_t bound_bytes, uint8_t fill) {
  Built built;
  built.flatbuffer = testing::append_entries_message(9, 2, entries_bytes, fill);
  const ByteSpan region = output.reserve_frame(bound_bytes);
  if (region.empty()) return built;
  flatbuffers::FlatBufferBuilder& builder = in_place.start(region);
  testing::build_append_entries(builder, 9, 2, entries_bytes, fill);
  built.outgrew = in_place.outgrew();
  built.committed = output.commit_frame(in_place.finished());
  in_place.end();
  return built;
}

std::vector<std::byte> concatenated(std::span<const iovec> segments) {
  std::vector<std::byte> bytes;
  for (const iovec& segment : segments) {
    const auto* begin = static_cast<const std::byte*>(segment.iov_base);
    bytes.insert(bytes.end(), begin, begin + segment.iov_len);
  }
  return bytes;
}

Frames decoded(const std::vector<std::byte>& stream) {
  FrameCounters counters;
  FrameDecoder decoder(FrameLimits{.frame_bytes_max = 1u << 20}, &counters);
  Frames frames;
  EXPECT_TRUE(testing::feed_and_drain(decoder, stream, &frames));
  EXPECT_TRUE(decoder.finish().ok());
  return frames;
}

TEST(OutputInPlace, AMessageBuiltInPlaceGoesOutAsTheSameFrameAsACopy) {
  OutputBuffer output(64u << 10);
  InPlaceBuilder in_place;
  const Built built = build_in_place(output, in_place, 1000, 1000 + kMessageOverheadBytes, 0x21);
  ASSERT_TRUE(built.committed);
  EXPECT_FALSE(built.outgrew);
  EXPECT_EQ(output.pending_frames(), 1u);
  EXPECT_EQ(concatenated(output.begin_send()), testing::frame_of(built.flatbuffer));
  output.check_invariants();
}

TEST(OutputInPlace, ALargeFrameAfterAGapStartsASegmentAndASmallOneIsMovedOverIt) {
  OutputBuffer output(1u << 20);
  InPlaceBuilder in_place;
  const auto copied = testing::append_entries_message(1, 1, 40, 0x10);
  ASSERT_TRUE(output.try_append_frame(copied));
  // Bounds 4 KiB above the real size leave gaps before each header.
  const Built large = build_in_place(output, in_place, 20000, 24000, 0x31);
  const Built small = build_in_place(output, in_place, 100, 4100, 0x32);
  ASSERT_TRUE(large.committed && small.committed);
  const Built last = build_in_place(output, in_place, 30000, 34000, 0x33);
  ASSERT_TRUE(last.committed);
  const std::span<const iovec> segments = output.begin_send();
  EXPECT_EQ(segments.size(), 3u);  // copied; large + small (moved); last
  EXPECT_EQ(decoded(concatenated(segments)),
            (Frames{copied, large.flatbuffer, small.flatbuffer, last.flatbuffer}));
  output.check_invariants();
}

TEST(OutputInPlace, WhenSegmentsRunOutLargeFramesAreMovedOverTheirGaps) {
  OutputBuffer output(4u << 20);
  InPlaceBuilder in_place;
  Frames expected;
  for (int i = 0; i < 40; ++i) {
    const Built built = build_in_place(output, in_place, 8000, 9000, uint8_t(i));
    ASSERT_TRUE(built.committed) << i;
    expected.push_back(built.flatbuffer);
  }
  const std::span<const iovec> segments = output.begin_send();
  EXPECT_EQ(segments.size(), OutputBuffer::kSegmentsMax);
  EXPECT_EQ(decoded(concatenated(segments)), expected);
}

TEST(OutputInPlace, AMessageThatOutgrowsItsBoundIsCopiedOnce) {
  OutputBuffer output(64u << 10);
  InPlaceBuilder in_place;
  const Built built = build_in_place(output, in_place, 5000, 1024, 0x44);
  EXPECT_TRUE(built.outgrew);
  ASSERT_TRUE(built.committed);
  EXPECT_EQ(decoded(concatenated(output.begin_send())), Frames{built.flatbuffer});
}

TEST(OutputInPlace, ABoundThatDoesNotFitIsRefusedAndNothingIsQueued) {
  OutputBuffer output(8192);
  InPlaceBuilder in_place;
  const Built built = build_in_place(output, in_place, 100, 9000, 0x55);
  EXPECT_FALSE(built.committed);
  EXPECT_FALSE(output.reserved());
  EXPECT_EQ(output.pending_frames(), 0u);
  // The room is still there for what fits.
  EXPECT_TRUE(build_in_place(output, in_place, 100, 1000, 0x56).committed);
}

TEST(OutputInPlace, ShortSendsContinueAcrossSegments) {
  OutputBuffer output(1u << 20);
  InPlaceBuilder in_place;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(build_in_place(output, in_place, 20000, 26000, uint8_t(i)).committed);
  }
  const std::vector<std::byte> all = concatenated(output.begin_send());
  ASSERT_GT(output.unsent().size(), 1u);
  size_t sent = 0;
  for (size_t step : {7u, 20000u, 30000u, 1u}) {
    ASSERT_FALSE(output.advance_send(step));
    sent += step;
    EXPECT_EQ(concatenated(output.unsent()),
              std::vector<std::byte>(all.begin() + static_cast<ptrdiff_t>(sent), all.end()));
  }
  EXPECT_TRUE(output.advance_send(output.unsent_bytes()));
  EXPECT_FALSE(output.sending());
  output.check_invariants();
}

// An AppendEntries whose entry block is written into an uninitialised vector, as from a WAL
// block; returns the block's place and CRC (`crc_error` spoils it).
KnownCrcSpan build_with_known_block(flatbuffers::FlatBufferBuilder& builder,
                                    const std::vector<std::byte>& block, uint32_t crc_error = 0) {
  begin_message(builder);
  uint8_t* block_bytes = nullptr;
  const auto vector = builder.CreateUninitializedVector(block.size(), &block_bytes);
  std::memcpy(block_bytes, block.data(), block.size());
  const auto body = wire::CreateAppendEntries(builder, 1, 3, 1, 100, 3, 99, 7, vector);
  finish_message(builder, 1, 2, body);
  KnownCrcSpan known;
  known.data = reinterpret_cast<const std::byte*>(block_bytes);
  known.size_bytes = block.size();
  known.crc = crc32c(block) ^ crc_error;
  return known;
}

// Frames the message twice, with and without the block's known CRC, and returns both streams.
std::pair<std::vector<std::byte>, std::vector<std::byte>> frame_with_and_without_known_crc(
    size_t block_bytes, size_t bound_bytes, uint32_t crc_error = 0) {
  std::vector<std::byte> block(block_bytes);
  for (size_t i = 0; i < block.size(); i++) block[i] = std::byte(static_cast<uint8_t>(i * 31 + 7));
  std::vector<std::byte> streams[2];
  for (int with_known = 0; with_known < 2; with_known++) {
    OutputBuffer output(256u << 10);
    InPlaceBuilder in_place;
    // A small frame first, so the one under test does not start at the buffer's beginning.
    EXPECT_TRUE(output.try_append_frame(testing::append_entries_message(1, 1, 40, 1)));
    flatbuffers::FlatBufferBuilder& builder = in_place.start(output.reserve_frame(bound_bytes));
    const KnownCrcSpan known = build_with_known_block(builder, block, crc_error);
    EXPECT_FALSE(in_place.outgrew());
    EXPECT_TRUE(with_known == 1 ? output.commit_frame(in_place.finished(), known)
                                : output.commit_frame(in_place.finished()));
    in_place.end();
    streams[with_known] = concatenated(output.begin_send());
  }
  return {streams[0], streams[1]};
}

TEST(OutputInPlace, AKnownBlockCrcGivesTheSameFrameAsAFullPass) {
  // Moved over its gap (small), given its own segment (large), and with no gap at all.
  for (const auto& [block_bytes, bound_bytes] : std::vector<std::pair<size_t, size_t>>{
           {64, 4000}, {2000, 3000}, {50000, 60000}, {100000, 100000 + kMessageOverheadBytes}}) {
    const auto [full_pass, combined] = frame_with_and_without_known_crc(block_bytes, bound_bytes);
    EXPECT_EQ(combined, full_pass) << block_bytes << " bytes in a bound of " << bound_bytes;
    EXPECT_EQ(decoded(combined).size(), 2u);
  }
}

TEST(OutputInPlace, AWrongKnownCrcMakesTheReceiverRefuseTheFrame) {
  const auto [full_pass, combined] = frame_with_and_without_known_crc(5000, 6000, 0x100);
  FrameCounters counters;
  FrameDecoder decoder(FrameLimits{.frame_bytes_max = 1u << 20}, &counters);
  Frames frames;
  EXPECT_FALSE(testing::feed_and_drain(decoder, combined, &frames));
  EXPECT_EQ(frames.size(), 1u);  // the small frame before it
  EXPECT_EQ(decoder.failure(), FrameError::kBadCrc);
}

}  // namespace
}  // namespace ringraft::net
