// `ringraft wal verify|dump`: the WAL inspection commands (wal/recovery.h run by an operator).
//
//   ringraft wal verify DIR [--json]            read-only: clean, torn tail or corruption
//   ringraft wal verify DIR --repair            zero a torn tail, cut the log at corruption
//   ringraft wal dump DIR [--json] [--group G] [--records]
//
// Exit codes (also in --help): 0 clean (or repaired), 1 torn tail found (read-only), 2 usage,
// 3 corruption, 4 I/O error.
#pragma once

#include <CLI/CLI.hpp>

namespace ringraft::tools {

inline constexpr int kWalExitClean = 0;
inline constexpr int kWalExitTornTail = 1;
inline constexpr int kWalExitUsage = 2;
inline constexpr int kWalExitCorrupt = 3;
inline constexpr int kWalExitIoError = 4;

// Adds the `wal` subcommand (verify, dump) to `app`. The command that runs stores its exit code
// in *exit_code; both must outlive app.parse().
void add_wal_commands(CLI::App& app, int* exit_code);

}  // namespace ringraft::tools
