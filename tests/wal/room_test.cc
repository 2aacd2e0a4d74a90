// Wal::wait_for_room: appenders that find the batch full wait for a fresh batch instead of
// spinning, resume in arrival order, and learn of a failure or a close.
#include <gtest/gtest.h>

#include <vector>

#include "reactor/latch.h"
#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"
#include "wal/wal.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::FaultyIo;
using testing::payload_bytes;
using testing::recover_and_open;
using testing::SeenRecord;
using testing::small_options;
using testing::TempDir;

constexpr size_t kEntryBytes = 100;

// Appends entries of kEntryBytes for group 1 from a shared next index until `count` were
// appended in all, awaiting room when the batch is full and durability after each append.
// Records what each append returned, in order, and the kFull answers it saw.
struct Appenders {
  uint64_t next_index = 1;
  uint64_t count = 0;
  uint64_t full_answers = 0;
  std::vector<SeenRecord> appended;
  std::vector<int> room_order;  // which appender took the room, in the order it did
};

Task<void> append_until(Wal& wal, int id, Appenders& shared, Latch& done) {
  const size_t record_bytes = entries_record_bytes(1, kEntryBytes);
  while (shared.next_index <= shared.count) {
    const uint64_t index = shared.next_index;
    const std::vector<std::byte> payload = payload_bytes(index, kEntryBytes);
    const uint32_t length = kEntryBytes;
    Result<Seq> seq =
        wal.append_entries(GroupId(1), Term(1), LogIndex(index), std::span(&length, 1), payload);
    if (!seq.ok() && seq.error().code() == ErrorCode::kFull) {
      shared.full_answers++;
      const Result<void> room = co_await wal.wait_for_room(record_bytes);
      EXPECT_TRUE(room.ok()) << room.error().message();
      if (!room.ok()) break;
      shared.room_order.push_back(id);
      continue;
    }
    EXPECT_TRUE(seq.ok()) << seq.error().message();
    if (!seq.ok()) break;
    shared.next_index++;
    shared.appended.push_back(SeenRecord{.seq = seq.value(),
                                         .kind = RecordKind::kEntries,
                                         .group = GroupId(1),
                                         .term = Term(1),
                                         .index = LogIndex(index),
                                         .entry_lengths = {length},
                                         .payload = payload});
    const Result<Seq> durable = co_await wal.wait_durable(seq.value());
    EXPECT_TRUE(durable.ok());
    if (!durable.ok()) break;
  }
  done.count_down();
}

TEST(WalRoom, FullBatchAppendersWaitForRoomAndEveryEntryLands) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.batch_bytes_max = 1024;  // seven 100-byte entries a batch
  options.fsyncs_in_flight_max = 2;
  constexpr int kAppenders = 32;
  Appenders shared;
  shared.count = 600;
  std::vector<SeenRecord> recovered;
  WalStats stats;
  ShardStats shard_stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    Latch done(kAppenders);
    for (int id = 0; id < kAppenders; id++) shard.spawn(append_until(*wal, id, shared, done));
    co_await done.wait();
    stats = wal->stats();
    shard_stats = shard.stats();
    EXPECT_TRUE((co_await wal->close()).ok());
    auto reopened = (co_await recover_and_open(shard, shard.io(), options, &recovered)).value();
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
  EXPECT_EQ(shared.appended.size(), shared.count);
  EXPECT_EQ(recovered, shared.appended);
  EXPECT_GT(stats.room_waits, 0u);
  // Waiting, not spinning: each waiter is resumed for room at most about once per batch (a
  // spinning appender retries every turn; this bounds the retries by the batches written).
  EXPECT_LE(shared.full_answers, stats.room_waits + stats.batches_written * 2);
  EXPECT_LE(shard_stats.turns, stats.batches_written * 8 + 64);
}

