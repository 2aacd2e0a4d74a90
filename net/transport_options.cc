#include "net/transport_options.h"

#include <fmt/format.h>

#include <unordered_set>

#include "reactor/socket.h"

namespace ringraft::net {
namespace {

Error invalid(std::string what) {
  return Error(ErrorCode::kInvalidInput, std::move(what));
}

}  // namespace

Result<void> TransportOptions::validate() const {
  if (node.value() == 0) return invalid("transport options: node id 0 is reserved");
  if (!ipv4_address(listen_host, listen_port).ok()) {
    return invalid(fmt::format("transport options: listen_host '{}' is not IPv4", listen_host));
  }
  if (limits.frame_bytes_max < 64) return invalid("transport options: frame_bytes_max < 64");
  if (peer_output_bytes_max < frame_bytes(limits.frame_bytes_max)) {
    return invalid(
        fmt::format("transport options: peer_output_bytes_max {} cannot hold one frame of {} bytes",
                    peer_output_bytes_max, frame_bytes(limits.frame_bytes_max)));
  }
  if (reconnect_backoff_min_ms == 0 || reconnect_backoff_max_ms < reconnect_backoff_min_ms) {
    return invalid("transport options: need 0 < reconnect_backoff_min_ms <= max_ms");
  }
  if (handshake_timeout_ms == 0) return invalid("transport options: handshake_timeout_ms is 0");
  if (recv_buffer_count == 0 || (recv_buffer_count & (recv_buffer_count - 1)) != 0 ||
      recv_buffer_count > 32768) {
    return invalid("transport options: recv_buffer_count must be a power of two <= 32768");
  }
  if (recv_buffer_bytes < 512) return invalid("transport options: recv_buffer_bytes < 512");
  if (inbound_connections_max == 0) return invalid("transport options: inbound_connections_max 0");
  std::unordered_set<NodeId> seen;
  for (const PeerAddress& peer : peers) {
    if (peer.node == node || peer.node.value() == 0 || !seen.insert(peer.node).second) {
      return invalid(fmt::format("transport options: peer node {} is ours, 0 or listed twice",
                                 peer.node.value()));
    }
    if (peer.port == 0 || !ipv4_address(peer.host, peer.port).ok()) {
      return invalid(fmt::format("transport options: peer {} address '{}:{}' is invalid",
                                 peer.node.value(), peer.host, peer.port));
    }
  }
  return {};
}

}  // namespace ringraft::net
