// Shared pieces of the reactor microbenchmarks: running one bounded workload on a fresh reactor,
// timing it by hand, and turning reactor statistics into benchmark counters.
//
// Every multi-threaded benchmark here does one bounded run per Google Benchmark iteration
// (Iterations(1)) and reports the wall time of its measured window with SetIterationTime, so
// thread start-up and reactor set-up stay outside the number. Rates (items_per_second, ...) are
// then computed by Google Benchmark over that window.
#pragma once

#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "reactor/reactor.h"
#include "reactor/socket.h"

namespace ringraft::bench {

using BenchClock = std::chrono::steady_clock;

inline double seconds_between(BenchClock::time_point start, BenchClock::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

// What a finished reactor run left behind.
struct ReactorRunReport {
  std::string error;  // empty when the workload ended on its own
  std::vector<ShardStats> shard_stats;
  std::vector<UringStats> uring_stats;

  bool ok() const { return error.empty(); }
};

// Runs shard_main on every shard of a fresh reactor until the workload calls Reactor::stop().
// Threads are not pinned: on a 2-core machine the shards share the cores with the benchmark's
// own thread. A watchdog thread stops a run still going after `time_limit` and reports it as an
// error, so a reactor bug fails the benchmark instead of hanging the whole binary. `idle_poll`
// is ReactorConfig::idle_poll (the "*_polling" variants set it).
ReactorRunReport run_reactor_workload(uint32_t shard_count,
                                      std::function<Task<void>(Shard&)> shard_main,
                                      Duration idle_poll = Duration::zero(),
                                      std::chrono::seconds time_limit = std::chrono::seconds(30));

// The idle poll of the "*_polling" variants: long enough to cover a loopback round trip.
inline constexpr Duration kBenchIdlePoll = std::chrono::microseconds(50);

// Counters that show how well a shard's loop batched: io_uring_enter calls per unit of work
// (`<prefix>_enters_per_op`) and completions per enter (`<prefix>_cqes_per_enter`).
void add_loop_counters(benchmark::State& state, const std::string& prefix, const UringStats& stats,
                       uint64_t operations);

// A TCP listener on 127.0.0.1 with a kernel-chosen port.
struct LoopbackListener {
  FileDescriptor fd;
  sockaddr_in address{};
};
Result<LoopbackListener> listen_on_loopback();

// A fresh directory for benchmark files, removed with everything in it on destruction. It is
// created under $RINGRAFT_BENCH_DIR if set, else under /tmp; pick a directory on the disk you
// mean to measure (on tmpfs fdatasync returns at once).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  // Why the directory could not be created, when !ok().
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // "ext4 /tmp/ringraft-bench-abc123": the filesystem type decides what fdatasync costs.
  std::string describe() const;

 private:
  std::string path_;
  std::string error_;
};

}  // namespace ringraft::bench
