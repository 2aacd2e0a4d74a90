// One `ringraft server` node on a shard (see server_node.h).
#include "tools/server/server_node.h"

#include <filesystem>
#include <memory>

#include "common/assert.h"
#include "common/log.h"
#include "raft/replica/shard_engine.h"
#include "raft/replica/transport_bus.h"
#include "tools/server/admin_commands.h"
#include "tools/server/admin_http_server.h"
#include "tools/server/node_metrics.h"
#include "tools/server/replicated_kv.h"
#include "tools/server/resp_server.h"

namespace ringraft::server {
namespace {

constexpr uint32_t kFsyncsInFlightOfOlderServers = 4;

net::TransportOptions transport_options(const ServerOptions& options) {
  return net::transport_options_for(cluster_id_number(options.cluster_id), options.id,
                                    options.peers);
}

replica::EngineOptions engine_options(const ServerOptions& options) {
  replica::EngineOptions engine;
  engine.node = options.id;
  for (const auto& [node, endpoint] : options.peers) {
    // A joining node starts as a learner of the others and waits for RINGRAFT.ADDNODE.
    if (options.join && node == options.id) continue;
    engine.voters.push_back(node);
  }
  if (options.join) engine.learners.push_back(options.id);
  engine.groups = {kServerGroup};
  engine.wal.directory = (std::filesystem::path(options.data_dir) / "wal").string();
  // O_DIRECT where the filesystem takes it (the page cache elsewhere, e.g. tmpfs, with a
  // warning); with O_DSYNC each write is durable when it completes: no fdatasync to link.
  if (options.wal_io != WalIo::kBuffered) engine.wal.direct_io = wal::DirectIo::kPreferred;
  if (options.wal_io == WalIo::kDirectDsync) engine.wal.sync_mode = wal::SyncMode::kDsyncWrites;
  if (!options.fsync) engine.wal.sync_mode = wal::SyncMode::kNone;
  engine.wal.segment_bytes = options.wal_segment_mib << 20;
  // Overlapping write+fdatasync pairs: a batch formed while the previous flush is in flight
  // leaves at once instead of waiting a whole flush (recovery knows the bound: wal/recovery.h).
  engine.wal.fsyncs_in_flight_max = options.fsyncs_in_flight;
  // Servers wrote their WALs with 4 in flight before --fsyncs-in-flight (default 1) existed.
  engine.wal.recovery_fsyncs_in_flight_max = kFsyncsInFlightOfOlderServers;
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

Task<void> serve_admin_until_stopped(AdminHttpServer& server, int listen_fd, Latch& served) {
  const Result<void> result = co_await server.serve(listen_fd);
  if (!result.ok()) RR_LOG_WARN("admin port ended: {}", result.error().message());
  served.count_down();
}

Task<void> sample_until_stopped(MetricsSampler& sampler, Latch& sampled) {
  co_await sampler.run();
  sampled.count_down();
}

}  // namespace

Task<Result<void>> run_server_node(Shard& shard, const ServerOptions& options, int resp_listen_fd,
                                   Latch& stop_requested, std::function<void()> on_serving,
                                   int admin_listen_fd) {
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
  // Members added at run time: their addresses come through the log (admin_commands.h), and
  // opening the engine applies the log, so this listens from the start.
  MemberAddresses members(options.id, bus);
  machine.set_member_listener(
      [&members](std::string_view id, std::string_view value) { members.on_member(id, value); });
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
  members.attach(&backend, &forwarder);
  AdminCommands admin_commands(engine, kServerGroup, backend);
  RespServer server(shard, backend, RespServerConfig{});
  server.set_admin_handler(&admin_commands);
  MetricsSampler sampler(engine, kServerGroup, bus, server);
  server.set_latency_histogram(&sampler.latency_recorder());
  backend.set_status_extra([&sampler] { return render_status_lines(sampler.collect()); });
  Latch sampled(1);
  shard.spawn(sample_until_stopped(sampler, sampled));
  AdminPages pages;
  pages.metrics = [&sampler] { return render_prometheus(sampler.collect()); };
  pages.status = [&sampler] { return render_json(sampler.collect()) + "\n"; };
  AdminHttpServer admin(shard, std::move(pages), AdminHttpConfig{});
  Latch admin_served(admin_listen_fd >= 0 ? 1 : 0);
  if (admin_listen_fd >= 0)
    shard.spawn(serve_admin_until_stopped(admin, admin_listen_fd, admin_served));
  Latch served(1);
  shard.spawn(serve_until_stopped(server, resp_listen_fd, served));
  on_serving();

  co_await stop_requested.wait();
  // Connections may wait on the leader (forwarded writes) or on the engine (proposals, read
  // barriers): end those first so that every connection can finish.
  admin.stop();
  co_await admin_served.wait();
  sampler.stop();
  co_await sampled.wait();
  server.stop();
  co_await forwarder.stop();
  co_await bus.stop();
  const Result<void> closed = co_await engine.close();
  co_await served.wait();
  bus.detach();
  machine.set_member_listener(nullptr);
  co_return closed;
}

}  // namespace ringraft::server
