#include "bench/micro/durable_append_load.h"

#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "reactor/latch.h"

namespace ringraft::bench {
namespace {

constexpr GroupId kGroup{1};

// CPU time the process has used so far, user and system, in ns.
uint64_t process_cpu_ns() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto ns = [](const timeval& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000 +
           static_cast<uint64_t>(t.tv_usec) * 1000;
  };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

bool more(const DurableAppendLoad& load, BenchClock::time_point deadline) {
  return load.error.empty() && load.issued < load.appends_max && load.bytes < load.bytes_max &&
         BenchClock::now() < deadline;
}

// The snapshot marks of DurableAppendLoad::snapshot_every_bytes, shared by the appenders.
struct Marks {
  uint64_t next_at_bytes = 0;
  uint64_t index = 0;  // the latest mark's
};

// After `index` became durable: a snapshot mark there if one is due. A mark refused by a full
// batch waits for the next durable append.
void maybe_mark(wal::Wal& log, uint64_t index, DurableAppendLoad& load, Marks& marks) {
  if (load.snapshot_every_bytes == 0 || load.bytes < marks.next_at_bytes || index <= marks.index)
    return;
  if (!log.append_snapshot_mark(kGroup, LogIndex(index), Term(1)).ok()) return;
  marks.index = index;
  marks.next_at_bytes = load.bytes + load.snapshot_every_bytes;
  load.snapshot_marks++;
}

// One appender: append, await durability, repeat. A full batch is awaited (wait_for_room),
// not retried every turn.
Task<void> append_loop(wal::Wal& log, ConstByteSpan payload, BenchClock::time_point deadline,
                       uint64_t& next_index, DurableAppendLoad& load, Marks& marks, Latch& done) {
  const auto length = static_cast<uint32_t>(payload.size());
  const size_t record_bytes = wal::entries_record_bytes(1, payload.size());
  while (more(load, deadline)) {
    const BenchClock::time_point appended = BenchClock::now();
    const uint64_t index = next_index;
    const Result<Seq> seq =
        log.append_entries(kGroup, Term(1), LogIndex(index), std::span(&length, 1), payload);
    if (!seq.ok() && seq.error().code() == ErrorCode::kFull) {
      load.refused_full++;
      const Result<void> room = co_await log.wait_for_room(record_bytes);
      if (!room.ok()) load.error = room.error().message();
      continue;
    }
    if (!seq.ok()) {
      load.error = seq.error().message();
      break;
    }
    next_index++;
    load.issued++;
    const Result<Seq> durable = co_await log.wait_durable(seq.value());
    if (!durable.ok()) {
      load.error = durable.error().message();
      break;
    }
    load.completed++;
    load.bytes += payload.size();
    maybe_mark(log, index, load, marks);
    if (load.record_latencies) {
      const auto ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(BenchClock::now() - appended);
      load.latencies_ns.push_back(static_cast<uint32_t>(std::min<int64_t>(ns.count(), UINT32_MAX)));
    }
  }
  done.count_down();
}

}  // namespace

Task<void> run_durable_appends(Shard& shard, wal::WalOptions options, DurableAppendLoad& load) {
  Result<std::unique_ptr<wal::Wal>> opened = Error(ErrorCode::kNotFound, "not opened");
  if (load.continue_log) {
    opened = co_await wal::Wal::recover_and_open(shard, shard.io(), options);
  } else {
    opened = co_await wal::Wal::open(shard, options, wal::WalPosition{});
  }
  if (opened.ok() && options.direct_io == wal::DirectIo::kRequired &&
      !opened.value()->direct_io()) {
    opened = Error(ErrorCode::kUnsupported, "O_DIRECT asked for but not in use");
  }
  if (!opened.ok()) {
    load.error = opened.error().message();
    shard.reactor().stop();
    co_return;
  }
  wal::Wal& log = *opened.value();
  const std::vector<std::byte> payload(load.entry_bytes, std::byte{0x5a});
  uint64_t next_index = log.last_index(kGroup).value() + 1;
  Marks marks;
  marks.next_at_bytes = load.snapshot_every_bytes;
  marks.index = log.index().group(kGroup) ? log.index().group(kGroup)->snapshot_index().value() : 0;
  Latch done(load.in_flight);
  load.started = BenchClock::now();
  const uint64_t cpu_started_ns = process_cpu_ns();
  const BenchClock::time_point deadline = load.started + load.time_budget;
  for (uint32_t i = 0; i < load.in_flight; i++) {
    shard.spawn(append_loop(log, payload, deadline, next_index, load, marks, done));
  }
  co_await done.wait();
  load.finished = BenchClock::now();
  load.cpu_ns = process_cpu_ns() - cpu_started_ns;
  load.stats = log.stats();
  const Result<void> closed = co_await log.close();
  if (!closed.ok() && load.error.empty()) load.error = closed.error().message();
  shard.reactor().stop();
}

}  // namespace ringraft::bench
