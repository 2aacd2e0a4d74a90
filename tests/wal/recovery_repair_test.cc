// Recovery options: read_only inspects without writing; repair cuts the log at corruption
// (zeroes the bad segment from there, removes later segments) instead of refusing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"
#include "wal/batch_format.h"
#include "wal/recovery.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::flip_bit;
using testing::read_file;
using testing::recover_and_open;
using testing::recover_directory;
using testing::recovery_options;
using testing::SeenRecord;
using testing::small_options;
using testing::TempDir;
using testing::write_batches;
using testing::write_three_segments;

std::string first_segment(const TempDir& dir) {
  return dir.file(segment_file_name(Seq(1)));
}

std::vector<uint64_t> write_three_batches(const WalOptions& options) {
  std::vector<uint64_t> ends;
  run_on_reactor(
      [&](Shard& shard) -> Task<void> { ends = co_await write_batches(shard, options, 3, 150); });
  return ends;
}

// Zeroing stops at the last non-zero byte: the final batch's padding may already be zero.
bool zeroed_up_to_padding(uint64_t zeroed_bytes, uint64_t span_bytes) {
  return zeroed_bytes <= span_bytes && zeroed_bytes + kBatchAlignBytes > span_bytes;
}

TEST(RecoveryReadOnly, TornTailIsReportedButLeftOnDisk) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<uint64_t> ends = write_three_batches(options);
  flip_bit(first_segment(dir), ends[1] + 100);  // the last batch is torn
  const std::vector<std::byte> before = read_file(first_segment(dir));
  RecoveryOptions inspect = recovery_options(options);
  inspect.read_only = true;
  Result<RecoveryReport> report = recover_directory(inspect);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report.value().torn_tail_path, first_segment(dir));
  EXPECT_EQ(report.value().torn_tail_offset, ends[1]);
  EXPECT_TRUE(zeroed_up_to_padding(report.value().torn_tail_bytes, ends[2] - ends[1]));
  EXPECT_FALSE(report.value().torn_tail_reason.empty());
  EXPECT_EQ(report.value().position.next_seq, Seq(3));
  EXPECT_EQ(read_file(first_segment(dir)), before);  // nothing written
  // A second read-only pass sees the same; a writing pass then zeroes it.
  const uint64_t torn_bytes = report.value().torn_tail_bytes;
  EXPECT_EQ(recover_directory(inspect).value().torn_tail_bytes, torn_bytes);
  EXPECT_EQ(recover_directory(recovery_options(options)).value().torn_tail_bytes, torn_bytes);
  EXPECT_EQ(recover_directory(inspect).value().torn_tail_bytes, 0u);
}

TEST(RecoveryReadOnly, ShortLastSegmentIsNotExtended) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  write_three_batches(options);
  ASSERT_EQ(::truncate(first_segment(dir).c_str(), 4096), 0);
  RecoveryOptions inspect = recovery_options(options);
  inspect.read_only = true;
  Result<RecoveryReport> report = recover_directory(inspect);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report.value().batches_recovered, 3u);
  EXPECT_EQ(std::filesystem::file_size(first_segment(dir)), 4096u);
}

TEST(RecoveryReadOnly, SegmentsAreSummarized) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<std::string> paths = write_three_segments(dir, options);
  RecoveryOptions inspect = recovery_options(options);
  inspect.read_only = true;
  Result<RecoveryReport> report = recover_directory(inspect);
  ASSERT_TRUE(report.ok()) << report.error().message();
  ASSERT_EQ(report.value().segments.size(), paths.size());
  uint64_t batches = 0;
  for (size_t i = 0; i < paths.size(); i++) {
    EXPECT_EQ(report.value().segments[i].path, paths[i]);
    EXPECT_EQ(report.value().segments[i].file_bytes, options.segment_bytes);
    EXPECT_GT(report.value().segments[i].end_offset, 0u);
    batches += report.value().segments[i].batches;
  }
  EXPECT_EQ(batches, 12u);
}

TEST(RecoveryRepair, CorruptionMessageNamesTheRepairOption) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<uint64_t> ends = write_three_batches(options);
  flip_bit(first_segment(dir), ends[0] + 60);
  Result<RecoveryReport> report = recover_directory(recovery_options(options));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message().find("--repair"), std::string::npos)
      << report.error().message();
}

TEST(RecoveryRepair, BadMiddleBatchIsCutAndTheWalContinuesThere) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<uint64_t> ends = write_three_batches(options);
  flip_bit(first_segment(dir), ends[0] + 60);  // batch 2 bad, batch 3 valid after it
  RecoveryOptions repair = recovery_options(options);
  repair.repair = true;
  Result<RecoveryReport> report = recover_directory(repair);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report.value().batches_recovered, 1u);
  EXPECT_EQ(report.value().repair.path, first_segment(dir));
  EXPECT_EQ(report.value().repair.offset, ends[0]);
  EXPECT_TRUE(zeroed_up_to_padding(report.value().repair.bytes_zeroed, ends[2] - ends[0]));
  EXPECT_TRUE(report.value().repair.segments_removed.empty());
  EXPECT_EQ(report.value().position.next_seq, Seq(2));
  EXPECT_EQ(report.value().position.write_offset_bytes, ends[0]);
  // The repaired log is clean, and the writer appends after the cut.
  std::vector<SeenRecord> records;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    const uint32_t length = 3;
    const std::byte payload[3] = {};
    Result<Seq> seq = wal->append_entries(GroupId(1), Term(2), LogIndex(3), std::span(&length, 1),
                                          ConstByteSpan(payload, 3));
    EXPECT_EQ(seq.value(), Seq(2));
    EXPECT_TRUE((co_await wal->wait_durable(seq.value())).ok());
    EXPECT_TRUE((co_await wal->close()).ok());
    auto reopened = (co_await recover_and_open(shard, shard.io(), options, &records)).value();
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].seq, Seq(2));
  EXPECT_EQ(records[2].term, Term(2));
}

