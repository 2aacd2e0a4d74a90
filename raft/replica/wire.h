// The one place that knows both raft::Message (the core's) and wire::Message (the network's
// FlatBuffers schema, net/schema/raft.fbs). Everything else in the engine speaks one or the other.
//
// Encoding (WireEncoder): the messages of one turn to ONE peer, from any number of groups, become
// as few FlatBuffers as the schema allows:
//   - Heartbeats of every group become one wire Heartbeat; heartbeat responses one
//     HeartbeatResponse (multi-raft: the cost of liveness does not grow with the group count).
//   - An Append's entries travel as one block, the WAL's entries-record shape:
//     entry_count x u32 little-endian lengths, then the concatenated payloads. The block carries
//     one term (entries_term), so an Append whose entries span several terms is split into one
//     AppendEntries per term run, each chained on the previous one's last (index, term).
//   - Heartbeats and their responses carry the leader's round (Message::context) per group.
//   - A read context (kReadIndex, kReadIndexResponse) travels as 8 little-endian bytes.
//   - A kSnapshot chunk carries the bytes its caller filled in (snapshot.h); InstallSnapshot's
//     `done` is derived (offset + chunk == size) and checked on decode.
//   - Everything else maps one to one.
// One FlatBufferBuilder is reused for every message, so a warm encoder does not allocate.
//
// Decoding (WireDecoder): a verified wire::Message (net/frame.h verified it) becomes one or
// more (group, raft::Message). What the schema cannot rule out but the engine must (an entry
// block whose lengths do not add up, a zero entries_term with entries) is refused with
// kInvalidInput and counted; what only the core can judge (a wrong recipient, terms out of
// order) comes back from Core::step() as kInvalidInput.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/types.h"
#include "net/wire.h"
#include "raft/core/message.h"

namespace ringraft::replica {

// A core message and the group it belongs to (raft::Message does not carry its group).
struct GroupMessage {
  GroupId group;
  raft::Message message;
};

// Receives each finished FlatBuffer; the span is valid only during the call.
class WireSink {
 public:
  virtual ~WireSink() = default;
  virtual void on_encoded(NodeId to, ConstByteSpan message_flatbuffer) = 0;
};

struct WireEncoderStats {
  uint64_t messages_encoded = 0;          // FlatBuffers handed to the sink
  uint64_t heartbeats_coalesced = 0;      // group heartbeats (and responses) carried in them
  uint64_t term_run_splits = 0;           // extra AppendEntries made by multi-term Appends
  uint64_t snapshot_chunks_unfilled = 0;  // kSnapshot dropped: bytes not filled in (snapshot.h)
};

class WireEncoder {
 public:
  WireEncoder();

  // Encodes `messages`, all from `from` to `to`, and hands each FlatBuffer to `sink`.
  void encode(NodeId from, NodeId to, std::span<const GroupMessage> messages, WireSink& sink);
  const WireEncoderStats& stats() const { return stats_; }

 private:
  void encode_append(NodeId from, NodeId to, const GroupMessage& message, WireSink& sink);
  void encode_one(NodeId from, NodeId to, const GroupMessage& message, WireSink& sink);
  void encode_snapshot(NodeId from, NodeId to, const GroupMessage& message);
  void encode_heartbeats(NodeId from, NodeId to, std::span<const GroupMessage> messages,
                         raft::MessageType type, WireSink& sink);
  void emit(NodeId to, WireSink& sink);

  flatbuffers::FlatBufferBuilder builder_;
  std::vector<flatbuffers::Offset<wire::GroupHeartbeat>> heartbeat_scratch_;
  std::vector<flatbuffers::Offset<wire::GroupHeartbeatResponse>> heartbeat_response_scratch_;
  std::vector<uint64_t> id_scratch_;  // a snapshot's voters as raw ids
  WireEncoderStats stats_;
};

struct WireDecoderStats {
  uint64_t messages_decoded = 0;
  uint64_t invalid_messages = 0;    // refused by decode() (kInvalidInput)
  uint64_t unsupported_bodies = 0;  // valid schema members that are not Raft messages
};

class WireDecoder {
 public:
  // Appends the core messages carried by `message` to `out` (which it does not clear). On
  // error nothing is appended. A Handshake (the transport's, never the engine's) is refused
  // with kUnsupported.
  Result<void> decode(const wire::Message& message, std::vector<GroupMessage>& out);
  const WireDecoderStats& stats() const { return stats_; }

 private:
  Result<void> decode_append(NodeId from, NodeId to, const wire::AppendEntries& append,
                             std::vector<GroupMessage>& out);
  Result<void> decode_snapshot(NodeId from, NodeId to, const wire::InstallSnapshot& snapshot,
                               std::vector<GroupMessage>& out);

  WireDecoderStats stats_;
};

// Verifies `flatbuffer` as a wire::Message (identifier, FlatBuffers Verifier). For buses that
// carry bare FlatBuffers (tests, in-process delivery); the TCP transport verifies in its frame
// decoder. nullptr when it does not verify.
const wire::Message* verify_wire_message(ConstByteSpan flatbuffer);

}  // namespace ringraft::replica
