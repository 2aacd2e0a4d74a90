// Transport: the peer links of one shard of a node.
//
//   auto transport = Transport::create(shard, options, [&](NodeId from, const wire::Message& m) {
//     ... m is verified; valid only during the call ...
//   }).value();
//   co_await transport->start();                    // listens; dials every peer in the background
//   transport->send(peer, finished_message_bytes);  // kQueued | kFull | kUnreachable
//   co_await transport->stop();                     // closes everything; no task left behind
//
// Shard i of a node listens on its own port and connects to shard i of each peer, so Raft
// traffic never crosses shards. Each node dials every peer for its own sends and accepts the
// peers' dials for receiving (see peer.h for why). Everything runs on the owning shard's thread:
// the handlers are called there, and send() must be called there.
//
// Data flow. Out: send_built() builds the wire::Message in the peer's bounded output buffer (no
// copy), send() frames a finished one into it (one copy); a before_sleep hook flushes every peer
// that got frames this turn, one sendmsg per peer. In: multishot recv over a shared
// provided-buffer group -> the connection's FrameDecoder (bounds, CRC, verifier; in place when
// the frame lies in one buffer) -> the sender's `from` is checked against its handshake ->
// handler.
//
// Bounds: per peer 2 x peer_output_bytes_max of output; per connection one decoder buffer of
// frame_bytes_max (outbound connections: 1 KiB); recv_buffer_count x recv_buffer_bytes shared;
// at most inbound_connections_max inbound connections (more are closed at once and counted).
#pragma once

#include <coroutine>
#include <functional>
#include <memory>
#include <random>
#include <type_traits>
#include <vector>

#include "net/peer.h"
#include "net/transport_options.h"
#include "net/transport_stats.h"
#include "reactor/accept_stream.h"
#include "reactor/shard.h"

namespace ringraft::net {

// Called for every verified inbound message, on the shard's thread. `message` is valid only
// during the call. It may call send(); it must not call stop().
using MessageHandler = std::function<void(NodeId from, const wire::Message& message)>;

class Transport {
 public:
  static Result<std::unique_ptr<Transport>> create(Shard& shard, TransportOptions options,
                                                   MessageHandler on_message);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Binds the listener and starts accepting and dialling. An error if the address is taken.
  Task<Result<void>> start();
  // The port we listen on (the ephemeral one when listen_port was 0); valid after start().
  uint16_t listen_port() const { return listen_port_; }

  // Queues a finished wire::Message for `peer`; see SendStatus. `message` is copied.
  SendStatus send(NodeId peer, ConstByteSpan message);
  // Submits what is queued now instead of at this transport's before_sleep hook: for a caller
  // whose own hook runs after ours (registered later), whose sends would otherwise wait for
  // the loop's next wake-up (a timer, another completion).
  void flush_now() { flush(); }
  // Builds a wire::Message straight into `peer`'s output buffer, so it is never copied:
  // `build(flatbuffers::FlatBufferBuilder&)` runs only when there is room for a FlatBuffer of
  // `flatbuffer_bytes_max` (else kFull or kUnreachable, as send()) and must build a whole
  // Message: begin_message(builder) ... finish_message(builder, from, to, body). A message
  // larger than its bound still goes (copied once; PeerStats::builds_outgrown) if it fits.
  // `build` must not send to any peer itself. `build` may return a KnownCrcSpan
  // (net/output_buffer.h): the part of the Message it already has the CRC32C of (an entry
  // block with the WAL's CRC, written with CreateUninitializedVector + memcpy); the frame's CRC
  // then reads only the rest of the message.
  template <class BuildMessage>
  SendStatus send_built(NodeId peer, size_t flatbuffer_bytes_max, BuildMessage&& build);
  // True when `peer` is connected and its output has not refused a send since it last drained.
  bool writable(NodeId peer) const;
  // Called when a peer becomes writable: after it connects, and when output that refused a
  // send (kFull) has drained into the kernel.
  void set_writable_handler(WritableHandler on_writable) { on_writable_ = std::move(on_writable); }

  // Closes the listener and every connection, and waits until every task of the transport has
  // ended. Queued output is dropped (counted). Call once, after start().
  Task<void> stop();

  // Adds a peer at run time (a node joining the cluster): dialled at once when started, and
  // accepted from then on. The same node at the same address again is a no-op; at another
  // address, kInvalidInput. TransportOptions::peers keeps the peers given at creation only.
  Result<void> add_peer(const PeerAddress& address);

  TransportStats stats() const;
  const TransportOptions& options() const { return options_; }
  void check_invariants() const;

 private:
  struct Inbound;
  Transport(Shard& shard, TransportOptions options, MessageHandler on_message);
  void spawn(Task<void> task);
  Task<void> tracked(Task<void> task);
  Task<void> accept_loop();
  Task<void> serve_inbound(FileDescriptor fd);
  Task<std::optional<CloseReason>> receive_handshake(Inbound& inbound);
  Task<CloseReason> receive_messages(Inbound& inbound);
  void adopt_inbound(Inbound& inbound);
  void count_close(const Inbound& inbound, CloseReason reason, const std::string& detail);
  PeerEnvironment peer_environment();
  Peer* find_peer(NodeId node) const;
  Peer* peer_for_send(NodeId node) const;
  void flush();

  Shard& shard_;
  const TransportOptions options_;
  MessageHandler on_message_;
  WritableHandler on_writable_;
  std::unique_ptr<BufferGroup> buffers_;
  std::mt19937_64 rng_;
  TransportStats totals_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<NodeId> peer_nodes_;
  std::vector<PeerAddress> added_peers_;  // by add_peer(), after those of options_
  std::vector<Peer*> dirty_;              // peers that got frames this turn
  std::vector<Peer*> flushing_;           // the list being flushed (swapped with dirty_)
  std::vector<Inbound*> inbound_;
  FileDescriptor listen_fd_;
  uint16_t listen_port_ = 0;
  std::unique_ptr<AcceptStream> acceptor_;
  std::optional<Shard::HookId> hook_;
  uint32_t live_tasks_ = 0;
  std::coroutine_handle<> stop_waiter_;
  bool started_ = false;
  bool stopping_ = false;
};

template <class BuildMessage>
SendStatus Transport::send_built(NodeId node, size_t flatbuffer_bytes_max, BuildMessage&& build) {
  Peer* peer = peer_for_send(node);
  if (peer == nullptr) return SendStatus::kUnreachable;
  SendStatus status = SendStatus::kQueued;
  flatbuffers::FlatBufferBuilder* builder = peer->begin_built(flatbuffer_bytes_max, &status);
  if (builder == nullptr) return status;
  if constexpr (std::is_same_v<std::invoke_result_t<BuildMessage&, flatbuffers::FlatBufferBuilder&>,
                               KnownCrcSpan>) {
    const KnownCrcSpan known = build(*builder);
    return peer->commit_built(known);
  } else {
    build(*builder);
    return peer->commit_built();
  }
}

}  // namespace ringraft::net
