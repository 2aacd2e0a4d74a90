// stop_processes, a template over the liveness check (tools/cli/process.h).
#pragma once

#include <signal.h>

#include <thread>

namespace ringraft::tools {

namespace detail {

// Waits until no pid in `pids` is alive or the grace runs out; returns those still alive.
template <class Alive>
std::vector<pid_t> wait_gone(const std::vector<pid_t>& pids, std::chrono::milliseconds grace,
                             Alive alive) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  std::vector<pid_t> left = pids;
  for (;;) {
    std::vector<pid_t> still;
    for (const pid_t pid : left) {
      reap_if_child(pid);
      if (alive(pid)) still.push_back(pid);
    }
    left.swap(still);
    if (left.empty() || std::chrono::steady_clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a process we do not own
  }
}

}  // namespace detail

template <class Alive>
std::vector<pid_t> stop_processes(const std::vector<pid_t>& pids, int signal_number,
                                  std::chrono::milliseconds grace, Alive alive) {
  std::vector<pid_t> running;
  for (const pid_t pid : pids) {
    if (alive(pid) && ::kill(pid, signal_number) == 0) running.push_back(pid);
  }
  std::vector<pid_t> left = detail::wait_gone(running, grace, alive);
  if (left.empty()) return left;
  for (const pid_t pid : left) ::kill(pid, SIGKILL);
  return detail::wait_gone(left, std::chrono::milliseconds(5000), alive);
}

}  // namespace ringraft::tools
