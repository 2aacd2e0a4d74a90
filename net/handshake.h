// The handshake: the first frame each way on every peer connection.
//
// The connecting side sends a Message{from: us, to: them, body: Handshake{cluster, node, shard,
// protocol version}}; the accepting side checks it, answers with its own, and the connecting side
// checks the answer. Only then does the connection carry Raft messages. A mismatch closes the
// connection with a counted CloseReason; nothing from an unchecked connection reaches the
// handler.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/types.h"
#include "net/transport_stats.h"
#include "net/wire.h"

namespace ringraft::net {

struct HandshakeIdentity {
  uint64_t cluster_id = 0;
  NodeId node;
  ShardId shard;
};

// A finished Message carrying our Handshake, addressed to `to`.
std::vector<std::byte> encode_handshake(const HandshakeIdentity& us, NodeId to);

// Checks a verified inbound Message as a handshake for `us`. `acceptable` lists the nodes
// allowed to connect (all our peers when accepting; the one we dialled when connecting). On
// success returns the peer's node; on failure the reason, with *detail set to the offending value.
struct HandshakeOutcome {
  std::optional<CloseReason> refused;
  NodeId peer;
  uint64_t detail = 0;
};
HandshakeOutcome check_handshake(const wire::Message& message, const HandshakeIdentity& us,
                                 std::span<const NodeId> acceptable);

}  // namespace ringraft::net
