// Durable WAL appends against what the disk does without a WAL, in the same run, on the same
// filesystem.
//
//   BM_Wal/wal/<entry bytes>/<appends in flight>   appenders, each: append one entry, await its
//                                                  durability, repeat (group commit shares the
//                                                  fdatasyncs among the appenders in flight)
//   BM_Wal/wal_4_fsyncs/<entry bytes>/<in flight>  the same with fsyncs_in_flight_max = 4 (batches
//                                                  pipelined behind the sync in flight)
//   BM_Wal/pwrite_fdatasync/4096/1                 baseline: pwrite(4 KiB) + fdatasync, a loop
//   BM_Wal/pwrite_fdatasync_odirect/4096/1         the same through O_DIRECT (what O_DIRECT
//                                                  segments would change; not used by the WAL)
//   BM_Wal/sequential_write/1048576/1              baseline: write(1 MiB) sequentially, one final
//                                                  fdatasync: the disk's streaming bandwidth
//
// Counters: entries_per_fsync (group commit at work) and disk_fraction (the WAL's payload
// bandwidth ÷ the sequential baseline's, measured once per process before the first WAL run).
// Each run is bounded by kTimeBudget and a byte cap, on a fresh directory under
// $RINGRAFT_BENCH_DIR (default /tmp; pick the disk you mean to measure: on tmpfs fdatasync is
// free). WalOptions are the defaults (64 MiB segments, 1 MiB batches, one fdatasync in flight)
// unless the name says otherwise.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bench/micro/durable_append_load.h"
#include "bench/micro/reactor_bench_support.h"
#include "common/bytes.h"
#include "reactor/latch.h"
#include "reactor/ops.h"
#include "wal/wal.h"

namespace ringraft::bench {
namespace {

constexpr std::chrono::milliseconds kTimeBudget(1000);
constexpr uint64_t kWalBytesMax = uint64_t{512} << 20;
constexpr uint64_t kSequentialBytesMax = uint64_t{256} << 20;
constexpr size_t kSequentialChunkBytes = size_t{1} << 20;
constexpr size_t kSyncBlockBytes = 4096;
constexpr uint32_t kSyncBlocksMax = 4000;

struct TimedRun {
  uint64_t items = 0;
  uint64_t bytes = 0;
  std::string error;
  BenchClock::time_point started, finished;

