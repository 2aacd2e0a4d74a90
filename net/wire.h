// The one include point for the generated wire schema (net/schema/raft.fbs), and the two calls
// that start and finish a Message so every frame's FlatBuffer has the same shape.
//
// Invariants: a finished Message carries the "RRFT" file identifier and its size is a multiple
// of kWireAlignBytes (8), so frames that follow each other in a stream keep every FlatBuffer
// 8-byte aligned in the receiver's buffer and the decoder never has to move bytes to align one.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <cstdint>

#include "common/assert.h"
#include "net/schema/raft_generated.h"

namespace ringraft::net {

inline constexpr size_t kWireAlignBytes = 8;
// Sent in the Handshake; bumped whenever the meaning of a field in net/schema/*.fbs changes.
inline constexpr uint32_t kWireProtocolVersion = 1;

// Clears `builder` (keeping its memory, so a reused builder does not allocate per message) and
// makes the finished buffer's size a multiple of kWireAlignBytes.
inline void begin_message(flatbuffers::FlatBufferBuilder& builder) {
  builder.Clear();
  builder.Align(kWireAlignBytes);
}

// Finishes the Message root around `body` (a table of type `body_type` built in `builder`).
template <class BodyTable>
void finish_message(flatbuffers::FlatBufferBuilder& builder, uint64_t from_node, uint64_t to_node,
                    flatbuffers::Offset<BodyTable> body) {
  const wire::Body body_type = wire::BodyTraits<BodyTable>::enum_value;
  static_assert(body_type != wire::Body::NONE, "not a member of the Body union");
  wire::FinishMessageBuffer(
      builder, wire::CreateMessage(builder, from_node, to_node, body_type, body.Union()));
  RR_ASSERT(builder.GetSize() % kWireAlignBytes == 0);
}

}  // namespace ringraft::net
