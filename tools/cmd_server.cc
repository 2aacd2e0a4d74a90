// `ringraft server` (see cmd_server.h): flags -> ServerOptions, the listening sockets checked
// before anything starts, SIGINT/SIGTERM turned into an orderly stop on the node's shard.
#include "tools/cmd_server.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include "reactor/latch.h"
#include "reactor/reactor.h"
#include "reactor/socket.h"
#include "reactor/stop_signals.h"
#include "tools/server/server_node.h"

namespace ringraft::tools {
namespace {

// The flags as given; kept as text so that what the flags set is known (flags beat the file).
struct ServerFlags {
  uint64_t id = 0;
  std::string peers;
  std::string clients;
  uint16_t port = 6379;
  std::string bind = "127.0.0.1";
  std::string data_dir;
  std::string cluster_id = "ringraft";
  std::string config;
  std::string fsync = "on";
  bool redirect = false;
  std::string reads = "linearizable";
  uint16_t admin_port = 0;
  bool join = false;
  uint64_t wal_segment_mib = 64;
  uint32_t fsyncs_in_flight = 1;
  std::string wal_io = "direct-dsync";
  uint64_t snapshot_entries = 1000000;
};

// Flags given on the command line -> names ("data-dir"), for load_config_file.
std::set<std::string> flags_given(const CLI::App& command) {
  std::set<std::string> given;
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() > 0 && !option->get_lnames().empty()) given.insert(option->get_lnames()[0]);
  }
  return given;
}

Result<server::ServerOptions> build_options(const CLI::App& command, const ServerFlags& flags) {
  server::ServerOptions options;
  const std::set<std::string> given = flags_given(command);
  if (!flags.config.empty()) {
    Result<void> loaded = server::load_config_file(flags.config, given, options);
    if (!loaded.ok()) return loaded.error();
  }
  if (given.count("id") != 0) options.id = NodeId{flags.id};
  if (given.count("peers") != 0) {
    auto peers = server::parse_members(flags.peers, "peers");
    if (!peers.ok()) return peers.error();
    options.peers = std::move(peers.value());
  }
  if (given.count("clients") != 0) {
    auto clients = server::parse_members(flags.clients, "clients");
    if (!clients.ok()) return clients.error();
    options.clients = std::move(clients.value());
  }
  if (given.count("port") != 0) options.port = flags.port;
  if (given.count("bind") != 0) options.bind = flags.bind;
  if (given.count("data-dir") != 0) options.data_dir = flags.data_dir;
  if (given.count("cluster-id") != 0) options.cluster_id = flags.cluster_id;
  if (given.count("fsync") != 0) {
    Result<bool> fsync = server::parse_on_off(flags.fsync, "fsync");
    if (!fsync.ok()) return fsync.error();
    options.fsync = fsync.value();
  }
  if (given.count("redirect") != 0) options.redirect = flags.redirect;
  if (given.count("admin-port") != 0) options.admin_port = flags.admin_port;
  if (given.count("join") != 0) options.join = flags.join;
  if (given.count("reads") != 0) {
    Result<server::ReadMode> reads = server::parse_read_mode(flags.reads);
    if (!reads.ok()) return reads.error();
    options.reads = reads.value();
  }
  if (given.count("wal-segment-mib") != 0) options.wal_segment_mib = flags.wal_segment_mib;
  if (given.count("fsyncs-in-flight") != 0) options.fsyncs_in_flight = flags.fsyncs_in_flight;
  if (given.count("wal-io") != 0) {
    Result<server::WalIo> io = server::parse_wal_io(flags.wal_io);
    if (!io.ok()) return io.error();
    options.wal_io = io.value();
  }
  if (given.count("snapshot-entries") != 0) {
    if (flags.snapshot_entries == 0)
      return Error(ErrorCode::kInvalidInput, "--snapshot-entries must be >= 1");
    options.snapshot_entries = flags.snapshot_entries;
  }
  if (Result<void> valid = options.validate(); !valid.ok()) return valid.error();
  return options;
}

// Binds `endpoint` to learn whether it is free; the caller keeps the socket or drops it.
Result<FileDescriptor> bind_listener(const std::string& host, uint16_t port, const char* what) {
  Result<sockaddr_in> address = ipv4_address(host, port);
  if (!address.ok()) return address.error();
  Result<FileDescriptor> listener = listen_tcp(address.value());
  if (!listener.ok()) {
    return Error(listener.error().code(),
                 fmt::format("{} {}:{} cannot be listened on (in use?): {}", what, host, port,
                             listener.error().message()),
                 listener.error().errno_value());
  }
  return listener;
}

}  // namespace

