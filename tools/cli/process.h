// Processes of a local cluster: start a node detached from the terminal with its output in a log
// file, stop it (SIGTERM, then SIGKILL after a bound), and check that a port is free.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace ringraft::tools {

// The absolute path of the running executable (/proc/self/exe resolved), so that a node runs
// the same build as the command that started it.
Result<std::string> self_executable();

// Starts `executable` with `arguments` (argv[1..]) in its own session (a Ctrl-C meant for the
// terminal does not reach it), stdin from /dev/null, stdout and stderr appended to `log_path`,
// no other descriptor inherited. Returns its pid.
Result<pid_t> spawn_detached(const std::string& executable,
                             const std::vector<std::string>& arguments,
                             const std::string& log_path);

// Reaps `pid` if it is our child and has exited (no zombie left behind); harmless otherwise.
// True when it was our child and has exited. (Right after spawn_detached, before its exec, a
// child's command line is still ours: this, not node_process_alive, tells whether it died.)
bool reap_if_child(pid_t pid);

// Sends `signal_number` to each alive process, then waits until `alive(pid)` is false for all,
// at most `grace`; those left get SIGKILL and another bounded wait. Returns the pids that did
// not stop in time at all (empty on success).
template <class Alive>
std::vector<pid_t> stop_processes(const std::vector<pid_t>& pids, int signal_number,
                                  std::chrono::milliseconds grace, Alive alive);

// The last `line_count` lines of a text file ("" when it cannot be read).
std::string tail_lines(const std::string& path, size_t line_count);

// True when nothing listens on 127.0.0.1:port (a bind with SO_REUSEADDR succeeds).
bool port_free(uint16_t port);

}  // namespace ringraft::tools

#include "tools/cli/process_inl.h"
