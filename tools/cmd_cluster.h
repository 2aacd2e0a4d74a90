// `ringraft cluster up|down|kill|restart|ls`: a local cluster of real `ringraft server` processes.
//
//   ringraft cluster up -n 3 [--dir DIR] [--base-port P] [--fsync on|off]
//   ringraft cluster kill leader|N [--dir DIR] [--signal kill|term]
//   ringraft cluster restart N [--dir DIR]
//   ringraft cluster ls [--dir DIR]
//   ringraft cluster down [--dir DIR]
//
// DIR (default ./ringraft-cluster) holds the state file (tools/cli/cluster_state.h), each node's
// data dir and log. Node N serves RESP on base+N and talks Raft on base+100+N (base 6380 unless
// given; when a port is taken, the next free block of ten is used).
//
// Exit codes: 0 done, 1 failed (a node did not start, no leader in time, a live cluster is in
// the way, a process would not stop), 2 usage.
#pragma once

#include <CLI/CLI.hpp>

namespace ringraft::tools {

inline constexpr int kClusterExitOk = 0;
inline constexpr int kClusterExitFailed = 1;
inline constexpr int kClusterExitUsage = 2;

void add_cluster_commands(CLI::App& app, int* exit_code);

}  // namespace ringraft::tools