TEST(RecoveryRepair, BadBatchInAnOlderSegmentRemovesEveryLaterSegment) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<std::string> paths = write_three_segments(dir, options);
  ASSERT_GE(paths.size(), 3u);
  flip_bit(paths[0], 100);  // the first batch of the first segment
  RecoveryOptions repair = recovery_options(options);
  repair.repair = true;
  Result<RecoveryReport> report = recover_directory(repair);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report.value().batches_recovered, 0u);
  EXPECT_EQ(report.value().repair.offset, 0u);
  EXPECT_EQ(report.value().repair.segments_removed.size(), paths.size() - 1);
  EXPECT_EQ(report.value().repair.bytes_removed, (paths.size() - 1) * options.segment_bytes);
  for (size_t i = 1; i < paths.size(); i++) EXPECT_FALSE(std::filesystem::exists(paths[i]));
  EXPECT_EQ(report.value().position.next_seq, Seq(1));
  Result<RecoveryReport> again = recover_directory(recovery_options(options));
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again.value().segments_scanned, 1u);
  EXPECT_TRUE(again.value().repair.path.empty());
}

TEST(RecoveryRepair, MissingSegmentCutsAtTheEndOfTheOneBefore) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<std::string> paths = write_three_segments(dir, options);
  ASSERT_GE(paths.size(), 3u);
  ASSERT_EQ(::unlink(paths[1].c_str()), 0);
  RecoveryOptions repair = recovery_options(options);
  repair.repair = true;
  Result<RecoveryReport> report = recover_directory(repair);
  ASSERT_TRUE(report.ok()) << report.error().message();
  ASSERT_EQ(report.value().segments.size(), 1u);
  EXPECT_EQ(report.value().repair.path, paths[0]);
  EXPECT_EQ(report.value().repair.offset, report.value().segments[0].end_offset);
  EXPECT_EQ(report.value().repair.segments_removed.size(), paths.size() - 2);
  EXPECT_EQ(report.value().position.next_seq, Seq(report.value().segments[0].batches + 1));
  // The WAL reopens and appends where the cut left it.
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    EXPECT_EQ(wal->filling_seq(), report.value().position.next_seq);
    EXPECT_TRUE((co_await wal->close()).ok());
  });
}

TEST(RecoveryRepair, GapInAGroupLogIsCutBeforeTheWholeBatch) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  std::vector<SeenRecord> shown;
  uint64_t batch_two_offset = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    const uint32_t length = 4;
    const std::byte payload[4] = {};
    (void)wal->append_entries(GroupId(1), Term(1), LogIndex(1), std::span(&length, 1),
                              ConstByteSpan(payload, 4));
    EXPECT_TRUE((co_await wal->wait_durable(Seq(1))).ok());
    batch_two_offset = wal->segment().write_offset_bytes;
    EXPECT_TRUE((co_await wal->close()).ok());
  });
  // Batch 2, placed on disk directly (the writer refuses gaps): a valid record for group 2,
  // then entries for group 1 that leave a gap.
  {
    std::vector<std::byte> buffer(4096);
    BatchEncoder encoder(buffer);
    encoder.begin(Seq(2));
    const uint32_t length = 4;
    const std::byte payload[4] = {};
    ASSERT_TRUE(encoder.add_hard_state(GroupId(2), Term(1), NodeId(1), LogIndex(0)));
    ASSERT_TRUE(encoder.add_entries(GroupId(1), Term(1), LogIndex(5), std::span(&length, 1),
                                    ConstByteSpan(payload, 4)));
    const ConstByteSpan batch = encoder.finish();
    std::vector<std::byte> segment = read_file(first_segment(dir));
    ASSERT_LE(batch_two_offset + batch.size(), segment.size());
    std::copy(batch.begin(), batch.end(),
              segment.begin() + static_cast<ptrdiff_t>(batch_two_offset));
    testing::write_file(first_segment(dir), segment);
  }
  EXPECT_FALSE(recover_directory(recovery_options(options)).ok());
  RecoveryOptions repair = recovery_options(options);
  repair.repair = true;
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  run_on_reactor([&](Shard& shard) -> Task<void> {
    report = co_await recover(shard.io(), repair, [&](Seq seq, const Record& record) {
      shown.push_back(testing::seen(seq, record));
    });
  });
  ASSERT_TRUE(report.ok()) << report.error().message();
  ASSERT_EQ(shown.size(), 1u);  // nothing of batch 2, not even its valid first record
  EXPECT_FALSE(report.value().groups.contains(GroupId(2)));
  EXPECT_EQ(report.value().position.next_seq, Seq(2));
  EXPECT_NE(report.value().repair.reason.find("entries start at index 5"), std::string::npos)
      << report.value().repair.reason;
}

}  // namespace
}  // namespace ringraft::wal
