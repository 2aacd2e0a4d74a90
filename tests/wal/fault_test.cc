// Faults below the WAL: a filesystem that fills up (a real size-limited tmpfs), and EIO injected
// into writes, fdatasyncs and recovery's reads and writes through FaultyIo. In every case the
// WAL fails for good with a clear error, never reports as durable what is not, the process
// stays up, and recovery afterwards yields a prefix of what was appended that holds everything
// that was acknowledged.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "reactor/latch.h"
#include "tests/reactor/test_reactor.h"
#include "tests/support/small_tmpfs.h"
#include "tests/wal/wal_test_util.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using ringraft::testing::SmallTmpfs;
using testing::FaultyIo;
using testing::payload_bytes;
using testing::recover_and_open;
using testing::recover_directory;
using testing::recovery_options;
using testing::SeenRecord;
using testing::small_options;
using testing::TempDir;

Result<Seq> append_entry(Wal& wal, uint64_t index, size_t size_bytes,
                         std::vector<SeenRecord>* appended) {
  const std::vector<std::byte> payload = payload_bytes(index, size_bytes);
  const uint32_t length = static_cast<uint32_t>(payload.size());
  Result<Seq> seq =
      wal.append_entries(GroupId(1), Term(1), LogIndex(index), std::span(&length, 1), payload);
  if (seq.ok()) {
    appended->push_back(SeenRecord{.seq = seq.value(),
                                   .kind = RecordKind::kEntries,
                                   .group = GroupId(1),
                                   .term = Term(1),
                                   .index = LogIndex(index),
                                   .entry_lengths = {length},
                                   .payload = payload});
  }
  return seq;
}

// `recovered` is a prefix of `appended` and holds every record of a batch <= acked_seq.
void expect_acknowledged_prefix(const std::vector<SeenRecord>& recovered,
                                const std::vector<SeenRecord>& appended, Seq acked_seq) {
  ASSERT_LE(recovered.size(), appended.size());
  for (size_t i = 0; i < recovered.size(); i++) ASSERT_EQ(recovered[i], appended[i]) << i;
  for (size_t i = recovered.size(); i < appended.size(); i++) {
    EXPECT_GT(appended[i].seq, acked_seq) << "acknowledged record " << i << " was lost";
  }
}

