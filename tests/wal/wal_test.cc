// The WAL's write path: group commit, durability, segment rolls, full buffers and failures.
#include "wal/wal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "reactor/latch.h"
#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::FaultyIo;
using testing::payload_bytes;
using testing::recover_and_open;
using testing::SeenRecord;
using testing::small_options;
using testing::TempDir;

size_t segment_count(const TempDir& dir) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (parse_segment_file_name(entry.path().filename().string())) count++;
  }
  return count;
}

// Appends one entries record of one entry and returns the record as recovery will show it.
SeenRecord append_one(Wal& wal, GroupId group, uint64_t index, size_t payload_size_bytes,
                      Result<Seq>* seq) {
  const std::vector<std::byte> payload = payload_bytes(index, payload_size_bytes);
  const uint32_t length = static_cast<uint32_t>(payload.size());
  *seq = wal.append_entries(group, Term(1), LogIndex(index), std::span(&length, 1), payload);
  return SeenRecord{.seq = seq->ok() ? seq->value() : Seq(0),
                    .kind = RecordKind::kEntries,
                    .group = group,
                    .term = Term(1),
                    .index = LogIndex(index),
                    .entry_lengths = {length},
                    .payload = payload};
}

TEST(Wal, ManyAppendsInOneTurnBecomeOneBatchAndOneFsync) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  WalStats stats;
  std::vector<SeenRecord> appended, recovered;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    Result<Seq> seq = Seq(0);
    for (uint64_t index = 1; index <= 100; index++) {
      appended.push_back(append_one(*wal, GroupId(1), index, 50, &seq));
      EXPECT_EQ(seq.value(), Seq(1));  // all in the batch being filled
    }
    EXPECT_EQ(wal->durable_seq(), Seq(0));
    const Result<Seq> durable = co_await wal->wait_durable(Seq(1));
    EXPECT_TRUE(durable.ok());
    EXPECT_EQ(wal->durable_seq(), Seq(1));
    EXPECT_EQ(wal->written_seq(), Seq(1));
    stats = wal->stats();
    EXPECT_TRUE((co_await wal->close()).ok());
    auto reopened = (co_await recover_and_open(shard, shard.io(), options, &recovered)).value();
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
  EXPECT_EQ(stats.records_appended, 100u);
  EXPECT_EQ(stats.batches_written, 1u);
  EXPECT_EQ(stats.fsyncs_completed, 1u);
  EXPECT_EQ(stats.batches_durable, 1u);
  EXPECT_EQ(recovered, appended);
}

TEST(Wal, ConcurrentAppendersInOneTurnShareOneFsync) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  constexpr int kAppenders = 64;
  int durable_count = 0;
  WalStats stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    Latch done(kAppenders);
    for (int i = 0; i < kAppenders; i++) {
      shard.spawn([](Wal& log, uint64_t index, int& count, Latch& latch) -> Task<void> {
        Result<Seq> seq = Seq(0);
        append_one(log, GroupId(index), index, 100, &seq);
        EXPECT_TRUE(seq.ok());
        if (seq.ok()) {
          const Result<Seq> durable = co_await log.wait_durable(seq.value());
          if (durable.ok()) count++;
        }
        latch.count_down();
      }(*wal, static_cast<uint64_t>(i) + 1, durable_count, done));
    }
    co_await done.wait();
    stats = wal->stats();
    EXPECT_TRUE((co_await wal->close()).ok());
  });
  EXPECT_EQ(durable_count, kAppenders);
  EXPECT_EQ(stats.batches_written, 1u);
  EXPECT_EQ(stats.fsyncs_completed, 1u);
}

// Appends across many turns and segment boundaries, then recovers exactly what was appended.
void round_trip_across_segments(uint32_t fsyncs_in_flight_max) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.fsyncs_in_flight_max = fsyncs_in_flight_max;
  std::vector<SeenRecord> appended, recovered;
  WalStats stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    uint64_t index = 1;
    for (int turn = 0; turn < 120; turn++) {
      Result<Seq> seq = Seq(0);
      for (int record = 0; record < 3; record++, index++) {
        appended.push_back(append_one(*wal, GroupId(7), index, 1 + (index * 37) % 1500, &seq));
        EXPECT_TRUE(seq.ok());
      }
      // Every other turn waits for durability; the others let batches queue behind the sync.
      if (turn % 2 == 0) {
        EXPECT_TRUE((co_await wal->wait_durable(seq.value())).ok());
        EXPECT_GE(wal->durable_seq(), seq.value());
      } else {
        co_await shard.yield();
      }
      EXPECT_LE(wal->durable_seq(), wal->written_seq());
    }
    stats = wal->stats();
    EXPECT_TRUE((co_await wal->close()).ok());
    auto reopened = (co_await recover_and_open(shard, shard.io(), options, &recovered)).value();
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
  EXPECT_GE(stats.segments_created, 4u);
  EXPECT_EQ(segment_count(dir), stats.segments_created);
  EXPECT_LE(stats.batches_written, 120u);
  ASSERT_EQ(recovered.size(), appended.size());
  // Sequence numbers are assigned at append time; compare everything.
  EXPECT_EQ(recovered, appended);
}

