#include "bench/micro/durable_append_load.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "reactor/latch.h"
#include "reactor/ops.h"

namespace ringraft::bench {
namespace {

constexpr GroupId kGroup{1};

bool more(const DurableAppendLoad& load, BenchClock::time_point deadline) {
  return load.error.empty() && load.issued < load.appends_max && load.bytes < load.bytes_max &&
         BenchClock::now() < deadline;
}

// One appender: append, await durability, repeat.
Task<void> append_loop(Shard& shard, wal::Wal& log, ConstByteSpan payload,
                       BenchClock::time_point deadline, uint64_t& next_index,
                       DurableAppendLoad& load, Latch& done) {
  const auto length = static_cast<uint32_t>(payload.size());
  while (more(load, deadline)) {
    const BenchClock::time_point appended = BenchClock::now();
    const Result<Seq> seq =
        log.append_entries(kGroup, Term(1), LogIndex(next_index), std::span(&length, 1), payload);
    if (!seq.ok() && seq.error().code() == ErrorCode::kFull) {
      load.refused_full++;
      co_await ops::nop(shard.io());  // the batch leaves at the end of this turn; retry after
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
  Result<std::unique_ptr<wal::Wal>> opened =
      co_await wal::Wal::open(shard, std::move(options), wal::WalPosition{});
  if (!opened.ok()) {
    load.error = opened.error().message();
    shard.reactor().stop();
    co_return;
  }
  wal::Wal& log = *opened.value();
  const std::vector<std::byte> payload(load.entry_bytes, std::byte{0x5a});
  uint64_t next_index = 1;
  Latch done(load.in_flight);
  load.started = BenchClock::now();
  const BenchClock::time_point deadline = load.started + load.time_budget;
  for (uint32_t i = 0; i < load.in_flight; i++) {
    shard.spawn(append_loop(shard, log, payload, deadline, next_index, load, done));
  }
  co_await done.wait();
  load.finished = BenchClock::now();
  load.stats = log.stats();
  const Result<void> closed = co_await log.close();
  if (!closed.ok() && load.error.empty()) load.error = closed.error().message();
  shard.reactor().stop();
}

}  // namespace ringraft::bench
