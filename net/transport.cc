#include "net/transport.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "reactor/ops.h"

namespace ringraft::net {

// One accepted connection, from accept to close; lives in serve_inbound's frame.
struct Transport::Inbound {
  Connection* connection = nullptr;
  Peer* peer = nullptr;  // set once the handshake passed
  bool replaced = false;
};

Result<std::unique_ptr<Transport>> Transport::create(Shard& shard, TransportOptions options,
                                                     MessageHandler on_message) {
  if (Result<void> valid = options.validate(); !valid.ok()) return valid.error();
  RR_ASSERT_MSG(on_message != nullptr, "a transport needs a message handler");
  std::unique_ptr<Transport> transport(
      new Transport(shard, std::move(options), std::move(on_message)));
  auto buffers = shard.io().create_buffer_group(transport->options_.recv_buffer_count,
                                                transport->options_.recv_buffer_bytes);
  if (!buffers.ok()) return buffers.error();
  transport->buffers_ = std::move(buffers.value());

  const PeerEnvironment environment = transport->peer_environment();
  for (const PeerAddress& address : transport->options_.peers) {
    Result<sockaddr_in> socket_address = ipv4_address(address.host, address.port);
    RR_ASSERT(socket_address.ok());  // validate() checked it
    transport->peers_.push_back(
        std::make_unique<Peer>(environment, address, socket_address.value()));
    transport->peer_nodes_.push_back(address.node);
  }
  // Sized once, so marking a peer dirty never allocates.
  transport->dirty_.reserve(transport->peers_.size());
  transport->flushing_.reserve(transport->peers_.size());
  transport->inbound_.reserve(transport->options_.inbound_connections_max);
  return transport;
}

PeerEnvironment Transport::peer_environment() {
  PeerEnvironment environment;
  environment.io = &shard_.io();
  environment.buffers = buffers_.get();
  environment.options = &options_;
  environment.identity.cluster_id = options_.cluster_id;
  environment.identity.node = options_.node;
  environment.identity.shard = options_.shard;
  environment.totals = &totals_;
  environment.dirty = &dirty_;
  environment.on_writable = &on_writable_;
  environment.rng = &rng_;
  return environment;
}

Result<void> Transport::add_peer(const PeerAddress& address) {
  if (stopping_) return Error(ErrorCode::kClosed, "add_peer: the transport is stopping");
  if (address.node == options_.node || address.node.value() == 0) {
    return Error(ErrorCode::kInvalidInput,
                 "add_peer: node " + std::to_string(address.node.value()) + " cannot be a peer");
  }
  Result<sockaddr_in> socket_address = ipv4_address(address.host, address.port);
  if (!socket_address.ok()) return socket_address.error();
  const std::vector<PeerAddress>& added = added_peers_;
  for (const std::vector<PeerAddress>* known : {&options_.peers, &added}) {
    for (const PeerAddress& same : *known) {
      if (same.node != address.node) continue;
      if (same.host == address.host && same.port == address.port) return {};
      return Error(ErrorCode::kInvalidInput,
                   "add_peer: node " + std::to_string(address.node.value()) +
                       " is already a peer at " + same.host + ":" + std::to_string(same.port));
    }
  }
  // Outside flush(): growing the dirty lists here keeps "marking a peer dirty never allocates".
  peers_.push_back(std::make_unique<Peer>(peer_environment(), address, socket_address.value()));
  peer_nodes_.push_back(address.node);
  added_peers_.push_back(address);
  dirty_.reserve(peers_.size());
  flushing_.reserve(peers_.size());
  if (started_) spawn(peers_.back()->run());
  RR_LOG_INFO("net: node {} shard {} added peer {} at {}:{}", options_.node.value(),
              options_.shard.value(), address.node.value(), address.host, address.port);
  return {};
}

Transport::Transport(Shard& shard, TransportOptions options, MessageHandler on_message)
    : shard_(shard),
      options_(std::move(options)),
      on_message_(std::move(on_message)),
      rng_(options_.jitter_seed != 0 ? options_.jitter_seed
                                     : options_.node.value() * 1000003 + options_.shard.value()) {}

Transport::~Transport() {
  // A reactor that stops first destroys the suspended tasks itself (a failed test, a crash
  // path); any other way out needs stop().
  RR_ASSERT_MSG(live_tasks_ == 0 || shard_.stopping(),
                "Transport destroyed while running: co_await stop() first");
  if (hook_) shard_.remove_before_sleep(*hook_);
}

Task<Result<void>> Transport::start() {
  RR_ASSERT_MSG(!started_, "Transport::start() called twice");
  started_ = true;
  Result<sockaddr_in> address = ipv4_address(options_.listen_host, options_.listen_port);
  if (!address.ok()) co_return address.error();
  Result<FileDescriptor> listener = listen_tcp(address.value());
  if (!listener.ok()) co_return listener.error();
  Result<uint16_t> port = local_port(listener.value().get());
  if (!port.ok()) co_return port.error();
  listen_fd_ = std::move(listener.value());
  listen_port_ = port.value();
  acceptor_ = std::make_unique<AcceptStream>(shard_.io(), listen_fd_.get());
  hook_ = shard_.add_before_sleep([this] { flush(); });
  spawn(accept_loop());
  for (const std::unique_ptr<Peer>& peer : peers_) spawn(peer->run());
  RR_LOG_INFO("net: node {} shard {} listening on {}:{}, {} peers", options_.node.value(),
              options_.shard.value(), options_.listen_host, listen_port_, peers_.size());
  co_return Result<void>();
}

void Transport::spawn(Task<void> task) {
  live_tasks_++;
  shard_.spawn(tracked(std::move(task)));
}

Task<void> Transport::tracked(Task<void> task) {
  co_await std::move(task);
  RR_ASSERT(live_tasks_ > 0);
  if (--live_tasks_ == 0 && stop_waiter_) std::exchange(stop_waiter_, {}).resume();
}

Task<void> Transport::stop() {
  RR_ASSERT_MSG(!stopping_, "Transport::stop() called twice");
  stopping_ = true;
  if (acceptor_) acceptor_->cancel();
  for (const std::unique_ptr<Peer>& peer : peers_) peer->stop();
  for (Inbound* inbound : inbound_) inbound->connection->cancel();
  if (live_tasks_ > 0) {
    struct TasksEnded {
      Transport& transport;
      bool await_ready() const noexcept { return transport.live_tasks_ == 0; }
      void await_suspend(std::coroutine_handle<> waiter) { transport.stop_waiter_ = waiter; }
      void await_resume() const noexcept {}
    };
    co_await TasksEnded{*this};
  }
  if (hook_) shard_.remove_before_sleep(*std::exchange(hook_, std::nullopt));
  acceptor_.reset();
  listen_fd_.reset();
  RR_ASSERT(inbound_.empty());
}

Task<void> Transport::accept_loop() {
  while (!stopping_) {
    const IoResult accepted = co_await acceptor_->next();
    if (!accepted.ok()) {
      if (accepted.value == -ECANCELED) break;
      // EMFILE, ENFILE, ENOMEM: the stream re-arms on the next call; say so once per error.
      RR_LOG_WARN("net: node {} shard {}: accept failed: {}", options_.node.value(),
                  options_.shard.value(), accepted.message());
      continue;
    }
    FileDescriptor fd(accepted.value);
    totals_.inbound_accepted++;
    if (inbound_.size() >= options_.inbound_connections_max) {
      RR_LOG_WARN("net: node {} shard {}: {} inbound connections open, closing a new one",
                  options_.node.value(), options_.shard.value(), inbound_.size());
      continue;
    }
    (void)set_tcp_nodelay(fd.get());  // only replies (the handshake) go this way
    spawn(serve_inbound(std::move(fd)));
  }
  co_await acceptor_->stop();
}

Task<void> Transport::serve_inbound(FileDescriptor fd) {
  Connection connection(shard_.io(), std::move(fd), *buffers_, options_.limits, &totals_.frames,
                        options_.direct_receive_bytes_min);
  Inbound inbound;
  inbound.connection = &connection;
  inbound_.push_back(&inbound);
  if (stopping_) connection.cancel();
  connection.arm_deadline(std::chrono::milliseconds(options_.handshake_timeout_ms));
  std::optional<CloseReason> closed = co_await receive_handshake(inbound);
  connection.disarm_deadline();
  if (!closed) {
    const std::vector<std::byte> reply =
        encode_handshake(HandshakeIdentity{options_.cluster_id, options_.node, options_.shard},
                         inbound.peer->node());
    std::vector<std::byte> frame(frame_bytes(reply.size()));
    RR_ASSERT(encode_frame(reply, frame) == frame.size());
    const IoResult sent = co_await ops::send_all(shard_.io(), connection.fd(), frame);
    if (!sent.ok()) {
      closed = CloseReason::kSendFailed;
      if (!stopping_) count_close(inbound, CloseReason::kSendFailed, sent.message());
    }
  }
  // Each step counts and logs its own reason for closing.
  if (!closed) {
    adopt_inbound(inbound);
    closed = co_await receive_messages(inbound);
  }
  inbound_.erase(std::find(inbound_.begin(), inbound_.end(), &inbound));
  co_await connection.close();
}

Task<std::optional<CloseReason>> Transport::receive_handshake(Inbound& inbound) {
  Connection& connection = *inbound.connection;
  const HandshakeIdentity us{options_.cluster_id, options_.node, options_.shard};
  while (true) {
    Result<std::optional<DecodedFrame>> frame = connection.poll_frame();
    if (!frame.ok()) {
      if (!stopping_) count_close(inbound, CloseReason::kBadFrame, frame.error().context());
      co_return CloseReason::kBadFrame;
    }
    if (frame.value().has_value()) {
      const HandshakeOutcome outcome = check_handshake(*frame.value()->message, us, peer_nodes_);
      if (outcome.refused) {
        count_close(inbound, *outcome.refused, fmt::format("value {}", outcome.detail));
        co_return outcome.refused;
      }
      inbound.peer = find_peer(outcome.peer);
      RR_ASSERT(inbound.peer != nullptr);
      co_return std::nullopt;
    }
    Result<void> received = co_await connection.receive();
    if (!received.ok()) {
      const CloseReason reason = connection.failure()     ? CloseReason::kBadFrame
                                 : connection.timed_out() ? CloseReason::kHandshakeTimeout
                                                          : CloseReason::kClosedByPeer;
      if (!stopping_) count_close(inbound, reason, received.error().context());
      co_return reason;
    }
  }
}

// A peer that restarted dials again while its old connection may still look open to us (no FIN
// seen yet): the newer one wins, so at most one inbound connection per peer stays open.
void Transport::adopt_inbound(Inbound& inbound) {
  for (Inbound* other : inbound_) {
    if (other != &inbound && other->peer == inbound.peer && !other->replaced) {
      other->replaced = true;
      other->connection->cancel();
    }
  }
  inbound.peer->count_inbound_connect();
}

Task<CloseReason> Transport::receive_messages(Inbound& inbound) {
  Connection& connection = *inbound.connection;
  const uint64_t peer_node = inbound.peer->node().value();
  Peer& peer = *inbound.peer;
  while (true) {
    Result<std::optional<DecodedFrame>> frame = connection.poll_frame();
    if (!frame.ok()) {
      if (!stopping_) count_close(inbound, CloseReason::kBadFrame, frame.error().context());
      co_return CloseReason::kBadFrame;
    }
    if (frame.value().has_value()) {
      const wire::Message& message = *frame.value()->message;
      if (message.from() != peer_node || message.to() != options_.node.value()) {
        const CloseReason reason = message.from() != peer_node ? CloseReason::kWrongSender
                                                               : CloseReason::kWrongDestination;
        count_close(inbound, reason, fmt::format("from {} to {}", message.from(), message.to()));
        co_return reason;
      }
      peer.count_inbound_frame(frame_bytes(frame.value()->flatbuffer.size()));
      on_message_(peer.node(), message);
      continue;
    }
    Result<void> received = co_await connection.receive();
    if (!received.ok()) {
      const CloseReason reason = connection.failure() ? CloseReason::kBadFrame
                                 : inbound.replaced   ? CloseReason::kReplaced
                                                      : CloseReason::kClosedByPeer;
      if (!stopping_) count_close(inbound, reason, received.error().context());
      co_return reason;
    }
  }
}

void Transport::count_close(const Inbound& inbound, CloseReason reason, const std::string& detail) {
  totals_.closed_by_reason[static_cast<size_t>(reason)]++;
  const uint64_t peer = inbound.peer != nullptr ? inbound.peer->node().value() : 0;
  if (reason == CloseReason::kClosedByPeer || reason == CloseReason::kReplaced) {
    RR_LOG_INFO("net: node {} shard {}: inbound connection from node {} closed: {}",
                options_.node.value(), options_.shard.value(), peer, close_reason_name(reason));
    return;
  }
  RR_LOG_WARN("net: node {} shard {}: inbound connection (fd {}, node {}) refused: {} ({})",
              options_.node.value(), options_.shard.value(), inbound.connection->fd(), peer,
              close_reason_name(reason), detail);
}

Peer* Transport::find_peer(NodeId node) const {
  for (const std::unique_ptr<Peer>& peer : peers_) {
    if (peer->node() == node) return peer.get();
  }
  return nullptr;
}

Peer* Transport::peer_for_send(NodeId node) const {
  RR_ASSERT_MSG(Shard::current() == &shard_, "Transport::send from another shard's thread");
  return stopping_ ? nullptr : find_peer(node);
}

SendStatus Transport::send(NodeId node, ConstByteSpan message) {
  Peer* peer = peer_for_send(node);
  if (peer == nullptr) return SendStatus::kUnreachable;
  return peer->send(message);
}

bool Transport::writable(NodeId node) const {
  const Peer* peer = find_peer(node);
  return peer != nullptr && !stopping_ && peer->writable();
}

void Transport::flush() {
  // A writable handler called from Peer::flush may queue frames to peers already flushed this
  // turn; they go out now, not after the loop's next wake-up. Each round either submits a
  // peer's send (after which that peer returns at once until it completes) or finds nothing,
  // so peers + 1 rounds bound the loop.
  for (size_t round = 0; round <= peers_.size() && !dirty_.empty(); round++) {
    flushing_.swap(dirty_);
    for (Peer* peer : flushing_) peer->flush();
    flushing_.clear();
  }
}

TransportStats Transport::stats() const {
  TransportStats stats = totals_;
  stats.peers.reserve(peers_.size());
  for (const std::unique_ptr<Peer>& peer : peers_) stats.peers.push_back(peer->stats());
  return stats;
}

void Transport::check_invariants() const {
  RR_ASSERT(dirty_.size() <= peers_.size());
  RR_ASSERT(inbound_.size() <= options_.inbound_connections_max);
  for (const std::unique_ptr<Peer>& peer : peers_) peer->check_invariants();
}

}  // namespace ringraft::net
