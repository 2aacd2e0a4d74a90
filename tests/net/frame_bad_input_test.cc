// Untrusted bytes never crash the decoder: each kind of bad input fails the stream with the
// right reason, counted once, and a truncated frame is only an error when the stream ends.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "common/crc32c.h"
#include "net/frame.h"
#include "tests/net/wire_samples.h"

namespace ringraft::net {
namespace {

using Frames = std::vector<std::vector<std::byte>>;
using testing::feed_and_drain;

constexpr FrameLimits kLimits{.frame_bytes_max = 64u << 10};

std::vector<std::byte> header(uint32_t length_bytes, uint32_t crc) {
  std::vector<std::byte> bytes(8);
  std::memcpy(bytes.data(), &length_bytes, 4);
  std::memcpy(bytes.data() + 4, &crc, 4);
  return bytes;
}

// A frame with a correct CRC around whatever `flatbuffer` holds.
std::vector<std::byte> frame_with_valid_crc(const std::vector<std::byte>& flatbuffer) {
  // Sized once and filled with memcpy: GCC 12's -Warray-bounds misfires on vector::insert here.
  std::vector<std::byte> bytes(8 + flatbuffer.size());
  const uint32_t length_bytes = static_cast<uint32_t>(flatbuffer.size());
  const uint32_t crc = crc32c(flatbuffer);
  std::memcpy(bytes.data(), &length_bytes, 4);
  std::memcpy(bytes.data() + 4, &crc, 4);
  if (!flatbuffer.empty()) std::memcpy(bytes.data() + 8, flatbuffer.data(), flatbuffer.size());
  return bytes;
}

class BadInput : public ::testing::Test {
 protected:
  // Feeds `bytes` and returns the reason the decoder failed with (fails the test if it did not).
  FrameError failure_of(const std::vector<std::byte>& bytes) {
    Frames frames;
    EXPECT_FALSE(feed_and_drain(decoder_, bytes, &frames));
    EXPECT_TRUE(decoder_.failure().has_value());
    decoder_.check_invariants();
    return decoder_.failure().value_or(FrameError::kTruncated);
  }

