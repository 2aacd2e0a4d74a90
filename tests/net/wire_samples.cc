#include "tests/net/wire_samples.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace ringraft::net::testing {
namespace {

constexpr uint64_t kFrom = 1;
constexpr uint64_t kTo = 2;

template <class BodyTable>
std::vector<std::byte> finish(flatbuffers::FlatBufferBuilder& builder,
                              flatbuffers::Offset<BodyTable> body) {
  finish_message(builder, kFrom, kTo, body);
  return builder_bytes(builder);
}

std::vector<uint8_t> bytes_of(size_t count, uint8_t first) {
  std::vector<uint8_t> bytes(count);
  for (size_t i = 0; i < count; ++i) bytes[i] = static_cast<uint8_t>(first + i);
  return bytes;
}

uint64_t read_bytes(const flatbuffers::Vector<uint8_t>* bytes) {
  if (bytes == nullptr) return 0;
  uint64_t digest = bytes->size();
  for (uint8_t byte : *bytes) digest = digest * 31 + byte;
  return digest;
}

uint64_t read_ids(const flatbuffers::Vector<uint64_t>* ids) {
  if (ids == nullptr) return 0;
  uint64_t digest = ids->size();
  for (uint64_t id : *ids) digest = digest * 31 + id;
  return digest;
}

}  // namespace

std::vector<std::byte> builder_bytes(const flatbuffers::FlatBufferBuilder& builder) {
  const auto* begin = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {begin, begin + builder.GetSize()};
}

void build_append_entries(flatbuffers::FlatBufferBuilder& builder, uint64_t group,
                          uint32_t entry_count, size_t entries_bytes, uint8_t fill) {
  begin_message(builder);
  uint8_t* entries = nullptr;
  const auto block = builder.CreateUninitializedVector(entries_bytes, &entries);
  std::memset(entries, fill, entries_bytes);
  const auto body = wire::CreateAppendEntries(builder, group, /*term=*/7, /*leader=*/kFrom,
                                              /*prev_log_index=*/41, /*prev_log_term=*/6,
                                              /*commit=*/40, entry_count, block);
  finish_message(builder, kFrom, kTo, body);
}

std::vector<std::byte> append_entries_message(uint64_t group, uint32_t entry_count,
                                              size_t entries_bytes, uint8_t fill) {
  flatbuffers::FlatBufferBuilder builder(entries_bytes + 256);
  build_append_entries(builder, group, entry_count, entries_bytes, fill);
  return builder_bytes(builder);
}

std::vector<SampleMessage> one_of_each_message() {
  flatbuffers::FlatBufferBuilder builder(1024);
  std::vector<SampleMessage> samples;
  auto add = [&](wire::Body type, std::vector<std::byte> bytes) {
    samples.push_back(SampleMessage{type, std::move(bytes)});
  };

  begin_message(builder);
  add(wire::Body::Handshake,
      finish(builder,
             wire::CreateHandshake(builder, 0xC1, kFrom, /*shard=*/1, kWireProtocolVersion)));
  add(wire::Body::AppendEntries, append_entries_message(/*group=*/5, /*entry_count=*/3,
                                                        /*entries_bytes=*/100, 0xAB));
  begin_message(builder);
  add(wire::Body::AppendResponse,
      finish(builder, wire::CreateAppendResponse(builder, 5, 7, /*reject=*/true, /*match_index=*/30,
                                                 /*hint_index=*/35, /*hint_term=*/4)));
  begin_message(builder);
  add(wire::Body::VoteRequest,
      finish(builder, wire::CreateVoteRequest(builder, 5, 8, kFrom, /*last_log_index=*/44,
                                              /*last_log_term=*/7, /*pre_vote=*/true,
                                              /*transfer=*/true)));
  begin_message(builder);
  add(wire::Body::VoteResponse,
      finish(builder,
             wire::CreateVoteResponse(builder, 5, 8, /*granted=*/true, /*pre_vote=*/true)));
  begin_message(builder);
  std::vector<flatbuffers::Offset<wire::GroupHeartbeat>> heartbeats;
  for (uint64_t group = 1; group <= 50; ++group) {
    heartbeats.push_back(wire::CreateGroupHeartbeat(builder, group, 100 + group, 1000 + group,
                                                    /*context=*/2000 + group));
  }
  add(wire::Body::Heartbeat,
      finish(builder, wire::CreateHeartbeat(builder, builder.CreateVector(heartbeats))));
  begin_message(builder);
  std::vector<flatbuffers::Offset<wire::GroupHeartbeatResponse>> responses;
  for (uint64_t group = 1; group <= 50; ++group) {
    responses.push_back(wire::CreateGroupHeartbeatResponse(builder, group, 100 + group,
                                                           /*context=*/2000 + group));
  }
  add(wire::Body::HeartbeatResponse,
      finish(builder, wire::CreateHeartbeatResponse(builder, builder.CreateVector(responses))));
  begin_message(builder);
  add(wire::Body::TimeoutNow, finish(builder, wire::CreateTimeoutNow(builder, 5, 9)));
  begin_message(builder);
  const auto chunk = builder.CreateVector(bytes_of(300, 3));
  const auto voters = builder.CreateVector(std::vector<uint64_t>{1, 2, 3});
  const auto learners = builder.CreateVector(std::vector<uint64_t>{4});
  add(wire::Body::InstallSnapshot,
      finish(builder,
             wire::CreateInstallSnapshot(builder, 5, 9, /*snapshot_index=*/500,
                                         /*snapshot_term=*/8, /*offset_bytes=*/4096, chunk,
                                         /*done=*/true, /*size_bytes=*/4396, voters, learners)));
  begin_message(builder);
  const auto request_context = builder.CreateVector(bytes_of(16, 0x10));
  add(wire::Body::ReadIndexRequest,
      finish(builder, wire::CreateReadIndexRequest(builder, 5, 9, request_context)));
  begin_message(builder);
  const auto response_context = builder.CreateVector(bytes_of(16, 0x10));
  add(wire::Body::ReadIndexResponse,
      finish(builder, wire::CreateReadIndexResponse(builder, 5, 9, /*read_index=*/77,
                                                    /*reject=*/false, response_context)));
  begin_message(builder);
  add(wire::Body::SnapshotResponse,
      finish(builder, wire::CreateSnapshotResponse(builder, 5, 9, /*snapshot_index=*/500,
                                                   /*snapshot_term=*/8,
                                                   /*next_offset_bytes=*/4396, /*reject=*/true)));
  return samples;
}

