// Peer: our outbound side of the link to one peer node (the same shard index on that node).
//
// Connection roles: every node dials each peer for its own sends and accepts the peer's dial for
// what the peer sends, so one TCP connection carries one direction of Raft traffic. Nobody
// decides who dials; simultaneous opens cannot race; a restart on either side only affects the
// connection in which that side dials or accepts. The accepting side answers the handshake and
// then only reads; the dialling side only sends after the handshake.
//
// A Peer runs one task (run()): connect with a timeout, exchange handshakes, then read until the
// connection ends (the peer closes, a send fails, stop()). After a failure it waits a backoff,
// exponential in the consecutive failures with jitter, so a peer that is down costs one connect
// per backoff and no busy loop.
//
// Sending: send() frames the message into the OutputBuffer (its one copy), or begin_built() /
// commit_built() have it built there (no copy); the transport's
// before_sleep hook calls flush(), which hands everything queued during the turn to the kernel
// in one sendmsg. While a send is in flight, new frames queue behind it, up to the bound.
// On disconnect, everything queued and in flight is dropped and counted (frames_dropped): Raft
// retransmits what matters, and old messages to a peer that was gone are stale anyway.
#pragma once

#include <netinet/in.h>
#include <sys/uio.h>

#include <coroutine>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "net/connection.h"
#include "net/handshake.h"
#include "net/message_builder.h"
#include "net/output_buffer.h"
#include "net/transport_options.h"
#include "net/transport_stats.h"
#include "reactor/cancellable_op.h"

namespace ringraft::net {

enum class SendStatus : uint8_t {
  kQueued,       // framed into the peer's output; leaves this loop turn
  kFull,         // the peer's output is full; the writable handler fires when it drains
  kUnreachable,  // no connection to the peer right now (or no such peer); nothing queued
};
const char* send_status_name(SendStatus status);

using WritableHandler = std::function<void(NodeId peer)>;

class Peer;

// What the peers of one transport share; owned by the Transport.
struct PeerEnvironment {
  Io* io = nullptr;
  BufferGroup* buffers = nullptr;
  const TransportOptions* options = nullptr;
  HandshakeIdentity identity;
  TransportStats* totals = nullptr;     // closed_by_reason and inbound frame counters
  std::vector<Peer*>* dirty = nullptr;  // peers with frames to flush this turn
  const WritableHandler* on_writable = nullptr;
  std::mt19937_64* rng = nullptr;
};

class Peer {
 public:
  Peer(const PeerEnvironment& environment, const PeerAddress& address, sockaddr_in socket_address);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Connects, serves and reconnects until stop().
  Task<void> run();
  // Makes run() end soon: cancels the connect, the backoff and the connection.
  void stop();

  SendStatus send(ConstByteSpan message);
  // Building a message in place (Transport::send_built): begin_built() reserves room for a
  // FlatBuffer of up to `flatbuffer_bytes_max` and returns the builder over it (nullptr and the
  // status when the peer is unreachable or full); commit_built() frames what was built.
  flatbuffers::FlatBufferBuilder* begin_built(size_t flatbuffer_bytes_max, SendStatus* status);
  SendStatus commit_built();
  // The same, the frame's CRC taken from `known` for that part of the message (see KnownCrcSpan).
  SendStatus commit_built(const KnownCrcSpan& known);
  // Hands the frames queued this turn to the kernel (from the transport's before_sleep hook).
  void flush();

  NodeId node() const { return node_; }
  bool connected() const { return connected_; }
  bool writable() const { return connected_ && !full_reported_; }
  const PeerStats& stats() const { return stats_; }
  // The transport's inbound side counts what this peer sent us in the peer's stats.
  void count_inbound_connect() { stats_.inbound_connects++; }
  void count_inbound_frame(uint64_t frame_bytes) {
    stats_.frames_in++;
    stats_.bytes_in += frame_bytes;
  }
  const OutputBuffer& output() const { return output_; }
  void check_invariants() const;

 private:
  Task<Result<void>> connect_and_handshake();
  Task<Result<void>> await_handshake_reply();
  Task<void> serve();
  Task<void> end_connection();
  Duration next_backoff(uint32_t failures);
  void refuse(CloseReason reason, const std::string& detail);
  void mark_dirty();
  void submit_send(std::span<const iovec> segments);
  static void on_sent(Operation& op, int32_t result, uint32_t flags);

  PeerEnvironment environment_;
  const NodeId node_;
  const std::string host_;
  const sockaddr_in socket_address_;
  const std::vector<std::byte> handshake_frame_;
  FrameLimits reply_limits_;  // outbound connections only ever receive the handshake reply
  CancellableOp wait_op_;     // the connect or the backoff sleep
  std::optional<Connection> connection_;
  OutputBuffer output_;
  InPlaceBuilder in_place_;
  Operation send_op_;
  msghdr send_message_{};
  std::coroutine_handle<> send_waiter_;  // end_connection() waiting for the send to finish
  bool connected_ = false;
  bool stopping_ = false;
  bool send_failed_ = false;
  bool full_reported_ = false;  // a send() got kFull since the last drain
  bool dirty_ = false;
  PeerStats stats_;
};

}  // namespace ringraft::net
