// `ringraft status [--dir DIR | --nodes host:port,...] [--watch] [--json]`: one table row per
// node from its RINGRAFT.STATUS reply (tools/server/node_metrics.h): role, term, leader, commit
// and applied index, log and snapshot size, ops/s, p50/p99 request latency (µs, over the node's
// last second), elections started, RPC errors, fsyncs/s and entries per fsync. A server without
// RINGRAFT.STATUS (plain Redis) is read through INFO: what it lacks shows as "-", and in
// --watch mode ops/s comes from the change of total_commands_processed between two refreshes.
// Other raft_* fields a node reports (raft_leader_addr, ...) are listed under the table.
// --json prints the same columns as a JSON array (null for a missing value).
//
// Exit codes: 0 at least one node answered, 1 none did, 2 usage.
#pragma once

#include <CLI/CLI.hpp>

namespace ringraft::tools {

void add_status_command(CLI::App& app, int* exit_code);

}  // namespace ringraft::tools
