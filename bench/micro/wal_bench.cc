// Durable WAL appends against what the disk does without a WAL, in the same run, on the same
// filesystem.
//
//   BM_Wal/wal/<entry bytes>/<appends in flight>   appenders, each: append one entry, await its
//                                                  durability, repeat (group commit shares the
//                                                  fdatasyncs among the appenders in flight)
//   BM_Wal/wal_4_fsyncs/<entry bytes>/<in flight>  the same with fsyncs_in_flight_max = 4 (batches
//                                                  pipelined behind the sync in flight)
//   BM_Wal/wal_direct/<entry bytes>/<in flight>    O_DIRECT segments, write linked to fdatasync
//   BM_Wal/wal_direct_dsync/<entry bytes>/<in flight>  O_DIRECT | O_DSYNC segments, no fdatasync
//   BM_Wal/wal_direct_dsync_4/<entry bytes>/<in flight>  the same, 4 batches in flight at once
//   BM_Wal/wal_alloc/<entry bytes>/<in flight>     new prepared segments fallocated only
//                                                  (segment_fill = kAllocateOnly; the others
//                                                  zero-fill them, the default)
//   BM_Wal/wal_steady/<entry bytes>/<in flight>    steady state: the directory has run one
//                                                  warm-up pass first (16 KiB x 1024, 4 segments,
//                                                  snapshot marks every 16 MiB, closed), the
//                                                  run continues its log and keeps marking, so
//                                                  every segment written is a recycled spare or
//                                                  a zero-filled one: written extents
//   BM_Wal/wal_steady_4/<entry bytes>/<in flight>  the same with 4 fdatasyncs in flight
//   BM_Wal/pwrite_fdatasync/4096/1                 baseline: pwrite(4 KiB) + fdatasync, a loop
//                                                  into a fallocated file (unwritten extents)
//   BM_Wal/pwrite_fdatasync_zeroed/4096/1          the same into a zero-filled file (written)
//   BM_Wal/pwrite_fdatasync_odirect/4096/1         the same through O_DIRECT
//   BM_Wal/pwrite_odirect_dsync/4096/1             pwrite(4 KiB) on an O_DIRECT | O_DSYNC file
//   BM_Wal/sequential_write/1048576/1              baseline: write(1 MiB) sequentially, one final
//                                                  fdatasync: the disk's streaming bandwidth
//
// Counters: entries_per_fsync (group commit at work), disk_fraction (the WAL's payload
// bandwidth ÷ the sequential baseline's, measured once per process before the first WAL run) and
// cpu_ns_per_entry (the process's user + system CPU over the run ÷ entries: what an entry costs
// apart from waiting for the disk).
// Each run is bounded by kTimeBudget and a byte cap, on a fresh directory under
// $RINGRAFT_BENCH_DIR (default /tmp; pick the disk you mean to measure: on tmpfs fdatasync is
// free). WalOptions are the defaults (64 MiB segments, 1 MiB batches, one fdatasync in flight)
// unless the name says otherwise.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "bench/micro/durable_append_load.h"
#include "bench/micro/reactor_bench_support.h"
#include "common/bytes.h"
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

// How a BM_Wal variant configures the WAL.
struct WalVariant {
  uint32_t fsyncs_in_flight_max;
  wal::DirectIo direct_io;
  wal::SyncMode sync_mode;
  wal::SegmentFill segment_fill;
  bool steady;  // a warm-up pass first, snapshot marks throughout (see the header)
};
constexpr uint64_t kSteadySnapshotEveryBytes = uint64_t{16} << 20;
constexpr uint64_t kWarmUpSegments = 4;
constexpr wal::DirectIo kBuffered = wal::DirectIo::kOff;
constexpr wal::DirectIo kDirect = wal::DirectIo::kRequired;
constexpr wal::SyncMode kFdatasync = wal::SyncMode::kFdatasync;
constexpr wal::SyncMode kDsync = wal::SyncMode::kDsyncWrites;
constexpr wal::SegmentFill kZeroes = wal::SegmentFill::kZeroes;
constexpr wal::SegmentFill kAllocate = wal::SegmentFill::kAllocateOnly;