TEST(Wal, RoundTripAcrossSegmentBoundaries) {
  round_trip_across_segments(1);
}

TEST(Wal, RoundTripAcrossSegmentBoundariesWithTwoFsyncsInFlight) {
  round_trip_across_segments(2);
}

TEST(Wal, FullBatchBufferRefusesWithKFullUntilTheBatchIsHandedOff) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.batch_bytes_max = 1024;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    Result<Seq> seq = Seq(0);
    int accepted = 0;
    for (uint64_t index = 1; index <= 100; index++) {
      append_one(*wal, GroupId(1), index, 100, &seq);
      if (!seq.ok()) break;
      accepted++;
    }
    RR_CO_ASSERT_TRUE(!seq.ok());
    EXPECT_EQ(seq.error().code(), ErrorCode::kFull);
    EXPECT_GT(accepted, 3);
    EXPECT_LT(accepted, 10);
    EXPECT_EQ(wal->stats().appends_refused_full, 1u);
    EXPECT_TRUE((co_await wal->wait_durable(Seq(1))).ok());
    append_one(*wal, GroupId(1), static_cast<uint64_t>(accepted) + 1, 100, &seq);
    EXPECT_TRUE(seq.ok());
    if (seq.ok()) {
      EXPECT_EQ(seq.value(), Seq(2));
    }
    EXPECT_TRUE((co_await wal->close()).ok());
  });
}

TEST(Wal, RecordLargerThanABatchIsInvalidInput) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.batch_bytes_max = 1024;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    Result<Seq> seq = Seq(0);
    append_one(*wal, GroupId(1), 1, 2000, &seq);
    RR_CO_ASSERT_TRUE(!seq.ok());
    EXPECT_EQ(seq.error().code(), ErrorCode::kInvalidInput);
    EXPECT_TRUE((co_await wal->close()).ok());
  });
}

TEST(Wal, InvalidOptionsAreRefused) {
  TempDir dir;
  const WalOptions good = small_options(dir);
  EXPECT_TRUE(validate(good).ok());
  WalOptions bad = good;
  bad.directory.clear();
  EXPECT_FALSE(validate(bad).ok());
  bad = good;
  bad.segment_bytes = good.batch_bytes_max - 8;
  EXPECT_FALSE(validate(bad).ok());
  bad = good;
  bad.batch_bytes_max = 1001;
  EXPECT_FALSE(validate(bad).ok());
  bad = good;
  bad.fsyncs_in_flight_max = 0;
  EXPECT_FALSE(validate(bad).ok());
}

// Injects one failure into the nth matching operation after one batch became durable, and
// checks that the WAL fails for good without reporting anything more as durable.
void expect_failure_is_final(OpCode code, int errno_value, const char* message_part) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FaultyIo faulty(shard.io());
    auto wal = (co_await recover_and_open(shard, faulty, options, nullptr)).value();
    Result<Seq> seq = Seq(0);
    append_one(*wal, GroupId(1), 1, 100, &seq);
    EXPECT_TRUE((co_await wal->wait_durable(seq.value())).ok());

    faulty.fail_nth(code, 1, errno_value);
    append_one(*wal, GroupId(1), 2, 100, &seq);
    const Seq failed_seq = seq.value();
    const Result<Seq> durable = co_await wal->wait_durable(failed_seq);
    EXPECT_EQ(faulty.injected(), 1u);
    RR_CO_ASSERT_TRUE(!durable.ok());
    EXPECT_EQ(durable.error().errno_value(), errno_value);
    EXPECT_NE(durable.error().message().find(message_part), std::string::npos)
        << durable.error().message();
    EXPECT_TRUE(wal->failed());
    EXPECT_EQ(wal->durable_seq(), Seq(1));

    // Later appends fail with the same error; nothing becomes durable again.
    append_one(*wal, GroupId(1), 3, 100, &seq);
    RR_CO_ASSERT_TRUE(!seq.ok());
    EXPECT_EQ(seq.error().errno_value(), errno_value);
    co_await shard.yield();
    co_await shard.yield();
    EXPECT_EQ(wal->durable_seq(), Seq(1));
    EXPECT_EQ(wal->stats().batches_durable, 1u);
    EXPECT_EQ(wal->stats().batches_written, 2u);  // nothing retried after the failure
    const Result<void> closed = co_await wal->close();
    EXPECT_FALSE(closed.ok());
  });
}