int run_server(const server::ServerOptions& options) {
  if (!options.fsync) {
    fmt::print(stderr,
               "ringraft server: WARNING --fsync off: the WAL is not flushed, acknowledged "
               "writes can be lost on a power failure (experiments only)\n");
  }
  std::error_code made;
  std::filesystem::create_directories(options.data_dir, made);
  if (made) {
    fmt::print(stderr, "ringraft server: cannot create --data-dir {}: {}\n", options.data_dir,
               made.message());
    return kServerExitFailed;
  }
  Result<FileDescriptor> resp = bind_listener(options.bind, options.port, "RESP port (--port)");
  Result<FileDescriptor> raft =
      bind_listener(options.raft_endpoint().host, options.raft_endpoint().port,
                    "Raft port (this node's --peers entry)");
  for (const Result<FileDescriptor>* listener : {&resp, &raft}) {
    if (!listener->ok()) {
      fmt::print(stderr, "ringraft server: {}\n", listener->error().message());
      return kServerExitFailed;
    }
  }
  raft.value().reset();  // the transport binds it again (SO_REUSEADDR)
  // The admin port: one given explicitly must be free; the default one is skipped with a
  // warning when taken (two servers on one machine with neighbouring RESP ports).
  FileDescriptor admin_listener;
  if (const uint16_t admin_port = options.admin_port_to_use(); admin_port != 0) {
    Result<FileDescriptor> admin =
        bind_listener(options.bind, admin_port, "admin port (--admin-port)");
    if (admin.ok()) {
      admin_listener = std::move(admin.value());
    } else if (options.admin_port_given()) {
      fmt::print(stderr, "ringraft server: {}\n", admin.error().message());
      return kServerExitFailed;
    } else {
      fmt::print(stderr, "ringraft server: WARNING no admin port: {}; give --admin-port\n",
                 admin.error().message());
    }
  }

  StopSignals stop_signals;  // before any thread starts: all inherit the mask

  ReactorConfig config;
  config.shard_count = 1;
  config.pin_threads = false;
  Reactor reactor(config);
  Latch stop_requested(1);
  stop_signals.start(reactor, stop_requested);
  Result<void> node_result{};
  const int resp_fd = resp.value().get();
  const int admin_fd = admin_listener.get();
  std::string admin_text = "no admin port";
  if (admin_fd >= 0) {
    admin_text =
        fmt::format("admin (/metrics) on {}:{}", options.bind, options.admin_port_to_use());
  }
  Result<void> ran = reactor.run([&](Shard& shard) -> Task<void> {
    node_result = co_await server::run_server_node(
        shard, options, resp_fd, stop_requested,
        [&] {
          fmt::print("node {} serving RESP on {}:{}, raft on {}, {}, data in {}\n",
                     options.id.value(), options.bind, options.port, options.raft_endpoint().text(),
                     admin_text, options.data_dir);
          std::fflush(stdout);
        },
        admin_fd);
    shard.reactor().stop();
  });
  stop_signals.stop();
  for (const Result<void>* result : {&ran, &node_result}) {
    if (!result->ok()) {
      fmt::print(stderr, "ringraft server: node {}: {}\n", options.id.value(),
                 result->error().message());
      return kServerExitFailed;
    }
  }
  return 0;
}

void add_server_command(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* command = app.add_subcommand(
      "server", "Run one node of a replicated key-value cluster, served over RESP (redis-cli)");
  command->add_option("--id", flags->id, "This node's id (1..)");
  command->add_option("--peers", flags->peers,
                      "Every member's Raft address, self included, the same on every node: "
                      "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003");
  command->add_option("--clients", flags->clients,
                      "The members' RESP addresses (redirects, forwarding): 1=127.0.0.1:6381,...");
  command->add_option("--port", flags->port, "RESP listen port (default 6379)");
  command->add_option("--bind", flags->bind, "RESP listen address (default 127.0.0.1)");
  command->add_option("--data-dir", flags->data_dir, "Data directory (created if missing)");
  command->add_option("--cluster-id", flags->cluster_id, "Cluster name (default ringraft)");
  command->add_option("--config", flags->config, "TOML file with the same keys; flags win");
  command->add_option("--fsync", flags->fsync, "on|off (default on; off only for experiments)");
  command->add_flag("--redirect", flags->redirect,
                    "Followers answer writes with the leader's address instead of forwarding");
  command->add_option("--admin-port", flags->admin_port,
                      "HTTP port for /metrics and /status (default --port + 1000; 0: none)");
  command->add_flag("--join", flags->join,
                    "Join a running cluster: start as a learner and wait for RINGRAFT.ADDNODE "
                    "on the leader (--peers: the members and this node)");
  command->add_option("--reads", flags->reads,
                      "linearizable (ReadIndex, default) or local (may be stale)");
  command->add_option("--wal-segment-mib", flags->wal_segment_mib,
                      "WAL segment size in MiB, preallocated (default 64; small disks, tests)");
  command->add_option("--wal-io", flags->wal_io,
                      "direct-dsync (default: O_DIRECT|O_DSYNC writes), direct (O_DIRECT + "
                      "fdatasync) or buffered (page cache + fdatasync); all equally durable");
  command->add_option("--fsyncs-in-flight", flags->fsyncs_in_flight,
                      "WAL write+fdatasync pairs in flight, 1..16 (default 1: larger batches, "
                      "less CPU per write)");
  command->add_option("--snapshot-entries", flags->snapshot_entries,
                      "Take a snapshot after this many applied entries (default 1000000)");
  command->callback([command, flags, exit_code] {
    Result<server::ServerOptions> options = build_options(*command, *flags);
    if (!options.ok()) {
      fmt::print(stderr, "ringraft server: {}\n", options.error().context());
      *exit_code = kServerExitUsage;
      return;
    }
    *exit_code = run_server(options.value());
  });
}

}  // namespace ringraft::tools