// The steady variants' warm-up: kWarmUpSegments segments of 16 KiB entries with snapshot marks,
// then closed, so the measured run starts in a written segment with spares beside it.
std::string warm_up(const wal::WalOptions& options) {
  DurableAppendLoad load;
  load.entry_bytes = 16384;
  load.in_flight = 1024;
  load.time_budget = std::chrono::milliseconds(20000);
  load.bytes_max = kWarmUpSegments * options.segment_bytes;
  load.snapshot_every_bytes = kSteadySnapshotEveryBytes;
  const ReactorRunReport ran = run_reactor_workload(
      1, [&](Shard& shard) -> Task<void> { return run_durable_appends(shard, options, load); });
  if (!ran.ok()) return "warm-up: " + ran.error;
  if (!load.error.empty()) return "warm-up: " + load.error;
  return {};
}

void BM_WalAppend(benchmark::State& state, WalVariant variant) {
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
    options.fsyncs_in_flight_max = variant.fsyncs_in_flight_max;
    options.direct_io = variant.direct_io;
    options.sync_mode = variant.sync_mode;
    options.segment_fill = variant.segment_fill;
    if (variant.steady) {
      const std::string warm_up_error = warm_up(options);
      if (!warm_up_error.empty()) {
        state.SkipWithError(warm_up_error.c_str());
        break;
      }
    }
    DurableAppendLoad load;
    if (variant.steady) {
      load.continue_log = true;
      load.snapshot_every_bytes = kSteadySnapshotEveryBytes;
    }
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
    state.counters["room_waits"] = static_cast<double>(load.stats.room_waits);
    // Where the run's segments came from, and what zero-filling cost the disk.
    state.counters["segments_reused"] = static_cast<double>(load.stats.segments_reused);
    state.counters["segments_created"] = static_cast<double>(load.stats.segments_created);
    state.counters["zero_filled_bytes"] = static_cast<double>(load.stats.bytes_zero_filled);
    state.counters["rolls_unprepared"] = static_cast<double>(load.stats.rolls_unprepared);
    // What an entry costs in CPU, apart from the waiting: the process's user + system time
    // (the fdatasync waits cost none) over the entries made durable.
    state.counters["cpu_ns_per_entry"] =
        run.items == 0 ? 0.0 : static_cast<double>(load.cpu_ns) / static_cast<double>(run.items);
  }
}

// The file a BM_PwriteFdatasync loop writes into.
struct SyncFile {
  int open_flags;  // O_DIRECT, O_DIRECT | O_DSYNC, or 0
  bool zero_filled;
};

// Zeros over [0, bytes) of `fd` through the page cache and an fdatasync: written extents.
bool fill_with_zeroes(int fd, uint64_t bytes) {
  const std::vector<std::byte> zeros(kSequentialChunkBytes);
  for (uint64_t offset = 0; offset < bytes; offset += zeros.size()) {
    const size_t chunk_bytes = std::min<uint64_t>(zeros.size(), bytes - offset);
    if (::pwrite(fd, zeros.data(), chunk_bytes, static_cast<off_t>(offset)) !=
        static_cast<ssize_t>(chunk_bytes)) {
      return false;
    }
  }
  return ::fdatasync(fd) == 0;
}