  FrameCounters counters_;
  FrameDecoder decoder_{kLimits, &counters_};
};

TEST_F(BadInput, GarbageFailsTheStream) {
  const char text[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
  std::vector<std::byte> bytes(sizeof(text));
  std::memcpy(bytes.data(), text, sizeof(text));
  EXPECT_EQ(failure_of(bytes), FrameError::kTooLarge);  // "GET " read as a length
  EXPECT_EQ(counters_.errors(FrameError::kTooLarge), 1u);
}

TEST_F(BadInput, ATruncatedFrameWaitsForMoreBytesAndFailsOnlyWhenTheStreamEnds) {
  const auto frame = testing::frame_of(testing::append_entries_message(1, 1, 64, 1));
  for (size_t cut : {size_t{3}, size_t{8}, frame.size() - 1}) {
    decoder_.reset();
    Frames frames;
    ASSERT_TRUE(feed_and_drain(decoder_, ConstByteSpan(frame).first(cut), &frames));
    EXPECT_TRUE(frames.empty());
    EXPECT_FALSE(decoder_.failure().has_value());
    const Result<void> end = decoder_.finish();
    ASSERT_FALSE(end.ok());
    EXPECT_EQ(decoder_.failure(), FrameError::kTruncated) << "cut at " << cut;
    EXPECT_NE(end.error().message().find("truncated"), std::string::npos);
  }
  EXPECT_EQ(counters_.errors(FrameError::kTruncated), 3u);
}

TEST_F(BadInput, AnOversizedLengthFailsAsSoonAsTheHeaderArrives) {
  // Only the header is sent: the decoder must not wait for (or buffer) the announced body.
  EXPECT_EQ(failure_of(header(kLimits.frame_bytes_max + 1, 0)), FrameError::kTooLarge);
  decoder_.reset();
  EXPECT_EQ(failure_of(header(UINT32_MAX, 0)), FrameError::kTooLarge);
  EXPECT_EQ(counters_.errors(FrameError::kTooLarge), 2u);
}

TEST_F(BadInput, ALengthAtTheLimitIsAccepted) {
  const auto flatbuffer = testing::append_entries_message(1, 1, 100, 1);
  FrameDecoder small(FrameLimits{.frame_bytes_max = static_cast<uint32_t>(flatbuffer.size())},
                     &counters_);
  Frames frames;
  EXPECT_TRUE(feed_and_drain(small, testing::frame_of(flatbuffer), &frames));
  EXPECT_EQ(frames.size(), 1u);
}

TEST_F(BadInput, AFlippedBitFailsTheCrc) {
  auto frame = testing::frame_of(testing::append_entries_message(1, 1, 64, 1));
  frame[frame.size() - 20] ^= std::byte{0x04};
  EXPECT_EQ(failure_of(frame), FrameError::kBadCrc);
  EXPECT_EQ(counters_.errors(FrameError::kBadCrc), 1u);
}

TEST_F(BadInput, AValidCrcAroundAnInvalidFlatBufferFailsVerification) {
  auto flatbuffer = testing::append_entries_message(1, 1, 64, 1);
  const uint32_t root_offset = 0x00FFFFF0;  // far outside the buffer; identifier kept
  std::memcpy(flatbuffer.data(), &root_offset, 4);
  EXPECT_EQ(failure_of(frame_with_valid_crc(flatbuffer)), FrameError::kInvalidFlatBuffer);
  EXPECT_EQ(counters_.errors(FrameError::kInvalidFlatBuffer), 1u);
}

TEST_F(BadInput, AVectorLengthPastTheEndFailsVerification) {
  auto flatbuffer = testing::append_entries_message(1, 1, 64, 0xCD);
  // The entries vector is stored as u32 length 64 followed by the 64 bytes of 0xCD.
  size_t length_at = 0;
  for (size_t i = 0; i + 4 < flatbuffer.size(); ++i) {
    uint32_t value = 0;
    std::memcpy(&value, flatbuffer.data() + i, 4);
    if (value == 64 && flatbuffer[i + 4] == std::byte{0xCD}) length_at = i;
  }
  ASSERT_NE(length_at, 0u);
  const uint32_t huge = 0x10000000;
  std::memcpy(flatbuffer.data() + length_at, &huge, 4);
  EXPECT_EQ(failure_of(frame_with_valid_crc(flatbuffer)), FrameError::kInvalidFlatBuffer);
}

TEST_F(BadInput, AnotherRootTypeIsRefused) {
  // A bare Handshake (the schema's other root) has no "RRFT" identifier.
  flatbuffers::FlatBufferBuilder builder(64);
  builder.Finish(wire::CreateHandshake(builder, 1, 2, 3, 4));
  EXPECT_EQ(failure_of(frame_with_valid_crc(testing::builder_bytes(builder))),
            FrameError::kWrongRoot);
  decoder_.reset();
  EXPECT_EQ(failure_of(frame_with_valid_crc(std::vector<std::byte>(4))), FrameError::kWrongRoot);
  EXPECT_EQ(counters_.errors(FrameError::kWrongRoot), 2u);
}

std::vector<std::byte> message_with_body(wire::Body claimed_type, bool with_body) {
  flatbuffers::FlatBufferBuilder builder(256);
  begin_message(builder);
  const auto body = wire::CreateAppendEntries(builder, /*group=*/0x7FFFFFF0, 1, 1, 1, 1, 1, 0);
  wire::FinishMessageBuffer(
      builder, wire::CreateMessage(builder, 1, 2, claimed_type, with_body ? body.Union() : 0));
  return testing::builder_bytes(builder);
}

TEST_F(BadInput, ABodyThatIsNotTheTypeItClaimsFailsVerification) {
  // An AppendEntries table read as a Heartbeat: its group field becomes an offset past the end.
  EXPECT_EQ(failure_of(frame_with_valid_crc(message_with_body(wire::Body::Heartbeat, true))),
            FrameError::kInvalidFlatBuffer);
}

TEST_F(BadInput, AnUnknownOrMissingBodyIsRefused) {
  EXPECT_EQ(failure_of(frame_with_valid_crc(message_with_body(wire::Body(200), true))),
            FrameError::kUnknownBody);
  decoder_.reset();
  EXPECT_EQ(failure_of(frame_with_valid_crc(message_with_body(wire::Body::NONE, false))),
            FrameError::kUnknownBody);
  decoder_.reset();
  EXPECT_EQ(failure_of(frame_with_valid_crc(message_with_body(wire::Body::TimeoutNow, false))),
            FrameError::kUnknownBody);
  EXPECT_EQ(counters_.errors(FrameError::kUnknownBody), 3u);
}

TEST_F(BadInput, TooManyTablesFailVerification) {
  FrameDecoder strict(FrameLimits{.frame_bytes_max = 64u << 10, .verifier_tables_max = 10},
                      &counters_);
  const auto samples = testing::one_of_each_message();
  for (const auto& sample : samples) {
    if (sample.body_type != wire::Body::Heartbeat) continue;  // 50 groups, 52 tables
    Frames frames;
    EXPECT_FALSE(feed_and_drain(strict, testing::frame_of(sample.flatbuffer), &frames));
    EXPECT_EQ(strict.failure(), FrameError::kInvalidFlatBuffer);
  }
}

TEST_F(BadInput, AFailedStreamStaysFailedAndIsCountedOnce) {
  auto bad = testing::frame_of(testing::append_entries_message(1, 1, 64, 1));
  bad[10] ^= std::byte{1};
  const auto good = testing::frame_of(testing::append_entries_message(2, 1, 64, 1));
  Frames frames;
  EXPECT_TRUE(feed_and_drain(decoder_, good, &frames));
  EXPECT_FALSE(feed_and_drain(decoder_, bad, &frames));
  EXPECT_FALSE(feed_and_drain(decoder_, good, &frames));
  EXPECT_EQ(decoder_.feed(good), good.size());  // swallowed, not buffered
  EXPECT_EQ(decoder_.buffered_bytes(), 0u);
  EXPECT_FALSE(decoder_.next().ok());
  EXPECT_FALSE(decoder_.finish().ok());
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_EQ(counters_.errors(FrameError::kBadCrc), 1u);
  EXPECT_EQ(counters_.frames_accepted, 1u);

  decoder_.reset();  // a new connection
  EXPECT_TRUE(feed_and_drain(decoder_, good, &frames));
  EXPECT_EQ(frames.size(), 2u);
}

// Random bytes, random frames with a valid CRC around random or mutated FlatBuffers: every
// outcome is frames or a clean failure, and every accepted frame can be read in full.
TEST(BadInputRandom, RandomAndMutatedStreamsNeverCrash) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 random(seed);
  const auto samples = testing::one_of_each_message();
  FrameCounters counters;
  FrameDecoder decoder(kLimits, &counters);
  uint64_t failures = 0;
  constexpr int kIterations = 3000;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    std::vector<std::byte> flatbuffer;
    if (iteration % 3 == 0) {
      flatbuffer.resize(random() % 512);
      for (auto& byte : flatbuffer) byte = std::byte(random());
    } else {
      flatbuffer = samples[random() % samples.size()].flatbuffer;
      for (uint64_t flips = 1 + random() % 4; flips > 0; --flips) {
        flatbuffer[random() % flatbuffer.size()] = std::byte(random());
      }
    }
    std::vector<std::byte> bytes = iteration % 5 == 0 ? flatbuffer  // no header at all
                                                      : frame_with_valid_crc(flatbuffer);
    decoder.reset();
    Frames frames;
    const bool ok = feed_and_drain(decoder, bytes, &frames) && decoder.finish().ok();
    failures += ok ? 0 : 1;
    decoder.check_invariants();
    for (const auto& frame : frames) {
      flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
      ASSERT_TRUE(wire::VerifyMessageBuffer(verifier));
      testing::read_every_field(*wire::GetMessage(frame.data()));
    }
  }
  uint64_t counted = 0;
  for (uint64_t count : counters.errors_by_reason) counted += count;
  EXPECT_EQ(counted, failures);
  EXPECT_GT(failures, 0u);
  std::printf("%llu of %d streams refused, %llu frames accepted\n",
              static_cast<unsigned long long>(failures), kIterations,
              static_cast<unsigned long long>(counters.frames_accepted));
}

}  // namespace
}  // namespace ringraft::net