  double seconds() const { return seconds_between(started, finished); }
};

// Sequential 1 MiB writes into a new file, then one fdatasync; the time includes the sync.
TimedRun sequential_write(const TempDir& directory) {
  TimedRun run;
  const std::string path = directory.file("sequential");
  FileDescriptor fd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    run.error = "open " + path + ": " + std::strerror(errno);
    return run;
  }
  const std::vector<std::byte> chunk(kSequentialChunkBytes, std::byte{0x5a});
  run.started = BenchClock::now();
  const BenchClock::time_point deadline = run.started + kTimeBudget;
  while (run.bytes < kSequentialBytesMax && BenchClock::now() < deadline) {
    const ssize_t wrote = ::write(fd.get(), chunk.data(), chunk.size());
    if (wrote != static_cast<ssize_t>(chunk.size())) {
      run.error = std::string("write: ") + (wrote < 0 ? std::strerror(errno) : "short write");
      return run;
    }
    run.bytes += chunk.size();
    run.items++;
  }
  if (::fdatasync(fd.get()) != 0) run.error = std::string("fdatasync: ") + std::strerror(errno);
  run.finished = BenchClock::now();
  return run;
}

// The disk's streaming bandwidth in bytes/s, measured once per process (0 if it failed).
double sequential_bytes_per_second() {
  static const double measured = [] {
    TempDir directory;
    if (!directory.ok()) return 0.0;
    const TimedRun run = sequential_write(directory);
    return run.error.empty() && run.seconds() > 0 ? static_cast<double>(run.bytes) / run.seconds()
                                                  : 0.0;
  }();
  return measured;
}

void report(benchmark::State& state, const TimedRun& run, const TempDir& directory) {
  state.SetIterationTime(run.seconds());
  state.SetItemsProcessed(static_cast<int64_t>(run.items));
  state.SetBytesProcessed(static_cast<int64_t>(run.bytes));
  state.SetLabel(directory.describe());
}

void BM_WalAppend(benchmark::State& state, uint32_t fsyncs_in_flight_max) {
  const auto entry_bytes = static_cast<size_t>(state.range(0));
  const auto in_flight = static_cast<uint32_t>(state.range(1));
  const double disk_bytes_per_second = sequential_bytes_per_second();
  for (auto _ : state) {
    TempDir directory;
    if (!directory.ok()) {
      state.SkipWithError(directory.error().c_str());
      break;
    }
    wal::WalOptions options;
    options.directory = directory.path();
    options.fsyncs_in_flight_max = fsyncs_in_flight_max;
    DurableAppendLoad load;
    load.entry_bytes = entry_bytes;
    load.in_flight = in_flight;
    load.time_budget = kTimeBudget;
    load.bytes_max = kWalBytesMax;
    const ReactorRunReport ran = run_reactor_workload(
        1, [&](Shard& shard) -> Task<void> { return run_durable_appends(shard, options, load); });
    if (!ran.ok() || !load.error.empty()) {
      state.SkipWithError((!ran.ok() ? ran.error : load.error).c_str());
      break;
    }
    TimedRun run;
    run.items = load.completed;
    run.bytes = load.bytes;
    run.started = load.started;
    run.finished = load.finished;
    report(state, run, directory);
    const uint64_t fsyncs = load.stats.fsyncs_completed;
    state.counters["entries_per_fsync"] =
        fsyncs == 0 ? 0.0 : static_cast<double>(run.items) / static_cast<double>(fsyncs);
    state.counters["disk_fraction"] =
        disk_bytes_per_second <= 0
            ? 0.0
            : static_cast<double>(run.bytes) / run.seconds() / disk_bytes_per_second;
    state.counters["fsyncs"] = static_cast<double>(fsyncs);
  }
}

// pwrite(4 KiB) + fdatasync into a preallocated, fsynced file; with `direct`, the file is
// opened O_DIRECT and the block is 4 KiB-aligned (what O_DIRECT segments would cost: the
// page-cache copy is gone, the fdatasync that flushes the disk's cache is not).
void BM_PwriteFdatasync(benchmark::State& state, bool direct) {
  AlignedBuffer block(kSyncBlockBytes);
  std::memset(block.data(), 0x5a, kSyncBlockBytes);
  for (auto _ : state) {
    TempDir directory;
    const std::string path = directory.file("sync");
    const int flags = O_CREAT | O_RDWR | O_CLOEXEC | (direct ? O_DIRECT : 0);
    FileDescriptor fd(::open(path.c_str(), flags, 0644));
    if (!directory.ok() || !fd.valid() ||
        ::fallocate(fd.get(), 0, 0, off_t{kSyncBlocksMax} * kSyncBlockBytes) != 0 ||
        ::fsync(fd.get()) != 0) {  // as a WAL segment is created: its size already durable
      state.SkipWithError(("cannot prepare " + path + ": " + std::strerror(errno)).c_str());
      break;
    }
    TimedRun run;
    run.started = BenchClock::now();
    const BenchClock::time_point deadline = run.started + kTimeBudget;
    while (run.items < kSyncBlocksMax && BenchClock::now() < deadline) {
      const off_t offset = static_cast<off_t>(run.items * kSyncBlockBytes);
      if (::pwrite(fd.get(), block.data(), kSyncBlockBytes, offset) !=
              static_cast<ssize_t>(kSyncBlockBytes) ||
          ::fdatasync(fd.get()) != 0) {
        run.error = std::string("pwrite + fdatasync: ") + std::strerror(errno);
        break;
      }
      run.items++;
      run.bytes += kSyncBlockBytes;
    }
    run.finished = BenchClock::now();
    if (!run.error.empty()) {
      state.SkipWithError(run.error.c_str());
      break;
    }
    report(state, run, directory);
    state.counters["entries_per_fsync"] = 1.0;
  }
}

void BM_SequentialWrite(benchmark::State& state) {
  for (auto _ : state) {
    TempDir directory;
    const TimedRun run = sequential_write(directory);
    if (!run.error.empty()) {
      state.SkipWithError(run.error.c_str());
      break;
    }
    report(state, run, directory);
    state.counters["disk_fraction"] = 1.0;
  }
}

void one_run(benchmark::internal::Benchmark* benchmark) {
  benchmark->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_WalAppend, one_fsync, 1)
    ->Name("BM_Wal/wal")
    ->ArgsProduct({{100, 1024, 16384}, {1, 64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, four_fsyncs, 4)
    ->Name("BM_Wal/wal_4_fsyncs")
    ->ArgsProduct({{1024, 16384}, {64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, buffered, false)
    ->Name("BM_Wal/pwrite_fdatasync")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, direct, true)
    ->Name("BM_Wal/pwrite_fdatasync_odirect")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK(BM_SequentialWrite)->Name("BM_Wal/sequential_write")->Args({1 << 20, 1})->Apply(one_run);

}  // namespace
}  // namespace ringraft::bench