// pwrite(4 KiB) + fdatasync into a preallocated, fsynced file (fallocated: unwritten extents,
// or zero-filled: written ones). `open_flags` adds O_DIRECT (the page-cache copy is gone, the
// fdatasync that flushes the disk's cache is not) or O_DIRECT | O_DSYNC (no fdatasync: the
// write returns once durable).
void BM_PwriteFdatasync(benchmark::State& state, SyncFile file) {
  const int open_flags = file.open_flags;
  const bool dsync = (open_flags & O_DSYNC) != 0;
  AlignedBuffer block(kSyncBlockBytes);
  std::memset(block.data(), 0x5a, kSyncBlockBytes);
  for (auto _ : state) {
    TempDir directory;
    const std::string path = directory.file("sync");
    const int flags = O_CREAT | O_RDWR | O_CLOEXEC | open_flags;
    FileDescriptor fd(::open(path.c_str(), flags, 0644));
    if (!directory.ok() || !fd.valid() ||
        ::fallocate(fd.get(), 0, 0, off_t{kSyncBlocksMax} * kSyncBlockBytes) != 0 ||
        ::fsync(fd.get()) != 0) {  // as a WAL segment is created: its size already durable
      state.SkipWithError(("cannot prepare " + path + ": " + std::strerror(errno)).c_str());
      break;
    }
    if (file.zero_filled) {
      // Through a descriptor without O_DIRECT: the zeros need no alignment.
      FileDescriptor buffered(::open(path.c_str(), O_RDWR | O_CLOEXEC));
      if (!buffered.valid() ||
          !fill_with_zeroes(buffered.get(), uint64_t{kSyncBlocksMax} * kSyncBlockBytes)) {
        state.SkipWithError(("cannot zero-fill " + path + ": " + std::strerror(errno)).c_str());
        break;
      }
    }
    TimedRun run;
    run.started = BenchClock::now();
    const BenchClock::time_point deadline = run.started + kTimeBudget;
    while (run.items < kSyncBlocksMax && BenchClock::now() < deadline) {
      const off_t offset = static_cast<off_t>(run.items * kSyncBlockBytes);
      if (::pwrite(fd.get(), block.data(), kSyncBlockBytes, offset) !=
              static_cast<ssize_t>(kSyncBlockBytes) ||
          (!dsync && ::fdatasync(fd.get()) != 0)) {
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

BENCHMARK_CAPTURE(BM_WalAppend, one_fsync, WalVariant{1, kBuffered, kFdatasync, kZeroes, false})
    ->Name("BM_Wal/wal")
    ->ArgsProduct({{100, 1024, 16384}, {1, 64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, four_fsyncs, WalVariant{4, kBuffered, kFdatasync, kZeroes, false})
    ->Name("BM_Wal/wal_4_fsyncs")
    ->ArgsProduct({{100, 1024, 16384}, {64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, direct, WalVariant{1, kDirect, kFdatasync, kZeroes, false})
    ->Name("BM_Wal/wal_direct")
    ->ArgsProduct({{100, 16384}, {1, 64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, direct_dsync, WalVariant{1, kDirect, kDsync, kZeroes, false})
    ->Name("BM_Wal/wal_direct_dsync")
    ->ArgsProduct({{100, 16384}, {1, 64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, direct_dsync_4, WalVariant{4, kDirect, kDsync, kZeroes, false})
    ->Name("BM_Wal/wal_direct_dsync_4")
    ->ArgsProduct({{100, 16384}, {64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, alloc, WalVariant{1, kBuffered, kFdatasync, kAllocate, false})
    ->Name("BM_Wal/wal_alloc")
    ->ArgsProduct({{100, 16384}, {1, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, steady, WalVariant{1, kBuffered, kFdatasync, kZeroes, true})
    ->Name("BM_Wal/wal_steady")
    ->ArgsProduct({{100, 16384}, {1, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, steady_4, WalVariant{4, kBuffered, kFdatasync, kZeroes, true})
    ->Name("BM_Wal/wal_steady_4")
    ->ArgsProduct({{16384}, {1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, buffered, SyncFile{0, false})
    ->Name("BM_Wal/pwrite_fdatasync")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, zeroed, SyncFile{0, true})
    ->Name("BM_Wal/pwrite_fdatasync_zeroed")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, direct, SyncFile{O_DIRECT, false})
    ->Name("BM_Wal/pwrite_fdatasync_odirect")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, direct_dsync, SyncFile{O_DIRECT | O_DSYNC, false})
    ->Name("BM_Wal/pwrite_odirect_dsync")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK(BM_SequentialWrite)->Name("BM_Wal/sequential_write")->Args({1 << 20, 1})->Apply(one_run);

}  // namespace
}  // namespace ringraft::bench
