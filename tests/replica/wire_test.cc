// The wire mapping: every message type survives encode -> verify -> decode; multi-term Appends
// split per term run; heartbeats of many groups share one FlatBuffer, each group keeping its
// round; snapshot chunks carry their bytes; bad blocks, chunks and contexts are refused.
#include "raft/replica/wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/frame.h"
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
  EXPECT_EQ(a.snapshot_offset, b.snapshot_offset);
  EXPECT_EQ(a.snapshot_size_bytes, b.snapshot_size_bytes);
  EXPECT_EQ(a.snapshot_chunk_bytes, b.snapshot_chunk_bytes);
  EXPECT_EQ(a.snapshot_data, b.snapshot_data);
  EXPECT_EQ(a.snapshot_voters, b.snapshot_voters);
  EXPECT_EQ(a.snapshot_learners, b.snapshot_learners);
  EXPECT_EQ(a.context, b.context);
  EXPECT_EQ(a.transfer, b.transfer);
}

raft::Payload bytes_of(const std::string& text) {
  raft::Payload payload(text.size());
  for (size_t i = 0; i < text.size(); ++i) payload[i] = std::byte(text[i]);
  return payload;
}

// A kSnapshot chunk [offset, offset + data) of a `size_bytes` snapshot at (500, 6), as the
// leader's caller hands it to the encoder: bytes filled in.
raft::Message snapshot_chunk(uint64_t offset, uint64_t size_bytes, const std::string& data) {
  raft::Message m = message(MessageType::kSnapshot);
  m.log_index = LogIndex(500);
  m.log_term = Term(6);
  m.snapshot_offset = offset;
  m.snapshot_size_bytes = size_bytes;
  m.snapshot_chunk_bytes = data.size();
  m.snapshot_data = bytes_of(data);
  m.snapshot_voters = {NodeId(1), NodeId(2), NodeId(3)};
  m.snapshot_learners = {NodeId(4)};
  return m;
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
  raft::Message transfer_vote = message(MessageType::kVoteRequest);
  transfer_vote.log_index = LogIndex(41);
  transfer_vote.log_term = Term(6);
  transfer_vote.transfer = true;
  messages.push_back(GroupMessage{GroupId(5), transfer_vote});
  messages.push_back(GroupMessage{GroupId(5), message(MessageType::kTimeoutNow)});
  raft::Message read = message(MessageType::kReadIndex);
  read.context = 0x0102030405060708u;
  messages.push_back(GroupMessage{GroupId(5), read});
  raft::Message read_answer = message(MessageType::kReadIndexResponse);
  read_answer.log_index = LogIndex(33);
  read_answer.context = UINT64_MAX;
  messages.push_back(GroupMessage{GroupId(5), read_answer});
  messages.push_back(GroupMessage{GroupId(5), snapshot_chunk(0, 10, "0123")});
  for (bool reject : {false, true}) {
    raft::Message answer = message(MessageType::kSnapshotResponse);
    answer.log_index = LogIndex(500);
    answer.log_term = Term(6);
    answer.snapshot_offset = 4;
    answer.reject = reject;
    messages.push_back(GroupMessage{GroupId(5), answer});
  }
  // Coalesced heartbeats come last, in this order.
  raft::Message heartbeat = message(MessageType::kHeartbeat);
  heartbeat.commit = LogIndex(12);
  heartbeat.context = 77;
  messages.push_back(GroupMessage{GroupId(5), heartbeat});
  raft::Message heartbeat_response = message(MessageType::kHeartbeatResponse);
  heartbeat_response.context = 76;
  messages.push_back(GroupMessage{GroupId(5), heartbeat_response});

  const std::vector<GroupMessage> decoded = round_trip(messages);
  ASSERT_EQ(decoded.size(), messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE(raft::message_type_name(messages[i].message.type));
    EXPECT_EQ(decoded[i].group, GroupId(5));
    expect_same(decoded[i].message, messages[i].message);
  }
  std::vector<bool> covered(static_cast<size_t>(MessageType::kTimeoutNow) + 1, false);
  for (const GroupMessage& m : decoded) covered[static_cast<size_t>(m.message.type)] = true;
  for (size_t type = 0; type < covered.size(); ++type) {
    EXPECT_TRUE(covered[type]) << raft::message_type_name(static_cast<MessageType>(type))
                               << " not covered";
  }
}

