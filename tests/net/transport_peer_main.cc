// A transport in a process of its own, for the two-process test: node <node> listening on
// <port>, with one peer <peer_node> at <peer_port>. It answers every AppendEntries with an
// AppendResponse (match = prev_log_index + entry_count) and exits 0 after a TimeoutNow, or 3
// after 30 s (so a failed test never leaves it behind).
//
// Usage: net_transport_peer <node> <port> <peer_node> <peer_port>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "net/transport.h"
#include "reactor/ops.h"
#include "reactor/reactor.h"

namespace ringraft::net {
namespace {

struct Args {
  uint64_t node = 0;
  uint16_t port = 0;
  uint64_t peer_node = 0;
  uint16_t peer_port = 0;
};

Task<int> serve(Shard& shard, const Args& args) {
  TransportOptions options;
  options.cluster_id = 0xC1A55;
  options.node = NodeId(args.node);
  options.listen_port = args.port;
  PeerAddress peer;
  peer.node = NodeId(args.peer_node);
  peer.host = "127.0.0.1";
  peer.port = args.peer_port;
  options.peers.push_back(peer);
  options.limits.frame_bytes_max = 64u << 10;
  options.peer_output_bytes_max = 256u << 10;
  options.reconnect_backoff_min_ms = 5;
  options.reconnect_backoff_max_ms = 50;

  bool done = false;
  uint64_t refused = 0;
  std::unique_ptr<Transport> transport;
  flatbuffers::FlatBufferBuilder builder(256);
  auto on_message = [&](NodeId from, const wire::Message& message) {
    if (message.body_type() == wire::Body::TimeoutNow) done = true;
    const wire::AppendEntries* append = message.body_as_AppendEntries();
    if (append == nullptr) return;
    begin_message(builder);
    finish_message(
        builder, args.node, from.value(),
        wire::CreateAppendResponse(builder, append->group(), append->term(), false,
                                   append->prev_log_index() + append->entry_count(), 0, 0));
    const ConstByteSpan reply(reinterpret_cast<const std::byte*>(builder.GetBufferPointer()),
                              builder.GetSize());
    if (transport->send(from, reply) != SendStatus::kQueued) refused++;
  };
  auto created = Transport::create(shard, options, on_message);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.error().message().c_str());
    co_return 2;
  }
  transport = std::move(created.value());
  if (Result<void> started = co_await transport->start(); !started.ok()) {
    std::fprintf(stderr, "%s\n", started.error().message().c_str());
    co_return 2;
  }
  const MonoTime deadline = shard.io().now() + std::chrono::seconds(30);
  while (!done && shard.io().now() < deadline) {
    (void)co_await ops::sleep_for(shard.io(), std::chrono::milliseconds(2));
  }
  co_await transport->stop();
  co_return !done ? 3 : refused == 0 ? 0 : 4;
}

}  // namespace
}  // namespace ringraft::net

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <node> <port> <peer_node> <peer_port>\n", argv[0]);
    return 2;
  }
  ringraft::net::Args args;
  args.node = std::strtoull(argv[1], nullptr, 10);
  args.port = static_cast<uint16_t>(std::strtoul(argv[2], nullptr, 10));
  args.peer_node = std::strtoull(argv[3], nullptr, 10);
  args.peer_port = static_cast<uint16_t>(std::strtoul(argv[4], nullptr, 10));
  ringraft::ReactorConfig config;
  config.pin_threads = false;
  ringraft::Reactor reactor(config);
  int exit_code = 1;
  const ringraft::Result<void> ran =
      reactor.run([&](ringraft::Shard& shard) -> ringraft::Task<void> {
        exit_code = co_await ringraft::net::serve(shard, args);
        shard.reactor().stop();
      });
  if (!ran.ok()) {
    std::fprintf(stderr, "%s\n", ran.error().message().c_str());
    return 2;
  }
  return exit_code;
}