TEST(WalFault, FullFilesystemFailsTheWalAndRecoveryKeepsTheAcknowledgedPrefix) {
  SmallTmpfs fs(uint64_t{256} * 1024);  // room for about four 64 KiB segments
  if (!fs.mounted()) GTEST_SKIP() << fs.skip_reason();
  const WalOptions options = small_options(fs.dir());
  std::vector<SeenRecord> appended;
  Seq acked_seq;
  std::optional<Error> failure;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    for (uint64_t index = 1; index < 1000 && !failure; index += 3) {
      Result<Seq> seq = Seq(0);
      for (uint64_t i = index; i < index + 3 && seq.ok(); i++) {
        seq = append_entry(*wal, i, 4000, &appended);
      }
      if (!seq.ok()) {
        failure = seq.error();
        break;
      }
      const Result<Seq> durable = co_await wal->wait_durable(seq.value());
      if (!durable.ok()) {
        failure = durable.error();
        break;
      }
      acked_seq = durable.value();
    }
    RR_CO_ASSERT_TRUE(failure.has_value());
    EXPECT_TRUE(wal->failed());
    EXPECT_EQ(wal->durable_seq(), acked_seq);
    // Later appends fail with the same error; nothing more becomes durable.
    std::vector<SeenRecord> refused;
    const Result<Seq> later = append_entry(*wal, 5000, 10, &refused);
    RR_CO_ASSERT_TRUE(!later.ok());
    EXPECT_EQ(later.error().errno_value(), ENOSPC);
    co_await shard.yield();
    EXPECT_EQ(wal->durable_seq(), acked_seq);
    EXPECT_FALSE((co_await wal->close()).ok());
  });
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->errno_value(), ENOSPC) << failure->message();
  EXPECT_NE(failure->message().find("No space left"), std::string::npos) << failure->message();
  EXPECT_GE(acked_seq, Seq(4));  // the first segments filled before the space ran out

  // Read-only recovery on the full filesystem: the acknowledged prefix.
  std::vector<SeenRecord> recovered;
  RecoveryOptions inspect = recovery_options(options);
  inspect.read_only = true;
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  run_on_reactor([&](Shard& shard) -> Task<void> {
    report = co_await recover(shard.io(), inspect, [&](Seq seq, const Record& record) {
      recovered.push_back(testing::seen(seq, record));
    });
  });
  ASSERT_TRUE(report.ok()) << report.error().message();
  expect_acknowledged_prefix(recovered, appended, acked_seq);

  // A writing recovery on the still-full filesystem either succeeds or fails with ENOSPC
  // (restoring the size of a segment whose creation ran out of space), never worse.
  Result<RecoveryReport> writing = recover_directory(recovery_options(options));
  if (!writing.ok()) {
    EXPECT_EQ(writing.error().errno_value(), ENOSPC) << writing.error().message();
  }

  // With space again, the WAL reopens after that prefix and takes appends.
  ASSERT_TRUE(fs.resize(uint64_t{1} << 20)) << std::strerror(errno);
  recovered.clear();
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = co_await recover_and_open(shard, shard.io(), options, &recovered);
    RR_CO_ASSERT_TRUE(wal.ok());
    std::vector<SeenRecord> more;
    const Result<Seq> seq = append_entry(*wal.value(), 9000, 100, &more);
    RR_CO_ASSERT_TRUE(seq.ok());
    EXPECT_TRUE((co_await wal.value()->wait_durable(seq.value())).ok());
    EXPECT_TRUE((co_await wal.value()->close()).ok());
  });
  expect_acknowledged_prefix(recovered, appended, acked_seq);
}

// With two write+fdatasync pairs in flight, a failed fdatasync of the older batch is final even
// when the newer one's fdatasync succeeds: durable never moves past the failed batch.
TEST(WalFault, FailedFdatasyncIsNotSkippedByALaterSuccessfulOne) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.fsyncs_in_flight_max = 2;
  std::vector<SeenRecord> appended;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FaultyIo faulty(shard.io());
    auto wal = (co_await recover_and_open(shard, faulty, options, nullptr)).value();
    faulty.fail_nth(OpCode::kFsync, 1, EIO);
    const Result<Seq> first = append_entry(*wal, 1, 100, &appended);
    RR_CO_ASSERT_TRUE(first.ok());
    // A no-op round trip through the ring: the turn's before_sleep hook hands batch 1 to the
    // kernel first, so batch 2 goes into the next batch while batch 1 may still be in flight.
    EXPECT_TRUE((co_await ops::nop(shard.io())).ok());
    EXPECT_EQ(wal->written_seq(), first.value());
    const Result<Seq> second = append_entry(*wal, 2, 100, &appended);
    const Result<Seq> first_durable = co_await wal->wait_durable(first.value());
    EXPECT_FALSE(first_durable.ok());
    if (second.ok()) {
      EXPECT_GT(second.value(), first.value());
      EXPECT_FALSE((co_await wal->wait_durable(second.value())).ok());
    } else {
      EXPECT_EQ(second.error().errno_value(), EIO);  // batch 1 had already failed
    }
    EXPECT_EQ(faulty.injected(), 1u);
    EXPECT_EQ(wal->durable_seq(), Seq(0));
    EXPECT_TRUE(wal->failed());
    EXPECT_FALSE((co_await wal->close()).ok());
  });
  // The bytes did reach the file (the injected error came after the real sync): recovery may
  // find them, as it may find any unacknowledged batch; only a prefix, never a gap.
  std::vector<SeenRecord> recovered;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = co_await recover_and_open(shard, shard.io(), options, &recovered);
    RR_CO_ASSERT_TRUE(wal.ok());
    EXPECT_TRUE((co_await wal.value()->close()).ok());
  });
  expect_acknowledged_prefix(recovered, appended, Seq(0));
}

