// `ringraft status [--dir DIR | --nodes host:port,...] [--watch]`: one table row per node from
// its INFO reply: role, term, leader, commit and applied index, clients, and in --watch mode
// ops/s from the change of total_commands_processed between two refreshes. Other raft_*
// fields a node reports (raft_leader_addr, ...) are listed under the table.
//
// Exit codes: 0 at least one node answered, 1 none did, 2 usage.
#pragma once

#include <CLI/CLI.hpp>

namespace ringraft::tools {

void add_status_command(CLI::App& app, int* exit_code);

}  // namespace ringraft::tools