std::vector<std::byte> frame_of(const std::vector<std::byte>& flatbuffer) {
  std::vector<std::byte> frame(frame_bytes(flatbuffer.size()));
  const size_t written = encode_frame(flatbuffer, frame);
  RR_ASSERT(written == frame.size());
  return frame;
}

uint64_t read_every_field(const wire::Message& message) {
  uint64_t digest = message.from() * 3 + message.to();
  switch (message.body_type()) {
    case wire::Body::Handshake: {
      const auto& m = *message.body_as_Handshake();
      return digest + m.cluster_id() + m.node_id() + m.shard() + m.protocol_version();
    }
    case wire::Body::AppendEntries: {
      const auto& m = *message.body_as_AppendEntries();
      return digest + m.group() + m.term() + m.leader() + m.prev_log_index() + m.prev_log_term() +
             m.commit() + m.entry_count() + read_bytes(m.entries());
    }
    case wire::Body::AppendResponse: {
      const auto& m = *message.body_as_AppendResponse();
      return digest + m.group() + m.term() + m.reject() + m.match_index() + m.hint_index() +
             m.hint_term();
    }
    case wire::Body::VoteRequest: {
      const auto& m = *message.body_as_VoteRequest();
      return digest + m.group() + m.term() + m.candidate() + m.last_log_index() +
             m.last_log_term() + m.pre_vote() + m.transfer();
    }
    case wire::Body::VoteResponse: {
      const auto& m = *message.body_as_VoteResponse();
      return digest + m.group() + m.term() + m.granted() + m.pre_vote();
    }
    case wire::Body::Heartbeat: {
      const auto* groups = message.body_as_Heartbeat()->groups();
      if (groups == nullptr) return digest;
      for (const auto* group : *groups) {
        digest += group->group() + group->term() + group->commit() + group->context();
      }
      return digest;
    }
    case wire::Body::HeartbeatResponse: {
      const auto* groups = message.body_as_HeartbeatResponse()->groups();
      if (groups == nullptr) return digest;
      for (const auto* group : *groups) digest += group->group() + group->term() + group->context();
      return digest;
    }
    case wire::Body::TimeoutNow: {
      const auto& m = *message.body_as_TimeoutNow();
      return digest + m.group() + m.term();
    }
    case wire::Body::InstallSnapshot: {
      const auto& m = *message.body_as_InstallSnapshot();
      return digest + m.group() + m.term() + m.snapshot_index() + m.snapshot_term() +
             m.offset_bytes() + m.done() + read_bytes(m.data()) + m.size_bytes() +
             read_ids(m.voters()) + read_ids(m.learners());
    }
    case wire::Body::ReadIndexRequest: {
      const auto& m = *message.body_as_ReadIndexRequest();
      return digest + m.group() + m.term() + read_bytes(m.context());
    }
    case wire::Body::ReadIndexResponse: {
      const auto& m = *message.body_as_ReadIndexResponse();
      return digest + m.group() + m.term() + m.read_index() + m.reject() + read_bytes(m.context());
    }
    case wire::Body::SnapshotResponse: {
      const auto& m = *message.body_as_SnapshotResponse();
      return digest + m.group() + m.term() + m.snapshot_index() + m.snapshot_term() +
             m.next_offset_bytes() + m.reject();
    }
    case wire::Body::NONE:
      break;
  }
  RR_UNREACHABLE("the decoder only yields known body types");
}

bool feed_and_drain(FrameDecoder& decoder, ConstByteSpan chunk,
                    std::vector<std::vector<std::byte>>* frames) {
  while (true) {
    chunk = chunk.subspan(decoder.feed(chunk));
    while (true) {
      auto frame = decoder.next();
      if (!frame.ok()) return false;
      if (!frame.value().has_value()) break;
      const ConstByteSpan bytes = frame.value()->flatbuffer;
      frames->emplace_back(bytes.begin(), bytes.end());
    }
    if (chunk.empty()) return true;
  }
}

uint64_t test_seed() {
  const char* text = std::getenv("RINGRAFT_NET_SEED");
  const uint64_t seed = text != nullptr ? std::stoull(text) : std::random_device{}();
  std::printf("seed %llu (replay with RINGRAFT_NET_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace ringraft::net::testing
