#include "raft/replica/wire.h"

#include <bit>
#include <cstring>
#include <string>

#include "common/assert.h"

namespace ringraft::replica {
namespace {

static_assert(std::endian::native == std::endian::little,
              "entry blocks are little-endian; a big-endian port must byte-swap the lengths");

using raft::MessageType;

bool is_heartbeat(MessageType type) {
  return type == MessageType::kHeartbeat || type == MessageType::kHeartbeatResponse;
}

Error invalid(NodeId from, const std::string& what) {
  return Error(ErrorCode::kInvalidInput,
               "wire message from node " + std::to_string(from.value()) + ": " + what);
}

// A read context travels as 8 little-endian bytes (the schema keeps it opaque bytes).
flatbuffers::Offset<flatbuffers::Vector<uint8_t>> create_context(
    flatbuffers::FlatBufferBuilder& builder, uint64_t context) {
  uint8_t bytes[sizeof(context)];
  std::memcpy(bytes, &context, sizeof(context));
  return builder.CreateVector(bytes, sizeof(bytes));
}

// An absent context is 0; any length but 8 is not one the engine sent.
bool read_context(const flatbuffers::Vector<uint8_t>* bytes, uint64_t* context) {
  *context = 0;
  if (bytes == nullptr || bytes->size() == 0) return true;
  if (bytes->size() != sizeof(*context)) return false;
  std::memcpy(context, bytes->data(), sizeof(*context));
  return true;
}

std::vector<NodeId> node_ids(const flatbuffers::Vector<uint64_t>* ids) {
  std::vector<NodeId> nodes;
  if (ids == nullptr) return nodes;
  nodes.reserve(ids->size());
  for (uint64_t id : *ids) nodes.push_back(NodeId{id});
  return nodes;
}

}  // namespace

// ---- encoding -------------------------------------------------------------------------------

WireEncoder::WireEncoder() : builder_(64 * 1024) {}

void WireEncoder::encode(NodeId from, NodeId to, std::span<const GroupMessage> messages,
                         WireSink& sink) {
  bool heartbeats = false;
  bool heartbeat_responses = false;
  for (const GroupMessage& message : messages) {
    RR_ASSERT_MSG(message.message.from == from && message.message.to == to,
                  "encode() takes the messages of one peer");
    heartbeats = heartbeats || message.message.type == MessageType::kHeartbeat;
    heartbeat_responses =
        heartbeat_responses || message.message.type == MessageType::kHeartbeatResponse;
    if (is_heartbeat(message.message.type)) continue;
    if (message.message.type == MessageType::kAppend) {
      encode_append(from, to, message, sink);
    } else if (message.message.type == MessageType::kSnapshot &&
               message.message.snapshot_data.size() != message.message.snapshot_chunk_bytes) {
      // snapshot.h: the leader's caller fills the chunk's bytes. One it could not fill (no
      // snapshot readable) is dropped, not sent short: the core resends the chunk from the last
      // acknowledged offset after the next heartbeat answer.
      stats_.snapshot_chunks_unfilled++;
    } else {
      encode_one(from, to, message, sink);
    }
  }
  // Coalesced: after the turn's other messages, one of each kind for every group.
  if (heartbeats) encode_heartbeats(from, to, messages, MessageType::kHeartbeat, sink);
  if (heartbeat_responses) {
    encode_heartbeats(from, to, messages, MessageType::kHeartbeatResponse, sink);
  }
}

void WireEncoder::encode_append(NodeId from, NodeId to, const GroupMessage& message,
                                WireSink& sink) {
  const raft::Message& append = message.message;
  const std::vector<raft::Entry>& entries = append.entries;
  LogIndex prev_index = append.log_index;
  Term prev_term = append.log_term;
  size_t begin = 0;
  do {
    // One term run: [begin, end).
    size_t end = begin;
    uint64_t payload_bytes = 0;
    const Term run_term = entries.empty() ? Term{0} : entries[begin].term;
    while (end < entries.size() && entries[end].term == run_term) {
      payload_bytes += entries[end].payload.size();
      ++end;
    }
    const uint32_t count = static_cast<uint32_t>(end - begin);
    net::begin_message(builder_);
    uint8_t* block = nullptr;
    const auto block_offset =
        builder_.CreateUninitializedVector<uint8_t>(size_t{count} * 4 + payload_bytes, &block);
    std::byte* lengths_at = reinterpret_cast<std::byte*>(block);
    std::byte* payload_at = lengths_at + size_t{count} * 4;
    const std::span<const raft::Entry> run(entries.data() + begin, end - begin);
    for (const raft::Entry& entry : run) {
      const uint32_t length_bytes = static_cast<uint32_t>(entry.payload.size());
      std::memcpy(lengths_at, &length_bytes, 4);
      lengths_at += 4;
    }
    // Entries proposed or received together lie back to back in one block: one copy.
    if (const std::optional<ConstByteSpan> contiguous = raft::contiguous_payloads(run)) {
      std::memcpy(payload_at, contiguous->data(), contiguous->size());
    } else {
      for (const raft::Entry& entry : run) {
        if (!entry.payload.empty())
          std::memcpy(payload_at, entry.payload.data(), entry.payload.size());
        payload_at += entry.payload.size();
      }
    }
    const auto body = wire::CreateAppendEntries(
        builder_, message.group.value(), append.term.value(), from.value(), prev_index.value(),
        prev_term.value(), append.commit.value(), count, block_offset, run_term.value());
    net::finish_message(builder_, from.value(), to.value(), body);
    emit(to, sink);
    if (end > begin) {
      prev_index = entries[end - 1].index;
      prev_term = run_term;
    }
    begin = end;
    if (begin < entries.size()) stats_.term_run_splits++;
  } while (begin < entries.size());
}

void WireEncoder::encode_one(NodeId from, NodeId to, const GroupMessage& message, WireSink& sink) {
  const raft::Message& m = message.message;
  const uint64_t group = message.group.value();
  net::begin_message(builder_);
  switch (m.type) {
    case MessageType::kPreVoteRequest:
    case MessageType::kVoteRequest: {
      const bool pre_vote = m.type == MessageType::kPreVoteRequest;
      net::finish_message(
          builder_, from.value(), to.value(),
          wire::CreateVoteRequest(builder_, group, m.term.value(), from.value(),
                                  m.log_index.value(), m.log_term.value(), pre_vote, m.transfer));
      break;
    }
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse: {
      const bool pre_vote = m.type == MessageType::kPreVoteResponse;
      net::finish_message(
          builder_, from.value(), to.value(),
          wire::CreateVoteResponse(builder_, group, m.term.value(), !m.reject, pre_vote));
      break;
    }
    case MessageType::kAppendResponse:
      net::finish_message(
          builder_, from.value(), to.value(),
          wire::CreateAppendResponse(builder_, group, m.term.value(), m.reject, m.log_index.value(),
                                     m.reject_hint_index.value(), m.reject_hint_term.value()));
      break;
    case MessageType::kTimeoutNow:
      net::finish_message(builder_, from.value(), to.value(),
                          wire::CreateTimeoutNow(builder_, group, m.term.value()));
      break;
    case MessageType::kReadIndex: {
      const auto context = create_context(builder_, m.context);
      net::finish_message(builder_, from.value(), to.value(),
                          wire::CreateReadIndexRequest(builder_, group, m.term.value(), context));
      break;
    }
    case MessageType::kReadIndexResponse: {
      const auto context = create_context(builder_, m.context);
      net::finish_message(builder_, from.value(), to.value(),
                          wire::CreateReadIndexResponse(builder_, group, m.term.value(),
                                                        m.log_index.value(), m.reject, context));
      break;
    }
    case MessageType::kSnapshot:
      encode_snapshot(from, to, message);
      break;
    case MessageType::kSnapshotResponse:
      net::finish_message(
          builder_, from.value(), to.value(),
          wire::CreateSnapshotResponse(builder_, group, m.term.value(), m.log_index.value(),
                                       m.log_term.value(), m.snapshot_offset, m.reject));
      break;
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kHeartbeatResponse:
      RR_UNREACHABLE("encoded elsewhere");
  }
  emit(to, sink);
}

void WireEncoder::encode_snapshot(NodeId from, NodeId to, const GroupMessage& message) {
  const raft::Message& m = message.message;
  RR_ASSERT(m.snapshot_data.size() == m.snapshot_chunk_bytes);  // encode() dropped others
  RR_ASSERT(m.snapshot_offset <= m.snapshot_size_bytes &&
            m.snapshot_chunk_bytes <= m.snapshot_size_bytes - m.snapshot_offset);
  id_scratch_.clear();
  for (NodeId voter : m.snapshot_voters) id_scratch_.push_back(voter.value());
  const auto voters = builder_.CreateVector(id_scratch_);
  id_scratch_.clear();
  for (NodeId learner : m.snapshot_learners) id_scratch_.push_back(learner.value());
  const auto learners = builder_.CreateVector(id_scratch_);
  const auto data = builder_.CreateVector(reinterpret_cast<const uint8_t*>(m.snapshot_data.data()),
                                          m.snapshot_data.size());
  const bool done = m.snapshot_offset + m.snapshot_chunk_bytes == m.snapshot_size_bytes;
  net::finish_message(
      builder_, from.value(), to.value(),
      wire::CreateInstallSnapshot(builder_, message.group.value(), m.term.value(),
                                  m.log_index.value(), m.log_term.value(), m.snapshot_offset, data,
                                  done, m.snapshot_size_bytes, voters, learners));
}

void WireEncoder::encode_heartbeats(NodeId from, NodeId to, std::span<const GroupMessage> messages,
                                    MessageType type, WireSink& sink) {
  net::begin_message(builder_);
  heartbeat_scratch_.clear();
  heartbeat_response_scratch_.clear();
  for (const GroupMessage& message : messages) {
    if (message.message.type != type) continue;
    stats_.heartbeats_coalesced++;
    if (type == MessageType::kHeartbeat) {
      heartbeat_scratch_.push_back(
          wire::CreateGroupHeartbeat(builder_, message.group.value(), message.message.term.value(),
                                     message.message.commit.value(), message.message.context));
    } else {
      heartbeat_response_scratch_.push_back(wire::CreateGroupHeartbeatResponse(
          builder_, message.group.value(), message.message.term.value(), message.message.context));
    }
  }
  if (type == MessageType::kHeartbeat) {
    const auto groups = builder_.CreateVector(heartbeat_scratch_);
    net::finish_message(builder_, from.value(), to.value(),
                        wire::CreateHeartbeat(builder_, groups));
  } else {
    const auto groups = builder_.CreateVector(heartbeat_response_scratch_);
    net::finish_message(builder_, from.value(), to.value(),
                        wire::CreateHeartbeatResponse(builder_, groups));
  }
  emit(to, sink);
}

void WireEncoder::emit(NodeId to, WireSink& sink) {
  stats_.messages_encoded++;
  sink.on_encoded(to, as_bytes(builder_.GetBufferPointer(), builder_.GetSize()));
}

// ---- decoding -------------------------------------------------------------------------------

namespace {

// A decoded message with the fields every type carries.
GroupMessage base_message(MessageType type, NodeId from, NodeId to, uint64_t group, uint64_t term) {
  GroupMessage decoded{GroupId{group}, raft::Message{}};
  decoded.message.type = type;
  decoded.message.from = from;
  decoded.message.to = to;
  decoded.message.term = Term{term};
  return decoded;
}

// The i-th entry length at the front of an AppendEntries entry block (4 bytes LE each; the
// block's bytes carry no alignment).
uint32_t entry_length(const std::byte* lengths_at, uint64_t i) {
  uint32_t length_bytes = 0;
  std::memcpy(&length_bytes, lengths_at + i * 4, 4);
  return length_bytes;
}

}  // namespace

Result<void> WireDecoder::decode(const wire::Message& message, std::vector<GroupMessage>& out) {
  const NodeId from{message.from()};
  const NodeId to{message.to()};
  Result<void> result;
  const auto base = [&](MessageType type, uint64_t group, uint64_t term) {
    return base_message(type, from, to, group, term);
  };
  switch (message.body_type()) {
    case wire::Body::AppendEntries:
      result = decode_append(from, to, *message.body_as_AppendEntries(), out);
      break;
    case wire::Body::AppendResponse: {
      const wire::AppendResponse& r = *message.body_as_AppendResponse();
      GroupMessage m = base(MessageType::kAppendResponse, r.group(), r.term());
      m.message.reject = r.reject();
      m.message.log_index = LogIndex{r.match_index()};
      m.message.reject_hint_index = LogIndex{r.hint_index()};
      m.message.reject_hint_term = Term{r.hint_term()};
      out.push_back(std::move(m));
      break;
    }
    case wire::Body::VoteRequest: {
      const wire::VoteRequest& r = *message.body_as_VoteRequest();
      if (r.candidate() != from.value()) {
        result = invalid(from, "vote request for another candidate");
        break;
      }
      GroupMessage m = base(r.pre_vote() ? MessageType::kPreVoteRequest : MessageType::kVoteRequest,
                            r.group(), r.term());
      m.message.log_index = LogIndex{r.last_log_index()};
      m.message.log_term = Term{r.last_log_term()};
      m.message.transfer = r.transfer();
      out.push_back(std::move(m));
      break;
    }
    case wire::Body::VoteResponse: {
      const wire::VoteResponse& r = *message.body_as_VoteResponse();
      GroupMessage m =
          base(r.pre_vote() ? MessageType::kPreVoteResponse : MessageType::kVoteResponse, r.group(),
               r.term());
      m.message.reject = !r.granted();
      out.push_back(std::move(m));
      break;
    }
    case wire::Body::Heartbeat: {
      const auto* groups = message.body_as_Heartbeat()->groups();
      if (groups == nullptr) break;
      for (const wire::GroupHeartbeat* g : *groups) {
        GroupMessage m = base(MessageType::kHeartbeat, g->group(), g->term());
        m.message.commit = LogIndex{g->commit()};
        m.message.context = g->context();
        out.push_back(std::move(m));
      }
      break;
    }
    case wire::Body::HeartbeatResponse: {
      const auto* groups = message.body_as_HeartbeatResponse()->groups();
      if (groups == nullptr) break;
      for (const wire::GroupHeartbeatResponse* g : *groups) {
        GroupMessage m = base(MessageType::kHeartbeatResponse, g->group(), g->term());
        m.message.context = g->context();
        out.push_back(std::move(m));
      }
      break;
    }
    case wire::Body::TimeoutNow: {
      const wire::TimeoutNow& r = *message.body_as_TimeoutNow();
      out.push_back(base(MessageType::kTimeoutNow, r.group(), r.term()));
      break;
    }
    case wire::Body::ReadIndexRequest: {
      const wire::ReadIndexRequest& r = *message.body_as_ReadIndexRequest();
      GroupMessage m = base(MessageType::kReadIndex, r.group(), r.term());
      if (!read_context(r.context(), &m.message.context)) {
        result = invalid(from, "ReadIndex context is not 8 bytes");
        break;
      }
      out.push_back(std::move(m));
      break;
    }
    case wire::Body::ReadIndexResponse: {
      const wire::ReadIndexResponse& r = *message.body_as_ReadIndexResponse();
      GroupMessage m = base(MessageType::kReadIndexResponse, r.group(), r.term());
      m.message.log_index = LogIndex{r.read_index()};
      m.message.reject = r.reject();
      if (!read_context(r.context(), &m.message.context)) {
        result = invalid(from, "ReadIndex context is not 8 bytes");
        break;
      }
      out.push_back(std::move(m));
      break;
    }
    case wire::Body::InstallSnapshot:
      result = decode_snapshot(from, to, *message.body_as_InstallSnapshot(), out);
      break;
    case wire::Body::SnapshotResponse: {
      const wire::SnapshotResponse& r = *message.body_as_SnapshotResponse();
      GroupMessage m = base(MessageType::kSnapshotResponse, r.group(), r.term());
      m.message.log_index = LogIndex{r.snapshot_index()};
      m.message.log_term = Term{r.snapshot_term()};
      m.message.snapshot_offset = r.next_offset_bytes();
      m.message.reject = r.reject();
      out.push_back(std::move(m));
      break;
    }
    case wire::Body::Handshake:
    case wire::Body::NONE:
      stats_.unsupported_bodies++;
      return Error(ErrorCode::kUnsupported, std::string("wire message body ") +
                                                wire::EnumNameBody(message.body_type()) +
                                                " is not handled by the engine yet");
  }
  if (!result) {
    stats_.invalid_messages++;
    return result;
  }
  stats_.messages_decoded++;
  return {};
}

Result<void> WireDecoder::decode_append(NodeId from, NodeId to, const wire::AppendEntries& append,
                                        std::vector<GroupMessage>& out) {
  if (append.leader() != from.value()) return invalid(from, "AppendEntries from another leader");
  const uint64_t count = append.entry_count();
  const auto* block = append.entries();
  const uint64_t block_bytes = block == nullptr ? 0 : block->size();
  if (count > 0 && append.entries_term() == 0) {
    return invalid(from, "AppendEntries with entries of term 0");
  }
  if (block_bytes < count * 4) return invalid(from, "entry block shorter than its lengths");
  if (append.prev_log_index() > UINT64_MAX - count) {
    return invalid(from, "AppendEntries index overflows");
  }
  const std::byte* lengths_at = reinterpret_cast<const std::byte*>(block ? block->data() : nullptr);
  uint64_t payload_bytes = 0;
  for (uint64_t i = 0; i < count; ++i) payload_bytes += entry_length(lengths_at, i);
  if (payload_bytes != block_bytes - count * 4) {
    return invalid(from, "entry lengths do not add up to the entry block");
  }
  GroupMessage m = base_message(MessageType::kAppend, from, to, append.group(), append.term());
  m.message.log_index = LogIndex{append.prev_log_index()};
  m.message.log_term = Term{append.prev_log_term()};
  m.message.commit = LogIndex{append.commit()};
  m.message.entries.reserve(count);
  // One copy out of the transport's buffer for the whole message: the entries refer to it.
  raft::EntryBlock* entry_block = nullptr;
  if (payload_bytes > 0) {
    entry_block = raft::EntryBlock::create(payload_bytes);
    std::memcpy(entry_block->bytes(), lengths_at + count * 4, payload_bytes);
  }
  size_t offset = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const uint32_t length_bytes = entry_length(lengths_at, i);
    m.message.entries.push_back(raft::Entry{Term{append.entries_term()},
                                            LogIndex{append.prev_log_index() + 1 + i},
                                            raft::PayloadRef(entry_block, offset, length_bytes)});
    offset += length_bytes;
  }
  if (entry_block != nullptr) entry_block->release();  // the entries hold it now
  out.push_back(std::move(m));
  return {};
}