TEST(WalRoom, WaitersResumeInArrivalOrder) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.batch_bytes_max = 1024;
  std::vector<int> order;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    // Fill the batch so that nothing more fits this turn.
    const size_t record_bytes = entries_record_bytes(1, kEntryBytes);
    uint64_t index = 1;
    while (wal->batch_fits(record_bytes)) {
      const std::vector<std::byte> payload = payload_bytes(index, kEntryBytes);
      const uint32_t length = kEntryBytes;
      EXPECT_TRUE(
          wal->append_entries(GroupId(1), Term(1), LogIndex(index), std::span(&length, 1), payload)
              .ok());
      index++;
    }
    constexpr int kWaiters = 5;
    Latch done(kWaiters);
    for (int id = 0; id < kWaiters; id++) {
      shard.spawn(
          [](Wal& log, int me, size_t bytes, std::vector<int>& seen, Latch& latch) -> Task<void> {
            const Result<void> room = co_await log.wait_for_room(bytes);
            EXPECT_TRUE(room.ok());
            seen.push_back(me);
            latch.count_down();
          }(*wal, id, record_bytes, order, done));
    }
    EXPECT_TRUE(order.empty());  // nobody resumed before the batch was handed off
    EXPECT_EQ(wal->stats().room_waits, static_cast<uint64_t>(kWaiters));
    co_await done.wait();
    EXPECT_TRUE((co_await wal->close()).ok());
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(WalRoom, WaitersLearnOfAFailureAndOfAClose) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.batch_bytes_max = 1024;
  std::vector<ErrorCode> answers;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FaultyIo faulty(shard.io());
    for (const bool fail : {true, false}) {
      TempDir each;
      options.directory = each.path();
      auto wal = (co_await recover_and_open(shard, faulty, options, nullptr)).value();
      if (fail) faulty.fail_nth(OpCode::kFsync, 1, EIO);
      const size_t record_bytes = entries_record_bytes(1, kEntryBytes);
      uint64_t index = 1;
      while (wal->batch_fits(record_bytes)) {
        const std::vector<std::byte> payload = payload_bytes(index, kEntryBytes);
        const uint32_t length = kEntryBytes;
        (void)wal->append_entries(GroupId(1), Term(1), LogIndex(index), std::span(&length, 1),
                                  payload);
        index++;
      }
      // A record too large for any batch is refused at once, without waiting.
      const Result<void> never = co_await wal->wait_for_room(options.batch_bytes_max);
      EXPECT_EQ(never.error().code(), ErrorCode::kInvalidInput);
      Latch done(1);
      shard.spawn(
          [](Wal& log, uint64_t next, std::vector<ErrorCode>& seen, Latch& latch) -> Task<void> {
            // One entry filling a whole batch: it waits for an empty one. Whether the failure
            // comes before the room or after the append, this waiter learns of it.
            const size_t bytes = log.batch_record_capacity_bytes();
            const Result<void> room = co_await log.wait_for_room(bytes);
            Result<Seq> outcome = Seq(0);
            if (!room.ok()) {
              outcome = room.error();
            } else {
              const std::vector<std::byte> payload = payload_bytes(next, bytes - 40);
              const uint32_t length = static_cast<uint32_t>(payload.size());
              EXPECT_EQ(entries_record_bytes(1, payload.size()), bytes);
              outcome = log.append_entries(GroupId(1), Term(1), LogIndex(next),
                                           std::span(&length, 1), payload);
              if (outcome.ok()) outcome = co_await log.wait_durable(outcome.value());
            }
            seen.push_back(outcome.ok() ? ErrorCode::kNotFound : outcome.error().code());
            latch.count_down();
          }(*wal, index, answers, done));
      if (fail) {
        (void)co_await wal->wait_durable(Seq(1));
        co_await done.wait();
        EXPECT_FALSE((co_await wal->close()).ok());
      } else {
        const Result<void> closed = co_await wal->close();
        EXPECT_TRUE(closed.ok());
        co_await done.wait();
      }
    }
  });
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], ErrorCode::kIo);
  EXPECT_EQ(answers[1], ErrorCode::kClosed);
}

}  // namespace
}  // namespace ringraft::wal
