// Durable 4 KiB appends: ops::write + ops::fdatasync through the reactor against pwrite +
// fdatasync called directly, the pattern of a WAL that syncs every batch.
//
//   BM_Fsync/<reactor|reactor_linked|raw>
//
// reactor awaits the write, then the sync (two trips through the ring); reactor_linked submits
// both at once as a linked pair (ops::write_fdatasync), which is how the WAL commits a batch.
//
// Each variant gets a fresh file, preallocated with fallocate, and appends one block at a time,
// each followed by fdatasync, until kBlocksMax blocks or kTimeBudget, whichever comes first. The
// first write into a preallocated extent also converts it from unwritten to written, so
// fdatasync commits that metadata in both variants alike. The file lives in a TempDir (see
// reactor_bench_support.h for how to choose its disk); the label names its filesystem.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bench/micro/reactor_bench_support.h"
#include "reactor/ops.h"

namespace ringraft::bench {
namespace {

constexpr uint32_t kBlockBytes = 4096;
constexpr uint32_t kBlocksMax = 2000;
constexpr std::chrono::milliseconds kTimeBudget(1000);

// A preallocated file to append to; `error` says what failed if `fd` is not valid.
struct AppendFile {
  FileDescriptor fd;
  std::string error;
};

AppendFile open_preallocated(const TempDir& directory) {
  AppendFile file;
  if (!directory.ok()) {
    file.error = directory.error();
    return file;
  }
  const std::string path = directory.file("wal");
  file.fd.reset(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
  if (!file.fd.valid()) {
    file.error = "open " + path + ": " + std::strerror(errno);
    return file;
  }
  if (::fallocate(file.fd.get(), 0, 0, off_t{kBlocksMax} * kBlockBytes) != 0) {
    file.error = "fallocate " + path + ": " + std::strerror(errno);
    file.fd.reset();
  }
  return file;
}

struct AppendRun {
  uint32_t blocks = 0;
  std::string error;
  BenchClock::time_point started, finished;
};

// One durable append; returns an error description or "".
Task<std::string> append_one(Io& io, int fd, const std::vector<std::byte>& block, uint64_t offset,
                             bool linked) {
  IoResult wrote, synced;
  if (linked) {
    const LinkedPairAwaiter::Results results = co_await ops::write_fdatasync(io, fd, block, offset);
    wrote = results.first;
    synced = results.second;
  } else {
    wrote = co_await ops::write(io, fd, block, offset);
    if (wrote.value == static_cast<int32_t>(kBlockBytes)) synced = co_await ops::fdatasync(io, fd);
  }
  if (wrote.value != static_cast<int32_t>(kBlockBytes)) {
    co_return "write: " + (wrote.ok() ? std::string("short write") : wrote.message());
  }
  if (!synced.ok()) co_return "fdatasync: " + synced.message();
  co_return std::string();
}

Task<void> append_through_reactor(Shard& shard, int fd, const std::vector<std::byte>& block,
                                  bool linked, AppendRun& run) {
  Io& io = shard.io();
  run.started = BenchClock::now();
  const BenchClock::time_point deadline = run.started + kTimeBudget;
  while (run.blocks < kBlocksMax && BenchClock::now() < deadline) {
    run.error = co_await append_one(io, fd, block, uint64_t{run.blocks} * kBlockBytes, linked);
    if (!run.error.empty()) break;
    run.blocks++;
  }
  run.finished = BenchClock::now();
  shard.reactor().stop();
}

void append_raw(int fd, const std::vector<std::byte>& block, AppendRun& run) {
  run.started = BenchClock::now();
  const BenchClock::time_point deadline = run.started + kTimeBudget;
  while (run.blocks < kBlocksMax && BenchClock::now() < deadline) {
    const ssize_t wrote = ::pwrite(fd, block.data(), block.size(), off_t{run.blocks} * kBlockBytes);
    if (wrote != static_cast<ssize_t>(kBlockBytes)) {
      run.error = std::string("pwrite: ") + (wrote < 0 ? std::strerror(errno) : "short write");
      break;
    }
    if (::fdatasync(fd) != 0) {
      run.error = std::string("fdatasync: ") + std::strerror(errno);
      break;
    }
    run.blocks++;
  }
  run.finished = BenchClock::now();
}

void report_appends(benchmark::State& state, const AppendRun& run) {
  const double seconds = seconds_between(run.started, run.finished);
  state.SetIterationTime(seconds);
  state.SetItemsProcessed(run.blocks);
  state.SetBytesProcessed(int64_t{run.blocks} * kBlockBytes);
  state.counters["sync_us"] = run.blocks == 0 ? 0.0 : seconds * 1e6 / run.blocks;
}

// Runs `append` (reactor or raw) on a fresh preallocated file per iteration and reports it.
template <class AppendFn>
void run_appends(benchmark::State& state, AppendFn append) {
  const std::vector<std::byte> block(kBlockBytes, std::byte{0x5a});
  for (auto _ : state) {
    TempDir directory;
    AppendFile file = open_preallocated(directory);
    if (!file.fd.valid()) {
      state.SkipWithError(file.error.c_str());
      break;
    }
    AppendRun run;
    const std::string failure = append(file.fd.get(), block, run);
    if (!failure.empty() || !run.error.empty()) {
      state.SkipWithError(!failure.empty() ? failure.c_str() : run.error.c_str());
      break;
    }
    report_appends(state, run);
    state.SetLabel(directory.describe());
  }
}

void BM_FsyncReactor(benchmark::State& state, bool linked) {
  run_appends(state, [linked](int fd, const std::vector<std::byte>& block, AppendRun& run) {
    ReactorRunReport report = run_reactor_workload(1, [&](Shard& shard) -> Task<void> {
      return append_through_reactor(shard, fd, block, linked, run);
    });
    return report.ok() ? std::string() : report.error;
  });
}

void BM_FsyncRaw(benchmark::State& state) {
  run_appends(state, [](int fd, const std::vector<std::byte>& block, AppendRun& run) {
    append_raw(fd, block, run);
    return std::string();
  });
}

void one_run(benchmark::internal::Benchmark* benchmark) {
  benchmark->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_FsyncReactor, reactor, false)->Name("BM_Fsync/reactor")->Apply(one_run);
BENCHMARK_CAPTURE(BM_FsyncReactor, reactor_linked, true)
    ->Name("BM_Fsync/reactor_linked")
    ->Apply(one_run);
BENCHMARK(BM_FsyncRaw)->Name("BM_Fsync/raw")->Apply(one_run);

}  // namespace
}  // namespace ringraft::bench
