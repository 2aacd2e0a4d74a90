// MessageBus: what the engine needs from the network, and nothing more, so that the TCP
// transport (net/), an in-process test bus or a simulated network plug in with a tiny adapter.
//
// Outbound: the engine hands over one finished wire::Message FlatBuffer per call. The bus copies
// it (the span is valid only during the call) and delivers it to `to`, in order per peer, or
// drops it: Raft tolerates loss, duplication and reordering, never corruption.
// Inbound: whoever owns the bus calls ShardEngine::receive(from, message) on the engine's shard
// with a verified wire::Message.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/types.h"

namespace ringraft::replica {

enum class SendStatus : uint8_t {
  kQueued,       // taken (it may still be lost on the way)
  kFull,         // the peer's output is full: back-pressure, the message was dropped
  kUnreachable,  // no connection to the peer right now: the message was dropped
};

class MessageBus {
 public:
  virtual ~MessageBus() = default;
  virtual SendStatus send(NodeId to, ConstByteSpan message_flatbuffer) = 0;
  // The engine has handed over this turn's messages: a bus that batches should send them now
  // (one send per peer per turn), not at some later wake-up of the loop.
  virtual void end_of_turn() {}
};

}  // namespace ringraft::replica
