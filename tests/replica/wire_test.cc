// The wire mapping: every message type survives encode -> verify -> decode; multi-term Appends
// split per term run; heartbeats of many groups share one FlatBuffer; bad blocks are refused.
#include "raft/replica/wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raft/core/core.h"

namespace ringraft::replica {
namespace {

using raft::MessageType;

// Copies every FlatBuffer the encoder produces.
class CapturingSink final : public WireSink {
 public:
  void on_encoded(NodeId to, ConstByteSpan message_flatbuffer) override {
    EXPECT_EQ(to, NodeId(2));
    buffers.emplace_back(message_flatbuffer.begin(), message_flatbuffer.end());
  }
  std::vector<std::vector<std::byte>> buffers;
};

raft::Message message(MessageType type) {
  raft::Message m;
  m.type = type;
  m.from = NodeId(1);
  m.to = NodeId(2);
  m.term = Term(7);
  return m;
}

raft::Entry entry(uint64_t term, uint64_t index, const std::string& text) {
  raft::Payload payload(text.size());
  for (size_t i = 0; i < text.size(); ++i) payload[i] = std::byte(text[i]);
  return raft::Entry{Term(term), LogIndex(index), payload};
}

// Encodes `messages` (group 5 unless set), decodes every FlatBuffer back.
std::vector<GroupMessage> round_trip(const std::vector<GroupMessage>& messages,
                                     size_t* flatbuffers = nullptr) {
  WireEncoder encoder;
  CapturingSink sink;
  encoder.encode(NodeId(1), NodeId(2), messages, sink);
  if (flatbuffers != nullptr) *flatbuffers = sink.buffers.size();
  WireDecoder decoder;
  std::vector<GroupMessage> out;
  for (const auto& buffer : sink.buffers) {
    const wire::Message* decoded = verify_wire_message(buffer);
    EXPECT_NE(decoded, nullptr);
    if (decoded == nullptr) continue;
    Result<void> result = decoder.decode(*decoded, out);
    EXPECT_TRUE(result.ok()) << result.error().message();
  }
  return out;
}

void expect_same(const raft::Message& a, const raft::Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.log_index, b.log_index);
  EXPECT_EQ(a.log_term, b.log_term);
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.reject, b.reject);
  EXPECT_EQ(a.reject_hint_index, b.reject_hint_index);
  EXPECT_EQ(a.reject_hint_term, b.reject_hint_term);
}

TEST(Wire, EveryMessageTypeRoundTrips) {
  std::vector<GroupMessage> messages;
  for (MessageType type : {MessageType::kPreVoteRequest, MessageType::kVoteRequest}) {
    raft::Message m = message(type);
    m.log_index = LogIndex(41);
    m.log_term = Term(6);
    messages.push_back(GroupMessage{GroupId(5), m});
  }
  for (MessageType type : {MessageType::kPreVoteResponse, MessageType::kVoteResponse}) {
    for (bool reject : {false, true}) {
      raft::Message m = message(type);
      m.reject = reject;
      messages.push_back(GroupMessage{GroupId(5), m});
    }
  }
  raft::Message append = message(MessageType::kAppend);
  append.log_index = LogIndex(10);
  append.log_term = Term(6);
  append.commit = LogIndex(9);
  append.entries = {entry(7, 11, "alpha"), entry(7, 12, ""), entry(7, 13, "gamma!")};
  messages.push_back(GroupMessage{GroupId(5), append});
  raft::Message empty_append = message(MessageType::kAppend);
  empty_append.log_index = LogIndex(13);
  empty_append.log_term = Term(7);
  empty_append.commit = LogIndex(13);
  messages.push_back(GroupMessage{GroupId(5), empty_append});
  raft::Message accepted = message(MessageType::kAppendResponse);
  accepted.log_index = LogIndex(13);
  messages.push_back(GroupMessage{GroupId(5), accepted});
  raft::Message rejected = message(MessageType::kAppendResponse);
  rejected.reject = true;
  rejected.log_index = LogIndex(20);
  rejected.reject_hint_index = LogIndex(15);
  rejected.reject_hint_term = Term(4);
  messages.push_back(GroupMessage{GroupId(5), rejected});
  raft::Message heartbeat = message(MessageType::kHeartbeat);
  heartbeat.commit = LogIndex(12);
  messages.push_back(GroupMessage{GroupId(5), heartbeat});
  messages.push_back(GroupMessage{GroupId(5), message(MessageType::kHeartbeatResponse)});

  const std::vector<GroupMessage> decoded = round_trip(messages);
  ASSERT_EQ(decoded.size(), messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE(raft::message_type_name(messages[i].message.type));
    EXPECT_EQ(decoded[i].group, GroupId(5));
    expect_same(decoded[i].message, messages[i].message);
  }
}