Result<void> WireDecoder::decode_snapshot(NodeId from, NodeId to,
                                          const wire::InstallSnapshot& snapshot,
                                          std::vector<GroupMessage>& out) {
  const auto* data = snapshot.data();
  const uint64_t chunk_bytes = data == nullptr ? 0 : data->size();
  // The core trusts offset + chunk <= size (it sizes its snapshot file by it): refuse here.
  if (snapshot.offset_bytes() > snapshot.size_bytes() ||
      chunk_bytes > snapshot.size_bytes() - snapshot.offset_bytes()) {
    return invalid(from, "snapshot chunk beyond the snapshot's size");
  }
  if (snapshot.done() != (snapshot.offset_bytes() + chunk_bytes == snapshot.size_bytes())) {
    return invalid(from, "snapshot chunk's done flag disagrees with its size");
  }
  if (snapshot.snapshot_index() == 0 || snapshot.voters() == nullptr ||
      snapshot.voters()->size() == 0) {
    return invalid(from, "snapshot without an index or voters");
  }
  GroupMessage m =
      base_message(MessageType::kSnapshot, from, to, snapshot.group(), snapshot.term());
  m.message.log_index = LogIndex{snapshot.snapshot_index()};
  m.message.log_term = Term{snapshot.snapshot_term()};
  m.message.snapshot_offset = snapshot.offset_bytes();
  m.message.snapshot_size_bytes = snapshot.size_bytes();
  m.message.snapshot_chunk_bytes = chunk_bytes;
  if (data != nullptr) {
    const auto* bytes = reinterpret_cast<const std::byte*>(data->data());
    m.message.snapshot_data.assign(bytes, bytes + chunk_bytes);
  }
  m.message.snapshot_voters = node_ids(snapshot.voters());
  if (snapshot.learners() != nullptr) m.message.snapshot_learners = node_ids(snapshot.learners());
  out.push_back(std::move(m));
  return {};
}

const wire::Message* verify_wire_message(ConstByteSpan flatbuffer) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(flatbuffer.data());
  if (flatbuffer.size() < 8 || !wire::MessageBufferHasIdentifier(bytes)) return nullptr;
  flatbuffers::Verifier verifier(bytes, flatbuffer.size());
  if (!wire::VerifyMessageBuffer(verifier)) return nullptr;
  return wire::GetMessage(bytes);
}

}  // namespace ringraft::replica
