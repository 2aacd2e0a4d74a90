// `ringraft server`: one node of a replicated key-value cluster, serving RESP2 (redis-cli,
// redis-benchmark) in front of a Raft group over TCP. Flags and the TOML file: see
// tools/server/server_options.h; what runs: tools/server/server_node.h.
//
// Exit codes: 0 stopped by SIGINT/SIGTERM, 1 could not start or failed while running (a port
// in use, the WAL unreadable), 2 bad flags or configuration.
#pragma once

#include <CLI/CLI.hpp>

#include "tools/server/server_options.h"

namespace ringraft::tools {

inline constexpr int kServerExitFailed = 1;
inline constexpr int kServerExitUsage = 2;

// Adds the `server` subcommand to `app`; it stores its exit code in *exit_code. Both must
// outlive app.parse().
void add_server_command(CLI::App& app, int* exit_code);

// Runs a node until SIGINT or SIGTERM; returns the exit code.
int run_server(const server::ServerOptions& options);

}  // namespace ringraft::tools
