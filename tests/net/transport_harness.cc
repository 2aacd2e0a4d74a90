#include "tests/net/transport_harness.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>

#include "reactor/ops.h"
#include "reactor/socket.h"
#include "tests/net/wire_samples.h"

namespace ringraft::net::testing {

uint16_t free_port() {
  FileDescriptor listener = listen_tcp(ipv4_address("127.0.0.1", 0).value()).value();
  return local_port(listener.get()).value();
}

PeerAddress loopback_peer(uint64_t node, uint16_t port) {
  PeerAddress peer;
  peer.node = NodeId(node);
  peer.host = "127.0.0.1";
  peer.port = port;
  return peer;
}

TransportOptions loopback_options(uint64_t node, uint16_t port, std::vector<PeerAddress> peers) {
  TransportOptions options;
  options.cluster_id = kClusterId;
  options.node = NodeId(node);
  options.shard = ShardId(0);
  options.listen_host = "127.0.0.1";
  options.listen_port = port;
  options.peers = std::move(peers);
  options.limits.frame_bytes_max = 64u << 10;
  options.peer_output_bytes_max = 256u << 10;
  options.reconnect_backoff_min_ms = 5;
  options.reconnect_backoff_max_ms = 50;
  options.handshake_timeout_ms = 2000;
  options.recv_buffer_count = 16;
  options.recv_buffer_bytes = 16u << 10;
  return options;
}

void Inbox::record(NodeId from, const wire::Message& message) {
  Received received;
  received.from = from;
  received.body_type = message.body_type();
  received.digest = read_every_field(message);
  messages_.push_back(received);
}

Task<bool> wait_until(Shard& shard, std::function<bool()> condition,
                      std::chrono::milliseconds limit, std::chrono::milliseconds poll) {
  const MonoTime deadline = shard.io().now() + limit;
  while (!condition()) {
    if (shard.io().now() >= deadline) co_return false;
    const IoResult slept = co_await ops::sleep_for(shard.io(), poll);
    if (!slept.ok()) co_return false;
  }
  co_return true;
}

Task<bool> send_raw_and_expect_close(Shard& shard, uint16_t port, std::vector<std::byte> bytes,
                                     bool close_after_send, std::chrono::milliseconds limit) {
  Io& io = shard.io();
  FileDescriptor fd = tcp_socket().value();
  const sockaddr_in address = ipv4_address("127.0.0.1", port).value();
  const IoResult connected = co_await ops::connect(
      io, fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  if (!connected.ok()) co_return false;
  if (!bytes.empty()) {
    const IoResult sent = co_await ops::send_all(io, fd.get(), bytes);
    if (!sent.ok()) co_return true;  // already reset by the server
  }
  if (close_after_send) ::shutdown(fd.get(), SHUT_WR);
  std::vector<std::byte> sink(4096);
  while (true) {
    const IoResult got = co_await ops::recv(io, fd.get(), sink).with_timeout(limit);
    if (got.value == -ECANCELED) co_return false;  // the server kept it open
    if (got.value <= 0) co_return true;            // EOF or reset
    // The server may answer a valid handshake before it refuses what follows: keep reading.
  }
}

Task<FileDescriptor> accept_and_answer_handshake(Shard& shard, int listen_fd, uint64_t as_node,
                                                 uint64_t to_node, uint64_t cluster_id) {
  Io& io = shard.io();
  const IoResult accepted = co_await ops::accept(io, listen_fd);
  if (!accepted.ok()) co_return FileDescriptor();
  FileDescriptor fd(accepted.value);
  // Read exactly one frame: the header says how long it is.
  std::vector<std::byte> header(kFrameHeaderBytes);
  if ((co_await ops::recv(io, fd.get(), header, MSG_WAITALL)).bytes() != header.size()) {
    co_return FileDescriptor();
  }
  uint32_t length_bytes = 0;
  std::memcpy(&length_bytes, header.data(), sizeof(length_bytes));
  std::vector<std::byte> body(length_bytes);
  if ((co_await ops::recv(io, fd.get(), body, MSG_WAITALL)).bytes() != body.size()) {
    co_return FileDescriptor();
  }
  const auto reply =
      frame_of(handshake_message(cluster_id, as_node, to_node, 0, kWireProtocolVersion));
  if (!(co_await ops::send_all(io, fd.get(), reply)).ok()) co_return FileDescriptor();
  co_return fd;
}

std::vector<std::byte> handshake_message(uint64_t cluster_id, uint64_t from, uint64_t to,
                                         uint32_t shard, uint32_t version) {
  flatbuffers::FlatBufferBuilder builder(256);
  begin_message(builder);
  const auto body = wire::CreateHandshake(builder, cluster_id, from, shard, version);
  finish_message(builder, from, to, body);
  return builder_bytes(builder);
}

}  // namespace ringraft::net::testing