// An appender waiting on a batch whose write failed gets the write's error, and every append
// in the same and later turns is refused; recovery keeps exactly the acknowledged batches.
TEST(WalFault, FailedWriteAfterAcknowledgedBatchesKeepsThemOnRecovery) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  std::vector<SeenRecord> appended;
  Seq acked_seq;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FaultyIo faulty(shard.io());
    auto wal = (co_await recover_and_open(shard, faulty, options, nullptr)).value();
    for (uint64_t index = 1; index <= 5; index++) {
      const Result<Seq> seq = append_entry(*wal, index, 500, &appended);
      RR_CO_ASSERT_TRUE(seq.ok());
      acked_seq = (co_await wal->wait_durable(seq.value())).value();
    }
    faulty.fail_nth(OpCode::kWrite, 1, EIO);
    const Result<Seq> seq = append_entry(*wal, 6, 500, &appended);
    RR_CO_ASSERT_TRUE(seq.ok());
    const Result<Seq> durable = co_await wal->wait_durable(seq.value());
    RR_CO_ASSERT_TRUE(!durable.ok());
    EXPECT_EQ(durable.error().errno_value(), EIO);
    EXPECT_EQ(wal->stats().fsyncs_completed, 5u);  // the linked fdatasync never counted
    EXPECT_FALSE((co_await wal->close()).ok());
  });
  std::vector<SeenRecord> recovered;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = co_await recover_and_open(shard, shard.io(), options, &recovered);
    RR_CO_ASSERT_TRUE(wal.ok());
    EXPECT_TRUE((co_await wal.value()->close()).ok());
  });
  EXPECT_GE(recovered.size(), 5u);
  expect_acknowledged_prefix(recovered, appended, acked_seq);
}

TEST(WalFault, ReadErrorDuringRecoveryIsAnIoErrorNamingTheSegment) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    (void)co_await testing::write_batches(shard, options, 3, 150);
  });
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FaultyIo faulty(shard.io());
    faulty.fail_nth(OpCode::kRead, 1, EIO);
    report = co_await recover(faulty, recovery_options(options));
  });
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code(), ErrorCode::kIo);
  EXPECT_EQ(report.error().errno_value(), EIO);
  EXPECT_NE(report.error().message().find(segment_file_name(Seq(1))), std::string::npos)
      << report.error().message();
}

// Zeroing a torn tail is a write and an fdatasync like any other: if either fails, recovery
// fails (the writer must not continue over a tail that may still hold the torn bytes).
void expect_torn_tail_fault_fails_recovery(OpCode code) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  std::vector<uint64_t> ends;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    ends = co_await testing::write_batches(shard, options, 3, 150);
  });
  testing::flip_bit(dir.file(segment_file_name(Seq(1))), ends[1] + 100);
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FaultyIo faulty(shard.io());
    faulty.fail_nth(code, 1, EIO);
    report = co_await recover(faulty, recovery_options(options));
    EXPECT_EQ(faulty.injected(), 1u);
  });
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().errno_value(), EIO);
  EXPECT_NE(report.error().message().find(segment_file_name(Seq(1))), std::string::npos)
      << report.error().message();
  // Nothing was lost by the failed attempt: the next recovery zeroes the tail and keeps two.
  Result<RecoveryReport> again = recover_directory(recovery_options(options));
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again.value().batches_recovered, 2u);
}

TEST(WalFault, WriteErrorWhileZeroingATornTailFailsRecovery) {
  expect_torn_tail_fault_fails_recovery(OpCode::kWrite);
}

TEST(WalFault, FdatasyncErrorWhileZeroingATornTailFailsRecovery) {
  expect_torn_tail_fault_fails_recovery(OpCode::kFsync);
}

}  // namespace
}  // namespace ringraft::wal