TEST(Wire, SnapshotChunksCarryTheirBytesAndTheLastOneIsDone) {
  const std::vector<GroupMessage> messages = {
      GroupMessage{GroupId(4), snapshot_chunk(0, 7, "abcd")},
      GroupMessage{GroupId(4), snapshot_chunk(4, 7, "efg")},
      // An empty snapshot's only chunk: no bytes, offset 0, done at once.
      GroupMessage{GroupId(4), snapshot_chunk(0, 0, "")},
  };
  WireEncoder encoder;
  CapturingSink sink;
  encoder.encode(NodeId(1), NodeId(2), messages, sink);
  ASSERT_EQ(sink.buffers.size(), 3u);
  const std::vector<bool> done = {false, true, true};
  WireDecoder decoder;
  std::vector<GroupMessage> out;
  for (size_t i = 0; i < 3; ++i) {
    const wire::Message* decoded = verify_wire_message(sink.buffers[i]);
    ASSERT_NE(decoded, nullptr);
    ASSERT_EQ(decoded->body_type(), wire::Body::InstallSnapshot);
    EXPECT_EQ(decoded->body_as_InstallSnapshot()->done(), done[i]);
    ASSERT_TRUE(decoder.decode(*decoded, out).ok());
  }
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) expect_same(out[i].message, messages[i].message);
  EXPECT_TRUE(out[2].message.snapshot_data.empty());
}

// What the TCP transport does with each encoded message: frame it and pass it through its frame
// decoder (CRC, Verifier, alignment checks), not only through verify_wire_message.
TEST(Wire, SnapshotChunksPassTheTransportsFrameDecoder) {
  std::vector<GroupMessage> messages = {
      GroupMessage{GroupId(4), snapshot_chunk(0, 9, "abcd")},
      GroupMessage{GroupId(4), snapshot_chunk(4, 9, "efghi")},
      GroupMessage{GroupId(4), snapshot_chunk(0, 100000, std::string(100000, 'x'))},
      GroupMessage{GroupId(4), snapshot_chunk(0, 9, "abcdefghi")},
  };
  // A cluster without learners sends an empty learners vector: nothing in it to misalign.
  messages.back().message.snapshot_learners.clear();
  WireEncoder encoder;
  CapturingSink sink;
  encoder.encode(NodeId(1), NodeId(2), messages, sink);
  ASSERT_EQ(sink.buffers.size(), messages.size());
  net::FrameCounters counters;
  net::FrameDecoder frames(net::FrameLimits{}, &counters);
  for (const std::vector<std::byte>& flatbuffer : sink.buffers) {
    std::vector<std::byte> frame(net::frame_bytes(flatbuffer.size()));
    ASSERT_EQ(net::encode_frame(flatbuffer, frame), frame.size());
    ConstByteSpan rest(frame);
    while (!rest.empty()) rest = rest.subspan(frames.feed(rest));
    Result<std::optional<net::DecodedFrame>> decoded = frames.next();
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    ASSERT_TRUE(decoded.value().has_value());
  }
  EXPECT_EQ(counters.frames_accepted, messages.size());
}

TEST(Wire, SnapshotChunkWithoutItsBytesIsDroppedNotSentShort) {
  // The core names 4 bytes; the caller had none to fill in (ready.h item 6).
  raft::Message unfilled = snapshot_chunk(0, 10, "0123");
  unfilled.snapshot_data.clear();
  WireEncoder encoder;
  CapturingSink sink;
  encoder.encode(
      NodeId(1), NodeId(2),
      std::vector<GroupMessage>{GroupMessage{GroupId(4), unfilled},
                                GroupMessage{GroupId(4), message(MessageType::kTimeoutNow)}},
      sink);
  ASSERT_EQ(sink.buffers.size(), 1u);
  EXPECT_EQ(verify_wire_message(sink.buffers[0])->body_type(), wire::Body::TimeoutNow);
  EXPECT_EQ(encoder.stats().snapshot_chunks_unfilled, 1u);
}