TEST(Wal, FailedFdatasyncIsFinal) {
  expect_failure_is_final(OpCode::kFsync, EIO, "fdatasync");
}

TEST(Wal, FailedWriteIsFinal) {
  expect_failure_is_final(OpCode::kWrite, ENOSPC, "write of");
}

TEST(Wal, WaitersQueuedBehindAFailedSyncAllFail) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  int failed_waiters = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FaultyIo faulty(shard.io());
    auto wal = (co_await recover_and_open(shard, faulty, options, nullptr)).value();
    faulty.fail_nth(OpCode::kFsync, 1, EIO);
    constexpr int kWaiters = 8;
    Latch done(kWaiters);
    for (int i = 0; i < kWaiters; i++) {
      shard.spawn([](Wal& log, uint64_t index, int& failed, Latch& latch) -> Task<void> {
        Result<Seq> seq = Seq(0);
        append_one(log, GroupId(1), index, 10, &seq);
        if (seq.ok()) {
          const Result<Seq> durable = co_await log.wait_durable(seq.value());
          if (!durable.ok()) failed++;
        }
        latch.count_down();
      }(*wal, static_cast<uint64_t>(i) + 1, failed_waiters, done));
      if (i == kWaiters / 2) co_await shard.yield();  // the second half joins a later batch
    }
    co_await done.wait();
    EXPECT_EQ(wal->durable_seq(), Seq(0));
    EXPECT_FALSE((co_await wal->close()).ok());
  });
  EXPECT_EQ(failed_waiters, 8);
}

TEST(Wal, FailedSegmentCreationFailsTheWal) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  // Names every later segment could take already exist, so the first roll fails (EEXIST).
  for (uint64_t seq = 2; seq < 64; seq++) {
    FileDescriptor(::open(dir.file(segment_file_name(Seq(seq))).c_str(),
                          O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  }
  Result<Seq> failure = Seq(0);
  Seq durable_before;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    // A fresh WAL (not recovered: the decoy files are not a valid log).
    auto wal = (co_await Wal::open(shard, options, WalPosition{})).value();
    Result<Seq> seq = Seq(0);
    for (uint64_t index = 1; index < 64 && seq.ok(); index++) {
      append_one(*wal, GroupId(1), index, size_t{12} * 1024, &seq);
      if (!seq.ok()) break;
      durable_before = wal->durable_seq();
      failure = co_await wal->wait_durable(seq.value());
      if (!failure.ok()) break;
    }
    EXPECT_EQ(wal->durable_seq(), durable_before);
    EXPECT_FALSE((co_await wal->close()).ok());
  });
  ASSERT_FALSE(failure.ok());
  EXPECT_EQ(failure.error().errno_value(), EEXIST);
  EXPECT_NE(failure.error().message().find("creating WAL segment"), std::string::npos)
      << failure.error().message();
  EXPECT_GE(durable_before, Seq(4));  // four 12 KiB batches fit the first 64 KiB segment
}

TEST(Wal, RollsUseTheSegmentPreparedInTheBackground) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  // A leftover of a crash while a segment was being prepared: deleted at open.
  FileDescriptor(::open(dir.file(std::string(kPreparedSegmentName)).c_str(),
                        O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  std::vector<SeenRecord> appended, recovered;
  WalStats stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    EXPECT_FALSE(std::filesystem::exists(dir.file(std::string(kPreparedSegmentName))));
    Result<Seq> seq = Seq(0);
    for (uint64_t index = 1; index <= 60; index++) {
      appended.push_back(append_one(*wal, GroupId(1), index, 4000, &seq));
      RR_CO_ASSERT_TRUE(seq.ok());
      RR_CO_ASSERT_TRUE((co_await wal->wait_durable(seq.value())).ok());
    }
    stats = wal->stats();
    EXPECT_TRUE((co_await wal->close()).ok());
    auto reopened = (co_await recover_and_open(shard, shard.io(), options, &recovered)).value();
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
  EXPECT_GE(stats.segments_created, 3u);
  // The prepare starts at half a segment and has the other half's batches to finish in; a roll
  // that comes first creates the segment itself, so only "at least one" is certain.
  EXPECT_GE(stats.segments_prepared, 1u);
  EXPECT_EQ(segment_count(dir), stats.segments_created);
  EXPECT_FALSE(std::filesystem::exists(dir.file(std::string(kPreparedSegmentName))));
  EXPECT_EQ(recovered, appended);
}

}  // namespace
}  // namespace ringraft::wal
