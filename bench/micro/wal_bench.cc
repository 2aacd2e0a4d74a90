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
//   BM_Wal/pwrite_fdatasync/4096/1                 baseline: pwrite(4 KiB) + fdatasync, a loop
//   BM_Wal/pwrite_fdatasync_odirect/4096/1         the same through O_DIRECT
//   BM_Wal/pwrite_odirect_dsync/4096/1             pwrite(4 KiB) on an O_DIRECT | O_DSYNC file
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

struct WalRun : TimedRun {
  wal::WalStats stats;
};

// One appender: append, await durability, repeat until the budget or the byte cap is spent. A
// full batch is awaited (wait_for_room), not retried every turn.
Task<void> append_loop(wal::Wal& log, const std::vector<std::byte>& payload,
                       BenchClock::time_point deadline, uint64_t& next_index, WalRun& run,
                       Latch& done) {
  const uint32_t length = static_cast<uint32_t>(payload.size());
  const size_t record_bytes = wal::entries_record_bytes(1, payload.size());
  while (run.error.empty() && run.bytes < kWalBytesMax && BenchClock::now() < deadline) {
    const Result<Seq> seq = log.append_entries(GroupId(1), Term(1), LogIndex(next_index),
                                               std::span(&length, 1), payload);
    if (!seq.ok() && seq.error().code() == ErrorCode::kFull) {
      const Result<void> room = co_await log.wait_for_room(record_bytes);
      if (!room.ok()) run.error = room.error().message();
      continue;
    }
    if (!seq.ok()) {
      run.error = seq.error().message();
      break;
    }
    next_index++;
    const Result<Seq> durable = co_await log.wait_durable(seq.value());
    if (!durable.ok()) {
      run.error = durable.error().message();
      break;
    }
    run.items++;
    run.bytes += payload.size();
  }
  done.count_down();
}

Task<void> run_appenders(Shard& shard, const wal::WalOptions& options, size_t entry_bytes,
                         uint32_t in_flight, WalRun& run) {
  Result<std::unique_ptr<wal::Wal>> opened =
      co_await wal::Wal::open(shard, options, wal::WalPosition{});
  if (opened.ok() && options.direct_io == wal::DirectIo::kRequired &&
      !opened.value()->direct_io()) {
    opened = Error(ErrorCode::kUnsupported, "O_DIRECT asked for but not in use");
  }
  if (!opened.ok()) {
    run.error = opened.error().message();
    shard.reactor().stop();
    co_return;
  }
  wal::Wal& log = *opened.value();
  const std::vector<std::byte> payload(entry_bytes, std::byte{0x5a});
  uint64_t next_index = 1;
  Latch done(in_flight);
  run.started = BenchClock::now();
  const BenchClock::time_point deadline = run.started + kTimeBudget;
  for (uint32_t i = 0; i < in_flight; i++) {
    shard.spawn(append_loop(log, payload, deadline, next_index, run, done));
  }
  co_await done.wait();
  run.finished = BenchClock::now();
  run.stats = log.stats();
  const Result<void> closed = co_await log.close();
  if (!closed.ok() && run.error.empty()) run.error = closed.error().message();
  shard.reactor().stop();
}

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
};
constexpr wal::DirectIo kBuffered = wal::DirectIo::kOff;
constexpr wal::DirectIo kDirect = wal::DirectIo::kRequired;
constexpr wal::SyncMode kFdatasync = wal::SyncMode::kFdatasync;
constexpr wal::SyncMode kDsync = wal::SyncMode::kDsyncWrites;

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
    WalRun run;
    const ReactorRunReport ran = run_reactor_workload(1, [&](Shard& shard) -> Task<void> {
      return run_appenders(shard, options, entry_bytes, in_flight, run);
    });
    if (!ran.ok() || !run.error.empty()) {
      state.SkipWithError((!ran.ok() ? ran.error : run.error).c_str());
      break;
    }
    report(state, run, directory);
    const uint64_t fsyncs = run.stats.fsyncs_completed;
    state.counters["entries_per_fsync"] =
        fsyncs == 0 ? 0.0 : static_cast<double>(run.items) / static_cast<double>(fsyncs);
    state.counters["disk_fraction"] =
        disk_bytes_per_second <= 0
            ? 0.0
            : static_cast<double>(run.bytes) / run.seconds() / disk_bytes_per_second;
    state.counters["fsyncs"] = static_cast<double>(fsyncs);
    state.counters["room_waits"] = static_cast<double>(run.stats.room_waits);
  }
}

// pwrite(4 KiB) + fdatasync into a preallocated, fsynced file. `open_flags` adds O_DIRECT (the
// page-cache copy is gone, the fdatasync that flushes the disk's cache is not) or O_DIRECT |
// O_DSYNC (no fdatasync: the write returns once durable).
void BM_PwriteFdatasync(benchmark::State& state, int open_flags) {
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

BENCHMARK_CAPTURE(BM_WalAppend, one_fsync, WalVariant{1, kBuffered, kFdatasync})
    ->Name("BM_Wal/wal")
    ->ArgsProduct({{100, 1024, 16384}, {1, 64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, four_fsyncs, WalVariant{4, kBuffered, kFdatasync})
    ->Name("BM_Wal/wal_4_fsyncs")
    ->ArgsProduct({{100, 1024, 16384}, {64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, direct, WalVariant{1, kDirect, kFdatasync})
    ->Name("BM_Wal/wal_direct")
    ->ArgsProduct({{100, 16384}, {1, 64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, direct_dsync, WalVariant{1, kDirect, kDsync})
    ->Name("BM_Wal/wal_direct_dsync")
    ->ArgsProduct({{100, 16384}, {1, 64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_WalAppend, direct_dsync_4, WalVariant{4, kDirect, kDsync})
    ->Name("BM_Wal/wal_direct_dsync_4")
    ->ArgsProduct({{100, 16384}, {64, 1024}})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, buffered, 0)
    ->Name("BM_Wal/pwrite_fdatasync")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, direct, O_DIRECT)
    ->Name("BM_Wal/pwrite_fdatasync_odirect")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK_CAPTURE(BM_PwriteFdatasync, direct_dsync, O_DIRECT | O_DSYNC)
    ->Name("BM_Wal/pwrite_odirect_dsync")
    ->Args({4096, 1})
    ->Apply(one_run);
BENCHMARK(BM_SequentialWrite)->Name("BM_Wal/sequential_write")->Args({1 << 20, 1})->Apply(one_run);

}  // namespace
}  // namespace ringraft::bench
