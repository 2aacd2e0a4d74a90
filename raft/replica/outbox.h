// Outbox: the core messages of one turn, bucketed by peer, then encoded (WireEncoder: one
// Heartbeat for all groups, one block per term run) and handed to the MessageBus, one
// FlatBuffer at a time, in the order the cores produced them per peer.
//
// Bound: the outbox holds one turn's messages (flush() empties it every turn). A bus that is
// full or has no connection drops the message (counted): Raft retransmits what matters
// (Appends are re-sent from the follower's progress, heartbeats every tick).
#pragma once

#include <cstdint>
#include <vector>

#include "common/types.h"
#include "raft/replica/message_bus.h"
#include "raft/replica/wire.h"

namespace ringraft::replica {

struct OutboxStats {
  uint64_t messages_sent = 0;  // FlatBuffers the bus queued
  uint64_t sends_full = 0;
  uint64_t sends_unreachable = 0;
};

class Outbox final : public WireSink {
 public:
  Outbox(NodeId self, MessageBus& bus) : self_(self), bus_(bus) {}

  void add(GroupId group, raft::Message message);
  bool empty() const { return queued_ == 0; }
  // Encodes and sends everything queued, peer by peer.
  void flush();

  const OutboxStats& stats() const { return stats_; }
  const WireEncoder& encoder() const { return encoder_; }

 private:
  struct Peer {
    NodeId id;
    std::vector<GroupMessage> messages;  // cleared, not freed, after each flush
  };
  void on_encoded(NodeId to, ConstByteSpan message_flatbuffer) override;

  NodeId self_;
  MessageBus& bus_;
  std::vector<Peer> peers_;  // a handful: linear search beats a map
  size_t queued_ = 0;
  WireEncoder encoder_;
  OutboxStats stats_;
};

}  // namespace ringraft::replica
