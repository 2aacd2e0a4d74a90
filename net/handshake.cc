#include "net/handshake.h"

#include <algorithm>

namespace ringraft::net {

std::vector<std::byte> encode_handshake(const HandshakeIdentity& us, NodeId to) {
  RR_ASSERT(us.node.value() != 0);
  flatbuffers::FlatBufferBuilder builder(256);
  begin_message(builder);
  const auto body = wire::CreateHandshake(builder, us.cluster_id, us.node.value(), us.shard.value(),
                                          kWireProtocolVersion);
  finish_message(builder, us.node.value(), to.value(), body);
  const auto* begin = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {begin, begin + builder.GetSize()};
}

HandshakeOutcome check_handshake(const wire::Message& message, const HandshakeIdentity& us,
                                 std::span<const NodeId> acceptable) {
  HandshakeOutcome outcome;
  const wire::Handshake* handshake = message.body_as_Handshake();
  if (handshake == nullptr) {
    outcome.refused = CloseReason::kNotHandshake;
    outcome.detail = static_cast<uint64_t>(message.body_type());
    return outcome;
  }
  // Checked in order of how fundamental the mismatch is: a version or cluster mismatch says
  // more to an operator than the node id that follows from it.
  if (handshake->protocol_version() != kWireProtocolVersion) {
    outcome.refused = CloseReason::kWrongVersion;
    outcome.detail = handshake->protocol_version();
  } else if (handshake->cluster_id() != us.cluster_id) {
    outcome.refused = CloseReason::kWrongCluster;
    outcome.detail = handshake->cluster_id();
  } else if (message.to() != us.node.value()) {
    outcome.refused = CloseReason::kWrongDestination;
    outcome.detail = message.to();
  } else if (handshake->node_id() != message.from() ||
             std::find(acceptable.begin(), acceptable.end(), NodeId(handshake->node_id())) ==
                 acceptable.end()) {
    outcome.refused = CloseReason::kUnknownNode;
    outcome.detail = handshake->node_id();
  } else if (handshake->shard() != us.shard.value()) {
    outcome.refused = CloseReason::kWrongShard;
    outcome.detail = handshake->shard();
  } else {
    outcome.peer = NodeId(handshake->node_id());
  }
  return outcome;
}

const char* close_reason_name(CloseReason reason) {
  switch (reason) {
    case CloseReason::kBadFrame:
      return "bad frame";
    case CloseReason::kNotHandshake:
      return "first frame is not a handshake";
    case CloseReason::kWrongCluster:
      return "wrong cluster id";
    case CloseReason::kUnknownNode:
      return "unknown node";
    case CloseReason::kWrongShard:
      return "wrong shard";
    case CloseReason::kWrongVersion:
      return "wrong protocol version";
    case CloseReason::kWrongDestination:
      return "addressed to another node";
    case CloseReason::kHandshakeTimeout:
      return "handshake timeout";
    case CloseReason::kWrongSender:
      return "message from another node than the handshake";
    case CloseReason::kUnexpectedFrame:
      return "unexpected frame on an outbound connection";
    case CloseReason::kClosedByPeer:
      return "closed by peer";
    case CloseReason::kSendFailed:
      return "send failed";
    case CloseReason::kReplaced:
      return "replaced by a newer connection";
  }
  return "unknown";
}

}  // namespace ringraft::net
