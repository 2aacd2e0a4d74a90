// What a Transport is configured with: who we are, where we listen, who our peers are, and the
// bounds on memory, time and retries. Checked once by validate() before anything starts.
//
// Shard i of a node listens on its own port and talks to shard i of every peer, so `peers`
// lists, for this shard, the address of the same shard on each other node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "net/frame.h"

namespace ringraft::net {

struct PeerAddress {
  NodeId node;
  std::string host;  // dotted IPv4 ("127.0.0.1"; "localhost" is accepted)
  uint16_t port = 0;
};

struct TransportOptions {
  uint64_t cluster_id = 0;
  NodeId node;
  ShardId shard;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // 0: an ephemeral port, see Transport::listen_port()
  std::vector<PeerAddress> peers;
  FrameLimits limits;
  // Bytes of frames queued to one peer and not yet handed to the kernel. A send() that does not
  // fit returns kFull. One more buffer of the same size holds the send in flight, so a peer costs
  // at most 2 x peer_output_bytes_max of output memory. Must hold one frame of
  // limits.frame_bytes_max.
  uint64_t peer_output_bytes_max = (8u << 20) + kFrameHeaderBytes;
  // Reconnect delays: the n-th consecutive failure waits min(max, min * 2^(n-1)), scaled by a
  // random factor in [0.5, 1] (jitter, so restarted nodes do not reconnect in lockstep).
  uint32_t reconnect_backoff_min_ms = 50;
  uint32_t reconnect_backoff_max_ms = 2000;
  // A connect, or a handshake reply, that takes longer fails the attempt; an accepted
  // connection that sends no handshake in this time is closed.
  uint32_t handshake_timeout_ms = 2000;
  // Receive buffers shared by all connections of the transport (multishot recv).
  uint32_t recv_buffer_count = 64;  // power of two
  uint32_t recv_buffer_bytes = 64u << 10;
  // An inbound frame still missing at least this many bytes once its header is in is received
  // straight into the connection's frame buffer (the multishot receive paused for it) instead of
  // being copied out of receive buffers. 0: never. Off by default: on this project's machine it
  // saved the copy but cost the receiving shard more CPU per byte than it saved (net/README.md,
  // "Receiving large frames directly"); measure before turning it on.
  uint32_t direct_receive_bytes_min = 0;
  // Inbound connections open at once (peers reconnecting, strangers); more are closed at once.
  uint32_t inbound_connections_max = 64;
  uint64_t jitter_seed = 0;  // 0: derived from node and shard

  // An error naming the first invalid setting, or success.
  Result<void> validate() const;
};

// Shard 0's transport options of `self` in a cluster whose members' Raft addresses (self
// included) are `members`: a map from NodeId to anything with `host` and `port`. Listens on
// self's address and dials every other member; the other settings keep their defaults.
template <typename Members>
TransportOptions transport_options_for(uint64_t cluster_id, NodeId self, const Members& members) {
  TransportOptions transport;
  transport.cluster_id = cluster_id;
  transport.node = self;
  transport.shard = ShardId{0};
  transport.listen_host = members.at(self).host;
  transport.listen_port = members.at(self).port;
  for (const auto& [node, endpoint] : members) {
    if (node == self) continue;
    PeerAddress peer;
    peer.node = node;
    peer.host = endpoint.host;
    peer.port = endpoint.port;
    transport.peers.push_back(peer);
  }
  return transport;
}

}  // namespace ringraft::net