std::vector<std::byte> finished(flatbuffers::FlatBufferBuilder& builder) {
  const auto* at = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return std::vector<std::byte>(at, at + builder.GetSize());
}

std::vector<std::byte> bad_snapshot(uint64_t offset, uint64_t size_bytes, size_t data_bytes,
                                    bool done, std::vector<uint64_t> voters) {
  flatbuffers::FlatBufferBuilder builder;
  net::begin_message(builder);
  const auto data = builder.CreateVector(std::vector<uint8_t>(data_bytes, 0x42));
  const auto voter_ids = builder.CreateVector(voters);
  net::finish_message(builder, 1, 2,
                      wire::CreateInstallSnapshot(builder, 5, 7, 500, 6, offset, data, done,
                                                  size_bytes, voter_ids));
  return finished(builder);
}

std::vector<std::byte> read_request_with_context(size_t context_bytes) {
  flatbuffers::FlatBufferBuilder builder;
  net::begin_message(builder);
  const auto context = builder.CreateVector(std::vector<uint8_t>(context_bytes, 1));
  net::finish_message(builder, 1, 2, wire::CreateReadIndexRequest(builder, 5, 7, context));
  return finished(builder);
}

TEST(Wire, SnapshotChunksAndContextsTheEngineNeverSendsAreRefused) {
  WireDecoder decoder;
  std::vector<GroupMessage> out;
  const std::vector<std::vector<std::byte>> bad = {
      bad_snapshot(8, 10, 4, true, {1, 2, 3}),        // runs past the snapshot's size
      bad_snapshot(11, 10, 0, true, {1, 2, 3}),       // starts past it
      bad_snapshot(0, UINT64_MAX, 4, false, {1, 2}),  // fine but for...
      bad_snapshot(0, 10, 4, true, {1, 2, 3}),        // done before the last byte
      bad_snapshot(6, 10, 4, false, {1, 2, 3}),       // not done at the last byte
      bad_snapshot(0, 4, 4, true, {}),                // no voters
      read_request_with_context(7),                   // a context that is not 8 bytes
      read_request_with_context(9),
  };
  size_t refused = 0;
  for (const auto& buffer : bad) {
    const wire::Message* decoded = verify_wire_message(buffer);
    ASSERT_NE(decoded, nullptr);
    Result<void> result = decoder.decode(*decoded, out);
    if (!result.ok()) {
      EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput);
      ++refused;
    }
  }
  // The third is a valid first chunk of a huge snapshot: the core judges its size.
  EXPECT_EQ(refused, bad.size() - 1);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(decoder.stats().invalid_messages, bad.size() - 1);
  // An absent context is context 0.
  ASSERT_TRUE(decoder.decode(*verify_wire_message(read_request_with_context(0)), out).ok());
  EXPECT_EQ(out.back().message.context, 0u);
}

TEST(Wire, AHandshakeIsNotARaftMessage) {
  flatbuffers::FlatBufferBuilder builder;
  net::begin_message(builder);
  net::finish_message(builder, 1, 2, wire::CreateHandshake(builder, 1, 1, 0, 1));
  const auto buffer = finished(builder);
  WireDecoder decoder;
  std::vector<GroupMessage> out;
  Result<void> result = decoder.decode(*verify_wire_message(buffer), out);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(decoder.stats().unsupported_bodies, 1u);
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
    heartbeat.context = 1000 + group;  // each group's leader is at its own round
    messages.push_back(GroupMessage{GroupId(group), heartbeat});
    if (group % 2 == 0) {
      raft::Message response = message(MessageType::kHeartbeatResponse);
      response.context = 2000 + group;
      messages.push_back(GroupMessage{GroupId(group), response});
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
    EXPECT_EQ(decoded[group].message.context, 1000 + group);
  }
  for (size_t i = 9; i < 13; ++i) {
    EXPECT_EQ(decoded[i].message.type, MessageType::kHeartbeatResponse);
    EXPECT_EQ(decoded[i].group, GroupId((i - 8) * 2));
    EXPECT_EQ(decoded[i].message.context, 2000 + (i - 8) * 2);
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
