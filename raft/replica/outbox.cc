#include "raft/replica/outbox.h"

#include <utility>

#include "common/assert.h"

namespace ringraft::replica {

void Outbox::add(GroupId group, raft::Message message) {
  RR_ASSERT(message.from == self_ && message.to != self_);
  Peer* peer = nullptr;
  for (Peer& candidate : peers_) {
    if (candidate.id == message.to) peer = &candidate;
  }
  if (peer == nullptr) peer = &peers_.emplace_back(Peer{message.to, {}});
  peer->messages.push_back(GroupMessage{group, std::move(message)});
  queued_++;
}

void Outbox::flush() {
  if (queued_ == 0) return;
  for (Peer& peer : peers_) {
    if (peer.messages.empty()) continue;
    encoder_.encode(self_, peer.id, peer.messages, *this);
    peer.messages.clear();
  }
  queued_ = 0;
  bus_.end_of_turn();
}

void Outbox::on_encoded(NodeId to, ConstByteSpan message_flatbuffer) {
  switch (bus_.send(to, message_flatbuffer)) {
    case SendStatus::kQueued:
      stats_.messages_sent++;
      break;
    case SendStatus::kFull:
      stats_.sends_full++;
      break;
    case SendStatus::kUnreachable:
      stats_.sends_unreachable++;
      break;
  }
}

}  // namespace ringraft::replica