TEST(Wire, AppendSpanningThreeTermsTravelsAsThreeChainedBlocks) {
  raft::Message append = message(MessageType::kAppend);
  append.log_index = LogIndex(4);
  append.log_term = Term(1);
  append.commit = LogIndex(3);
  append.entries = {entry(2, 5, "a"),    entry(2, 6, "bb"), entry(3, 7, "ccc"),
                    entry(5, 8, "dddd"), entry(5, 9, ""),   entry(5, 10, "f")};
  size_t flatbuffers = 0;
  const std::vector<GroupMessage> decoded =
      round_trip({GroupMessage{GroupId(9), append}}, &flatbuffers);
  EXPECT_EQ(flatbuffers, 3u);
  ASSERT_EQ(decoded.size(), 3u);
  // Each run starts after the previous run's last entry; together they are the whole Append.
  EXPECT_EQ(decoded[0].message.log_index, LogIndex(4));
  EXPECT_EQ(decoded[0].message.log_term, Term(1));
  EXPECT_EQ(decoded[1].message.log_index, LogIndex(6));
  EXPECT_EQ(decoded[1].message.log_term, Term(2));
  EXPECT_EQ(decoded[2].message.log_index, LogIndex(7));
  EXPECT_EQ(decoded[2].message.log_term, Term(3));
  std::vector<raft::Entry> joined;
  for (const GroupMessage& m : decoded) {
    EXPECT_EQ(m.message.commit, LogIndex(3));
    EXPECT_EQ(m.message.term, Term(7));
    joined.insert(joined.end(), m.message.entries.begin(), m.message.entries.end());
  }
  EXPECT_EQ(joined, append.entries);
}

TEST(Wire, HeartbeatsOfManyGroupsShareOneMessage) {
  std::vector<GroupMessage> messages;
  for (uint64_t group = 1; group <= 8; ++group) {
    raft::Message heartbeat = message(MessageType::kHeartbeat);
    heartbeat.commit = LogIndex(group * 10);
    messages.push_back(GroupMessage{GroupId(group), heartbeat});
    if (group % 2 == 0) {
      messages.push_back(GroupMessage{GroupId(group), message(MessageType::kHeartbeatResponse)});
    }
  }
  raft::Message vote = message(MessageType::kVoteRequest);
  messages.push_back(GroupMessage{GroupId(3), vote});
  size_t flatbuffers = 0;
  const std::vector<GroupMessage> decoded = round_trip(messages, &flatbuffers);
  EXPECT_EQ(flatbuffers, 3u);  // the vote, one Heartbeat, one HeartbeatResponse
  ASSERT_EQ(decoded.size(), 13u);
  EXPECT_EQ(decoded[0].message.type, MessageType::kVoteRequest);
  for (uint64_t group = 1; group <= 8; ++group) {
    EXPECT_EQ(decoded[group].group, GroupId(group));
    EXPECT_EQ(decoded[group].message.type, MessageType::kHeartbeat);
    EXPECT_EQ(decoded[group].message.commit, LogIndex(group * 10));
  }
  for (size_t i = 9; i < 13; ++i) {
    EXPECT_EQ(decoded[i].message.type, MessageType::kHeartbeatResponse);
    EXPECT_EQ(decoded[i].group, GroupId((i - 8) * 2));
  }
}

// A hand-built AppendEntries whose block does not match its lengths or count.
std::vector<std::byte> bad_append(uint32_t count, std::vector<uint8_t> block, uint64_t term) {
  flatbuffers::FlatBufferBuilder builder;
  net::begin_message(builder);
  const auto entries = builder.CreateVector(block);
  net::finish_message(builder, 1, 2,
                      wire::CreateAppendEntries(builder, 5, 7, 1, 3, 7, 3, count, entries, term));
  const auto* at = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return std::vector<std::byte>(at, at + builder.GetSize());
}

TEST(Wire, EntryBlocksThatDoNotAddUpAreRefusedAndCounted) {
  WireDecoder decoder;
  std::vector<GroupMessage> out;
  const std::vector<std::vector<std::byte>> bad = {
      bad_append(2, {1, 0, 0, 0}, 7),                 // shorter than its lengths
      bad_append(1, {3, 0, 0, 0, 'a', 'b'}, 7),       // payload short of its length
      bad_append(1, {1, 0, 0, 0, 'a', 'b'}, 7),       // bytes left over
      bad_append(1, {1, 0, 0, 0, 'a'}, 0),            // entries of term 0
      bad_append(0xffffffffu, {1, 0, 0, 0, 'a'}, 7),  // a count no block can hold
  };
  for (const auto& buffer : bad) {
    const wire::Message* decoded = verify_wire_message(buffer);
    ASSERT_NE(decoded, nullptr);
    Result<void> result = decoder.decode(*decoded, out);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput);
  }
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(decoder.stats().invalid_messages, bad.size());
  const auto good = bad_append(1, {1, 0, 0, 0, 'a'}, 7);
  ASSERT_TRUE(decoder.decode(*verify_wire_message(good), out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(Wire, ValuesOnlyTheCoreCanJudgeComeBackFromStepAsInvalidInput) {
  raft::Config config;
  config.id = NodeId(2);
  config.voters = {NodeId(1), NodeId(2), NodeId(3)};
  Result<raft::Core> core = raft::Core::create(config);
  ASSERT_TRUE(core.ok());
  // Entries of term 9 in an Append of term 7: the schema allows it, Raft does not.
  const auto buffer = bad_append(1, {1, 0, 0, 0, 'a'}, 9);
  WireDecoder decoder;
  std::vector<GroupMessage> out;
  ASSERT_TRUE(decoder.decode(*verify_wire_message(buffer), out).ok());
  ASSERT_EQ(out.size(), 1u);
  Result<void> stepped = core.value().step(std::move(out[0].message));
  ASSERT_FALSE(stepped.ok());
  EXPECT_EQ(stepped.error().code(), ErrorCode::kInvalidInput);
}

TEST(Wire, GarbageDoesNotVerify) {
  std::vector<std::byte> garbage(64, std::byte{0x5a});
  EXPECT_EQ(verify_wire_message(garbage), nullptr);
  EXPECT_EQ(verify_wire_message({}), nullptr);
}

}  // namespace
}  // namespace ringraft::replica
