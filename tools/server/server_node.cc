// One `ringraft server` node on a shard (see server_node.h).
#include "tools/server/server_node.h"

#include <filesystem>
#include <memory>

#include "common/assert.h"
#include "common/log.h"
#include "raft/replica/shard_engine.h"
#include "raft/replica/transport_bus.h"
#include "tools/server/replicated_kv.h"
#include "tools/server/resp_server.h"

namespace ringraft::server {
namespace {

constexpr uint32_t kFsyncsInFlight = 4;

net::TransportOptions transport_options(const ServerOptions& options) {
  net::TransportOptions transport;
  transport.cluster_id = cluster_id_number(options.cluster_id);
  transport.node = options.id;
  transport.shard = ShardId{0};
  transport.listen_host = options.raft_endpoint().host;
  transport.listen_port = options.raft_endpoint().port;
  for (const auto& [node, endpoint] : options.peers) {
    if (node == options.id) continue;
    net::PeerAddress peer;
    peer.node = node;
    peer.host = endpoint.host;
    peer.port = endpoint.port;
    transport.peers.push_back(peer);
  }
  return transport;
}

replica::EngineOptions engine_options(const ServerOptions& options) {
  replica::EngineOptions engine;
  engine.node = options.id;
  for (const auto& [node, endpoint] : options.peers) engine.voters.push_back(node);
  engine.groups = {kServerGroup};
  engine.wal.directory = (std::filesystem::path(options.data_dir) / "wal").string();
  if (!options.fsync) engine.wal.sync_mode = wal::SyncMode::kNone;
  // Overlapping write+fdatasync pairs: a batch formed while the previous flush is in flight
  // leaves at once instead of waiting a whole flush (recovery knows the bound: wal/recovery.h).
  engine.wal.fsyncs_in_flight_max = kFsyncsInFlight;
  // Different nodes draw different election timeouts; the core mixes in the group.
  engine.raft.seed = options.id.value() * 0x9E3779B97F4A7C15ULL;
  // Followers wait 500-1000 ms before campaigning (10 ms ticks): a loaded machine (a shared
  // 2-core VM, a benchmark beside the nodes) delays a leader's turn by tens of milliseconds,
  // and an election costs more than a late heartbeat. Heartbeats stay at every tick.
  engine.raft.election_ticks = 50;
  // A client pipelining hard waits for a slot rather than seeing errors.
  engine.when_full = replica::WhenFull::kWait;
  engine.snapshot_entries = options.snapshot_entries;
  return engine;
}

std::map<NodeId, std::string> client_addresses(const ServerOptions& options) {
  std::map<NodeId, std::string> addresses;
  for (const auto& [node, endpoint] : options.clients) addresses.emplace(node, endpoint.text());
  return addresses;
}

Task<void> serve_until_stopped(RespServer& server, int listen_fd, Latch& served) {
  const Result<void> result = co_await server.serve(listen_fd);
  if (!result.ok()) RR_LOG_WARN("RESP server ended: {}", result.error().message());
  served.count_down();
}

}  // namespace

Task<Result<void>> run_server_node(Shard& shard, const ServerOptions& options, int resp_listen_fd,
                                   Latch& stop_requested, std::function<void()> on_serving) {
  auto created = replica::TransportBus::create(shard, transport_options(options));
  if (!created.ok()) co_return created.error();
  replica::TransportBus& bus = *created.value();
  if (Result<void> started = co_await bus.start(); !started.ok()) {
    co_return Error(started.error().code(),
                    "raft port " + options.raft_endpoint().text() + " (--peers entry of node " +
                        std::to_string(options.id.value()) + "): " + started.error().message(),
                    started.error().errno_value());
  }
  const replica::EngineOptions engine_config = engine_options(options);
  std::error_code made;
  std::filesystem::create_directories(engine_config.wal.directory, made);
  if (made) {
    co_await bus.stop();
    co_return Error::from_errno(made.value(),
                                "cannot create the WAL directory " + engine_config.wal.directory);
  }
  KvGroupMachine machine;
  auto opened = co_await replica::ShardEngine::open(shard, engine_config, bus, machine);
  if (!opened.ok()) {
    co_await bus.stop();
    co_return opened.error();
  }
  replica::ShardEngine& engine = *opened.value();
  bus.attach(engine);
  ReplicatedKv backend(engine, kServerGroup, machine, client_addresses(options));
  backend.set_read_mode(options.reads);
  LeaderForwarder forwarder(shard, options.clients);
  if (!options.redirect) backend.set_forwarder(&forwarder);
  RespServer server(shard, backend, RespServerConfig{});
  Latch served(1);
  shard.spawn(serve_until_stopped(server, resp_listen_fd, served));
  on_serving();

  co_await stop_requested.wait();
  // Connections may wait on the leader (forwarded writes) or on the engine (proposals, read
  // barriers): end those first so that every connection can finish.
  server.stop();
  co_await forwarder.stop();
  co_await bus.stop();
  const Result<void> closed = co_await engine.close();
  co_await served.wait();
  bus.detach();
  co_return closed;
}

}  // namespace ringraft::server
