// Counters of a Transport: per peer (connections, frames and bytes each way, refused sends,
// drops) and per transport (accepted connections, connections closed by reason). Plain values,
// read on the shard that owns the transport.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/types.h"
#include "net/frame.h"

namespace ringraft::net {

// Why a connection was closed by us. Frame errors (bad CRC, too large, ...) are kBadFrame here
// and counted by reason in TransportStats::frames.
enum class CloseReason : uint8_t {
  kBadFrame,          // the frame decoder refused the stream
  kNotHandshake,      // the first frame is not a Handshake
  kWrongCluster,      // handshake cluster id differs from ours
  kUnknownNode,       // handshake from a node that is not our peer (or not the one we dialled)
  kWrongShard,        // handshake from another shard index
  kWrongVersion,      // handshake protocol version differs
  kWrongDestination,  // the message is addressed to another node
  kHandshakeTimeout,  // connect or handshake took longer than handshake_timeout_ms
  kWrongSender,       // a message whose `from` is not the node of the handshake
  kUnexpectedFrame,   // a frame on an outbound connection after the handshake
  kClosedByPeer,      // the peer closed (or reset) the connection
  kSendFailed,        // a send returned an error
  kReplaced,          // the same peer opened a newer inbound connection
};
inline constexpr size_t kCloseReasonCount = 13;
static_assert(static_cast<size_t>(CloseReason::kReplaced) + 1 == kCloseReasonCount);

const char* close_reason_name(CloseReason reason);

struct PeerStats {
  NodeId node;
  uint64_t connect_attempts = 0;  // outbound connects started
  uint64_t connects = 0;          // outbound connections that completed the handshake
  uint64_t disconnects = 0;       // of those, the ones that ended
  uint64_t inbound_connects = 0;  // inbound connections from this peer that passed the handshake
  uint64_t frames_out = 0;        // frames handed to the kernel in full
  uint64_t bytes_out = 0;
  uint64_t sendmsg_calls = 0;  // one per flush of a turn's frames (plus one per short send)
  uint64_t frames_in = 0;      // frames delivered to the handler
  uint64_t bytes_in = 0;
  uint64_t sends_full = 0;         // send() returned kFull
  uint64_t sends_unreachable = 0;  // send() returned kUnreachable (not connected)
  uint64_t frames_dropped = 0;     // queued frames dropped when the connection ended
  uint64_t last_backoff_ms = 0;    // the latest reconnect delay chosen
  uint64_t sends_built = 0;        // messages built in the output buffer (send_built), queued
  uint64_t builds_outgrown = 0;    // of send_built's messages, those larger than their bound
};

struct TransportStats {
  std::vector<PeerStats> peers;  // in TransportOptions::peers order
  uint64_t inbound_accepted = 0;
  std::array<uint64_t, kCloseReasonCount> closed_by_reason{};
  FrameCounters frames;  // inbound frames accepted and refused, by reason

  uint64_t closed(CloseReason reason) const {
    return closed_by_reason[static_cast<size_t>(reason)];
  }
  const PeerStats* peer(NodeId node) const {
    for (const PeerStats& stats : peers) {
      if (stats.node == node) return &stats;
    }
    return nullptr;
  }
};

}  // namespace ringraft::net
