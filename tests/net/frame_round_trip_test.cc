// Every wire message survives build -> frame -> decode -> verify with its fields intact, and
// the encoder respects the bound of the buffer it writes into.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <set>
#include <vector>

#include "common/crc32c.h"
#include "net/frame.h"
#include "net/wire.h"
#include "tests/net/wire_samples.h"

namespace ringraft::net {
namespace {

using testing::frame_of;
using testing::one_of_each_message;

// Decodes the single frame around `flatbuffer` with a fresh decoder; fails the test otherwise.
class OneFrame {
 public:
  explicit OneFrame(const std::vector<std::byte>& flatbuffer)
      : frame_(frame_of(flatbuffer)),
        decoder_(FrameLimits{.frame_bytes_max = 1u << 20}, &counters_) {
    EXPECT_EQ(decoder_.feed(frame_), frame_.size());
    auto result = decoder_.next();
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
    if (result.ok() && result.value().has_value()) decoded_ = *result.value();
  }
  const wire::Message& message() const {
    RR_ASSERT(decoded_.message != nullptr);
    return *decoded_.message;
  }
  const DecodedFrame& decoded() const { return decoded_; }
  OneFrame(const OneFrame&) = delete;
  OneFrame& operator=(const OneFrame&) = delete;

 private:
  std::vector<std::byte> frame_;
  FrameCounters counters_;
  FrameDecoder decoder_;
  DecodedFrame decoded_;
};

TEST(FrameRoundTrip, EveryBodyTypeDecodesToTheBytesThatWereFramed) {
  std::set<wire::Body> seen;
  for (const auto& sample : one_of_each_message()) {
    OneFrame one(sample.flatbuffer);
    ASSERT_NE(one.decoded().message, nullptr) << wire::EnumNameBody(sample.body_type);
    EXPECT_EQ(one.message().body_type(), sample.body_type);
    EXPECT_EQ(one.message().from(), 1u);
    EXPECT_EQ(one.message().to(), 2u);
    const std::vector<std::byte> decoded(one.decoded().flatbuffer.begin(),
                                         one.decoded().flatbuffer.end());
    EXPECT_EQ(decoded, sample.flatbuffer) << wire::EnumNameBody(sample.body_type);
    seen.insert(sample.body_type);
  }
  // The samples cover the whole union, so a new member without a sample fails here.
  EXPECT_EQ(seen.size(), static_cast<size_t>(wire::Body::MAX));
}

TEST(FrameRoundTrip, AppendEntriesCarriesTheEntryBlockByteForByte) {
  OneFrame one(testing::append_entries_message(/*group=*/9, /*entry_count=*/1000,
                                               /*entries_bytes=*/100'000, 0x5A));
  const wire::AppendEntries* append = one.message().body_as_AppendEntries();
  ASSERT_NE(append, nullptr);
  EXPECT_EQ(append->group(), 9u);
  EXPECT_EQ(append->term(), 7u);
  EXPECT_EQ(append->leader(), 1u);
  EXPECT_EQ(append->prev_log_index(), 41u);
  EXPECT_EQ(append->prev_log_term(), 6u);
  EXPECT_EQ(append->commit(), 40u);
  EXPECT_EQ(append->entry_count(), 1000u);
  ASSERT_EQ(append->entries()->size(), 100'000u);
  for (uint8_t byte : *append->entries()) ASSERT_EQ(byte, 0x5A);
}

const wire::Message& message_of(const std::vector<testing::SampleMessage>& samples, wire::Body type,
                                std::deque<OneFrame>* keep) {
  for (const auto& sample : samples) {
    if (sample.body_type == type) return keep->emplace_back(sample.flatbuffer).message();
  }
  RR_UNREACHABLE("no sample of that type");
}

TEST(FrameRoundTrip, EachMessageKeepsItsFields) {
  const auto samples = one_of_each_message();
  std::deque<OneFrame> keep;  // a deque never moves its elements: decoded pointers stay valid

  const auto* handshake = message_of(samples, wire::Body::Handshake, &keep).body_as_Handshake();
  EXPECT_EQ(handshake->cluster_id(), 0xC1u);
  EXPECT_EQ(handshake->node_id(), 1u);
  EXPECT_EQ(handshake->shard(), 1u);
  EXPECT_EQ(handshake->protocol_version(), 1u);

  const auto* response =
      message_of(samples, wire::Body::AppendResponse, &keep).body_as_AppendResponse();
  EXPECT_EQ(response->group(), 5u);
  EXPECT_EQ(response->term(), 7u);
  EXPECT_TRUE(response->reject());
  EXPECT_EQ(response->match_index(), 30u);
  EXPECT_EQ(response->hint_index(), 35u);
  EXPECT_EQ(response->hint_term(), 4u);

  const auto* vote = message_of(samples, wire::Body::VoteRequest, &keep).body_as_VoteRequest();
  EXPECT_EQ(vote->group(), 5u);
  EXPECT_EQ(vote->term(), 8u);
  EXPECT_EQ(vote->candidate(), 1u);
  EXPECT_EQ(vote->last_log_index(), 44u);
  EXPECT_EQ(vote->last_log_term(), 7u);
  EXPECT_TRUE(vote->pre_vote());
  EXPECT_TRUE(vote->transfer());

  const auto* granted = message_of(samples, wire::Body::VoteResponse, &keep).body_as_VoteResponse();
  EXPECT_EQ(granted->term(), 8u);
  EXPECT_TRUE(granted->granted());
  EXPECT_TRUE(granted->pre_vote());

  const auto* heartbeat = message_of(samples, wire::Body::Heartbeat, &keep).body_as_Heartbeat();
  ASSERT_EQ(heartbeat->groups()->size(), 50u);
  for (uint32_t i = 0; i < 50; ++i) {
    const auto* group = heartbeat->groups()->Get(i);
    EXPECT_EQ(group->group(), i + 1u);
    EXPECT_EQ(group->term(), 101u + i);
    EXPECT_EQ(group->commit(), 1001u + i);
    EXPECT_EQ(group->context(), 2001u + i);
  }

  const auto* heartbeat_response =
      message_of(samples, wire::Body::HeartbeatResponse, &keep).body_as_HeartbeatResponse();
  ASSERT_EQ(heartbeat_response->groups()->size(), 50u);
  EXPECT_EQ(heartbeat_response->groups()->Get(49)->group(), 50u);
  EXPECT_EQ(heartbeat_response->groups()->Get(49)->term(), 150u);
  EXPECT_EQ(heartbeat_response->groups()->Get(49)->context(), 2050u);

  const auto* timeout = message_of(samples, wire::Body::TimeoutNow, &keep).body_as_TimeoutNow();
  EXPECT_EQ(timeout->group(), 5u);
  EXPECT_EQ(timeout->term(), 9u);

  const auto* snapshot =
      message_of(samples, wire::Body::InstallSnapshot, &keep).body_as_InstallSnapshot();
  EXPECT_EQ(snapshot->snapshot_index(), 500u);
  EXPECT_EQ(snapshot->snapshot_term(), 8u);
  EXPECT_EQ(snapshot->offset_bytes(), 4096u);
  EXPECT_TRUE(snapshot->done());
  ASSERT_EQ(snapshot->data()->size(), 300u);
  EXPECT_EQ(snapshot->data()->Get(299), static_cast<uint8_t>(3 + 299));
  EXPECT_EQ(snapshot->size_bytes(), 4396u);
  ASSERT_EQ(snapshot->voters()->size(), 3u);
  EXPECT_EQ(snapshot->voters()->Get(2), 3u);
  ASSERT_EQ(snapshot->learners()->size(), 1u);
  EXPECT_EQ(snapshot->learners()->Get(0), 4u);

  const auto* snapshot_response =
      message_of(samples, wire::Body::SnapshotResponse, &keep).body_as_SnapshotResponse();
  EXPECT_EQ(snapshot_response->snapshot_index(), 500u);
  EXPECT_EQ(snapshot_response->next_offset_bytes(), 4396u);
  EXPECT_TRUE(snapshot_response->reject());

  const auto* read_request =
      message_of(samples, wire::Body::ReadIndexRequest, &keep).body_as_ReadIndexRequest();
  ASSERT_EQ(read_request->context()->size(), 16u);
  EXPECT_EQ(read_request->context()->Get(15), 0x1Fu);

  const auto* read_response =
      message_of(samples, wire::Body::ReadIndexResponse, &keep).body_as_ReadIndexResponse();
  EXPECT_EQ(read_response->read_index(), 77u);
  EXPECT_FALSE(read_response->reject());
  ASSERT_EQ(read_response->context()->size(), 16u);
  EXPECT_EQ(read_response->context()->Get(0), 0x10u);
}

TEST(FrameEncoder, WritesLengthAndCrcLittleEndianBeforeTheFlatBuffer) {
  const auto flatbuffer = testing::append_entries_message(1, 1, 10, 0x01);
  const auto frame = frame_of(flatbuffer);
  ASSERT_EQ(frame.size(), 8 + flatbuffer.size());
  uint32_t length = 0;
  std::memcpy(&length, frame.data(), 4);
  EXPECT_EQ(length, flatbuffer.size());
  uint32_t crc = 0;
  std::memcpy(&crc, frame.data() + 4, 4);
  EXPECT_EQ(crc, crc32c(flatbuffer));
  EXPECT_TRUE(std::equal(flatbuffer.begin(), flatbuffer.end(), frame.begin() + 8));
}

TEST(FrameEncoder, WritesNothingIntoABufferThatIsTooSmall) {
  const auto flatbuffer = testing::append_entries_message(1, 1, 10, 0x01);
  std::vector<std::byte> out(frame_bytes(flatbuffer.size()) - 1, std::byte{0xEE});
  EXPECT_EQ(encode_frame(flatbuffer, out), 0u);
  for (std::byte byte : out) ASSERT_EQ(byte, std::byte{0xEE});
}

TEST(FrameEncoder, FinishedMessagesAreAMultipleOfEightBytes) {
  // A message whose fields are all defaults stores no 8-byte scalar; begin_message() still
  // pads it so the next frame in the stream stays aligned.
  flatbuffers::FlatBufferBuilder builder(64);
  begin_message(builder);
  finish_message(builder, 0, 0, wire::CreateTimeoutNow(builder, 0, 0));
  EXPECT_EQ(builder.GetSize() % kWireAlignBytes, 0u);
  for (const auto& sample : one_of_each_message()) {
    EXPECT_EQ(sample.flatbuffer.size() % kWireAlignBytes, 0u);
  }
}

}  // namespace
}  // namespace ringraft::net
