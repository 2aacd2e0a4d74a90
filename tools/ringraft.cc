// ringraft: the command-line front end. Subcommands arrive with the layers they drive
// (server, cluster, status, bench, wal): version, the reactor self-check, the WAL inspection
// commands (tools/cmd_wal.h), `server` (tools/cmd_server.h), bench, cluster and status. Usage
// errors exit with code 2.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "reactor/reactor.h"
#include "tools/cmd_bench.h"
#include "tools/cmd_cluster.h"
#include "tools/cmd_server.h"
#include "tools/cmd_status.h"
#include "tools/cmd_wal.h"

namespace {

constexpr const char* kVersion = "0.1.0";

// Starts a reactor with `shards` shards, passes one message around the ring of shards
// (0 -> 1 -> ... -> 0) and reports what the kernel's io_uring supports. Exit code 0 when the
// message came home.
int run_check(uint32_t shards) {
  using namespace ringraft;
  ReactorConfig config;
  config.shard_count = shards;
  config.pin_threads = false;
  Reactor reactor(config);
  std::atomic<uint32_t> arrivals{0};
  std::atomic<unsigned> setup_flags{0};
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    if (shard.id().value() != 0) co_return;
    setup_flags = shard.uring().setup_flags();
    if (shard.shard_count() == 1) {
      shard.reactor().stop();
      co_return;
    }
    ShardMessage hop;
    hop.object = &arrivals;
    hop.handler = [](Shard& here, const ShardMessage& message) {
      static_cast<std::atomic<uint32_t>*>(message.object)->fetch_add(1);
      const uint32_t next = (here.id().value() + 1) % here.shard_count();
      if (here.id().value() == 0 || !here.try_send(ShardId(next), message)) here.reactor().stop();
    };
    if (!shard.try_send(ShardId(1), hop)) shard.reactor().stop();
  });
  if (!result.ok()) {
    fmt::print(stderr, "ringraft: the reactor failed to start: {}\n", result.error().message());
    return 1;
  }
  const unsigned flags = setup_flags.load();
  fmt::print("io_uring: single issuer {}, deferred task running {}\n",
             (flags & IORING_SETUP_SINGLE_ISSUER) ? "yes" : "no",
             (flags & IORING_SETUP_DEFER_TASKRUN) ? "yes" : "no (older kernel: slower fallback)");
  if (shards == 1) {
    fmt::print("1 shard started and stopped: ok\n");
    return 0;
  }
  const bool home = arrivals.load() == shards;
  fmt::print("a message went around {} shards and back: {}\n", shards, home ? "ok" : "FAILED");
  return home ? 0 : 1;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"ringraft: Raft replication over an io_uring shard-per-core reactor"};
  app.require_subcommand(1);
  app.add_subcommand("version", "Print the version")->callback([] {
    fmt::print("ringraft {}\n", kVersion);
  });
  uint32_t shards = 2;
  CLI::App* check = app.add_subcommand("check", "Start the reactor and check io_uring support");
  check->add_option("--shards", shards, "Number of shards to start")->check(CLI::Range(1, 256));
  int exit_code = 0;
  check->callback([&] { exit_code = run_check(shards); });
  ringraft::tools::add_wal_commands(app, &exit_code);
  ringraft::tools::add_server_command(app, &exit_code);
  ringraft::tools::add_bench_command(app, &exit_code);
  ringraft::tools::add_cluster_commands(app, &exit_code);
  ringraft::tools::add_status_command(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int parse_exit = app.exit(error);  // prints the help or the usage error
    return parse_exit == 0 ? 0 : ringraft::tools::kWalExitUsage;
  }
  return exit_code;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {  // nothing below throws by design; say so if it does
    fmt::print(stderr, "ringraft: internal error: {}\n", error.what());
    return 70;  // EX_SOFTWARE
  }
}
