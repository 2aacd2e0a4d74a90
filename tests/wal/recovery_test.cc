// Recovery: torn tails are truncated, corruption is refused with the file and offset, and the
// per-group summary applies records in log order.
#include "wal/recovery.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::flip_bit;
using testing::payload_bytes;
using testing::read_file;
using testing::recover_and_open;
using testing::recover_directory;
using testing::recovery_options;
using testing::SeenRecord;
using testing::small_options;
using testing::TempDir;
using testing::write_batches;
using testing::write_file;
using testing::write_three_segments;

std::string first_segment(const TempDir& dir) {
  return dir.file(segment_file_name(Seq(1)));
}

TEST(Recovery, EmptyDirectoryStartsAtSequenceOne) {
  TempDir dir;
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  run_on_reactor([&](Shard& shard) -> Task<void> {
    report = co_await recover(shard.io(), recovery_options(small_options(dir)));
  });
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report.value().position.next_seq, Seq(1));
  EXPECT_FALSE(report.value().position.segment_first_seq.has_value());
  EXPECT_EQ(report.value().batches_recovered, 0u);
}

TEST(Recovery, TornTailOfEveryLengthKeepsExactlyTheBatchesBeforeIt) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::string path = first_segment(dir);
  std::vector<uint64_t> ends;
  std::vector<std::byte> original;
  int checked = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    ends = co_await write_batches(shard, options, 3, 150);
    original = read_file(path);
    const uint64_t last_start = ends[1];
    // Up to the batch's last non-zero byte: zeroing padding that is zero already tears nothing.
    uint64_t last_end = ends[2];
    while (last_end > last_start && original[last_end - 1] == std::byte{0}) last_end--;
    for (uint64_t cut = last_start; cut < last_end; cut++) {
      for (const bool shorten : {false, true}) {
        // Shortened files cost a re-extension each: every 16th length is enough for those.
        if (shorten && (cut - last_start) % 16 != 0) continue;
        write_file(path, original);
        if (shorten) {
          EXPECT_EQ(::truncate(path.c_str(), static_cast<off_t>(cut)), 0);
        } else {
          std::vector<std::byte> damaged = original;
          std::fill(damaged.begin() + static_cast<ptrdiff_t>(cut),
                    damaged.begin() + static_cast<ptrdiff_t>(last_end), std::byte{0});
          write_file(path, damaged);
        }
        std::vector<SeenRecord> records;
        const RecordVisitor visitor = [&records](Seq seq, const Record& record) {
          records.push_back(testing::seen(seq, record));
        };
        Result<RecoveryReport> report =
            co_await recover(shard.io(), recovery_options(options), visitor);
        RR_CO_ASSERT_TRUE(report.ok());
        const RecoveryReport& r = report.value();
        EXPECT_EQ(r.batches_recovered, 2u) << "cut " << cut;
        EXPECT_EQ(records.size(), 4u) << "cut " << cut;
        EXPECT_EQ(r.position.next_seq, Seq(3));
        EXPECT_EQ(r.position.write_offset_bytes, last_start);
        EXPECT_EQ(r.position.segment_bytes, options.segment_bytes);
        EXPECT_EQ(r.torn_tail_path.empty(), cut == last_start) << "cut " << cut;
        EXPECT_EQ(r.groups.at(GroupId(1)).last_index, LogIndex(4));
        // The tail is zero on disk now, and the file has its full size again.
        const std::vector<std::byte> repaired = read_file(path);
        EXPECT_EQ(repaired.size(), options.segment_bytes);
        EXPECT_TRUE(std::all_of(repaired.begin() + static_cast<ptrdiff_t>(last_start),
                                repaired.end(), [](std::byte b) { return b == std::byte{0}; }))
            << "cut " << cut;
        checked += shorten ? 0 : 1;
      }
    }
    // After a torn tail the writer continues at the truncation point with the next seq.
    std::vector<SeenRecord> records;
    {
      auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
      const uint32_t length = 5;
      const std::vector<std::byte> payload = payload_bytes(99, 5);
      Result<Seq> seq =
          wal->append_entries(GroupId(1), Term(2), LogIndex(5), std::span(&length, 1), payload);
      EXPECT_EQ(seq.value(), Seq(3));
      EXPECT_TRUE((co_await wal->wait_durable(Seq(3))).ok());
      EXPECT_TRUE((co_await wal->close()).ok());
    }
    auto wal = (co_await recover_and_open(shard, shard.io(), options, &records)).value();
    EXPECT_TRUE((co_await wal->close()).ok());
    RR_CO_ASSERT_TRUE(records.size() == 5);
    EXPECT_EQ(records[4].seq, Seq(3));
    EXPECT_EQ(records[4].term, Term(2));
    EXPECT_EQ(records[4].payload, payload_bytes(99, 5));
  });
  EXPECT_GT(checked, 300);  // every length of a batch of two 150-byte entries
}

TEST(Recovery, BitFlipInAMiddleBatchIsCorruptionNamingFileAndOffset) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  std::vector<uint64_t> ends;
  run_on_reactor(
      [&](Shard& shard) -> Task<void> { ends = co_await write_batches(shard, options, 3, 150); });
  flip_bit(first_segment(dir), ends[0] + 60);
  Result<RecoveryReport> report = recover_directory(recovery_options(options));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code(), ErrorCode::kInvalidInput);
  const std::string message = report.error().message();
  EXPECT_NE(message.find(first_segment(dir)), std::string::npos) << message;
  EXPECT_NE(message.find("at offset " + std::to_string(ends[0])), std::string::npos) << message;
  EXPECT_NE(message.find("refusing to open"), std::string::npos) << message;
  // Refusing changed nothing: the valid batch after the bad one is still there.
  EXPECT_FALSE(recover_directory(recovery_options(options)).ok());
}

TEST(Recovery, BitFlipInTheLastBatchIsATornTail) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  std::vector<uint64_t> ends;
  run_on_reactor(
      [&](Shard& shard) -> Task<void> { ends = co_await write_batches(shard, options, 3, 150); });
  flip_bit(first_segment(dir), ends[1] + 100);
  Result<RecoveryReport> report = recover_directory(recovery_options(options));
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report.value().batches_recovered, 2u);
  EXPECT_EQ(report.value().torn_tail_offset, ends[1]);
  EXPECT_EQ(report.value().torn_tail_path, first_segment(dir));
}

TEST(Recovery, UnacknowledgedBatchAfterATornOneIsDiscardedOnlyWithinTheInFlightWindow) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  std::vector<uint64_t> ends;
  run_on_reactor(
      [&](Shard& shard) -> Task<void> { ends = co_await write_batches(shard, options, 3, 150); });
  flip_bit(first_segment(dir), ends[0] + 100);  // batch 2 torn, batch 3 intact after it
  RecoveryOptions one_in_flight = recovery_options(options);
  EXPECT_FALSE(recover_directory(one_in_flight).ok());
  RecoveryOptions two_in_flight = one_in_flight;
  two_in_flight.fsyncs_in_flight_max = 2;  // batch 3 may have landed without being acked
  Result<RecoveryReport> report = recover_directory(two_in_flight);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report.value().batches_recovered, 1u);
  EXPECT_EQ(report.value().position.next_seq, Seq(2));
  EXPECT_EQ(report.value().position.write_offset_bytes, ends[0]);
}

// A WAL written with 2 in flight and reopened by a writer with 1: the window recovery allows is
// the one the directory was written with (WalOptions::recovery_fsyncs_in_flight_max), or the
// torn tail left under the old setting reads as corruption and the WAL does not open.
TEST(Recovery, AWriterWithFewerFsyncsInFlightOpensATailTornUnderMore) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  std::vector<uint64_t> ends;
  run_on_reactor(
      [&](Shard& shard) -> Task<void> { ends = co_await write_batches(shard, options, 3, 150); });
  flip_bit(first_segment(dir), ends[0] + 100);  // batch 2 torn, batch 3 intact after it
  run_on_reactor([&](Shard& shard) -> Task<void> {
    WalOptions lowered = options;
    lowered.fsyncs_in_flight_max = 1;
    EXPECT_FALSE((co_await Wal::recover_and_open(shard, shard.io(), lowered)).ok());
    lowered.recovery_fsyncs_in_flight_max = 2;
    auto opened = co_await Wal::recover_and_open(shard, shard.io(), lowered);
    EXPECT_TRUE(opened.ok()) << opened.error().message();
    if (!opened.ok()) co_return;
    EXPECT_EQ(opened.value()->filling_seq(), Seq(2));  // batch 1 kept, the torn tail gone
    EXPECT_TRUE((co_await opened.value()->close()).ok());
  });
}

TEST(Recovery, BadLastBatchOfAnOlderSegmentIsCorruption) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<std::string> paths = write_three_segments(dir, options);
  ASSERT_GE(paths.size(), 3u);
  // Find the last batch of the first segment and damage it.
  const std::vector<std::byte> bytes = read_file(paths[0]);
  uint64_t offset = 0, last_start = 0;
  while (true) {
    Result<DecodedBatch> decoded = decode_batch(ConstByteSpan(bytes).subspan(offset), offset);
    if (!decoded.ok()) break;
    last_start = offset;
    offset += decoded.value().padded_batch_bytes;
  }
  ASSERT_GT(last_start, 0u);
  flip_bit(paths[0], last_start + 200);
  Result<RecoveryReport> report = recover_directory(recovery_options(options));
  ASSERT_FALSE(report.ok());
  const std::string message = report.error().message();
  EXPECT_NE(message.find(paths[0]), std::string::npos) << message;
  EXPECT_NE(message.find("older than the last"), std::string::npos) << message;
}

TEST(Recovery, MissingSegmentIsCorruption) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<std::string> paths = write_three_segments(dir, options);
  ASSERT_GE(paths.size(), 3u);
  ASSERT_EQ(::unlink(paths[1].c_str()), 0);
  Result<RecoveryReport> report = recover_directory(recovery_options(options));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message().find(paths[2]), std::string::npos) << report.error().message();
}

TEST(Recovery, ZeroedMiddleBatchHeaderIsCorruption) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  std::vector<uint64_t> ends;
  run_on_reactor(
      [&](Shard& shard) -> Task<void> { ends = co_await write_batches(shard, options, 3, 150); });
  std::vector<std::byte> bytes = read_file(first_segment(dir));
  std::fill(bytes.begin() + static_cast<ptrdiff_t>(ends[0]),
            bytes.begin() + static_cast<ptrdiff_t>(ends[0] + kBatchHeaderBytes), std::byte{0});
  write_file(first_segment(dir), bytes);
  Result<RecoveryReport> report = recover_directory(recovery_options(options));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message().find("zeroed batch header"), std::string::npos)
      << report.error().message();
}

TEST(Recovery, EmptyLastSegmentLeftByACrashDuringCreationIsReused) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<std::string> paths = write_three_segments(dir, options);
  Result<RecoveryReport> before = recover_directory(recovery_options(options));
  ASSERT_TRUE(before.ok()) << before.error().message();
  const Seq next_seq = before.value().position.next_seq;
  // The crash came after the new segment's name reached the disk, before its preallocation.
  const std::string empty_path = dir.file(segment_file_name(next_seq));
  FileDescriptor(::open(empty_path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  std::vector<SeenRecord> records;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    EXPECT_EQ(wal->segment().path, empty_path);
    EXPECT_EQ(wal->segment().segment_bytes, options.segment_bytes);
    const uint32_t length = 8;
    const std::vector<std::byte> payload = payload_bytes(1000, 8);
    const Result<Seq> seq =
        wal->append_entries(GroupId(1), Term(1), LogIndex(25), std::span(&length, 1), payload);
    EXPECT_EQ(seq.value(), next_seq);
    EXPECT_TRUE((co_await wal->wait_durable(next_seq)).ok());
    EXPECT_TRUE((co_await wal->close()).ok());
    auto reopened = (co_await recover_and_open(shard, shard.io(), options, &records)).value();
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
  ASSERT_EQ(records.size(), 25u);
  EXPECT_EQ(records.back().seq, next_seq);
  EXPECT_EQ(records.back().payload, payload_bytes(1000, 8));
}

TEST(Recovery, GroupSummaryAppliesRecordsInLogOrder) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  run_on_reactor([&](Shard& shard) -> Task<void> {
    {
      auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
      const std::vector<uint32_t> lengths(10, 4);
      const std::vector<std::byte> payload = payload_bytes(1, 40);
      EXPECT_TRUE(wal->append_entries(GroupId(1), Term(1), LogIndex(1), lengths, payload).ok());
      EXPECT_TRUE(wal->append_hard_state(GroupId(1), Term(1), NodeId(3), LogIndex(4)).ok());
      EXPECT_TRUE((co_await wal->wait_durable(Seq(1))).ok());
      // A new leader overwrote 6..10 with 6..8 of term 2 (two batches, as a follower would).
      EXPECT_TRUE(wal->append_truncate(GroupId(1), LogIndex(6)).ok());
      EXPECT_TRUE(wal->append_entries(GroupId(1), Term(2), LogIndex(6), std::span(lengths).first(3),
                                      std::span(payload).first(12))
                      .ok());
      EXPECT_TRUE(wal->append_hard_state(GroupId(1), Term(2), NodeId(2), LogIndex(7)).ok());
      EXPECT_TRUE(wal->append_snapshot_mark(GroupId(2), LogIndex(500), Term(9)).ok());
      EXPECT_TRUE((co_await wal->wait_durable(Seq(2))).ok());
      EXPECT_TRUE((co_await wal->close()).ok());
    }
    report = co_await recover(shard.io(), recovery_options(options));
  });
  ASSERT_TRUE(report.ok()) << report.error().message();
  const GroupRecovery& one = report.value().groups.at(GroupId(1));
  EXPECT_EQ(one.last_index, LogIndex(8));
  EXPECT_EQ(one.entries_recovered, 13u);
  EXPECT_EQ(one.truncations_applied, 1u);
  EXPECT_TRUE(one.has_hard_state);
  EXPECT_EQ(one.hard_state_term, Term(2));
  EXPECT_EQ(one.hard_state_vote, NodeId(2));
  EXPECT_EQ(one.hard_state_commit, LogIndex(7));
  EXPECT_FALSE(one.has_snapshot);
  const GroupRecovery& two = report.value().groups.at(GroupId(2));
  EXPECT_TRUE(two.has_snapshot);
  EXPECT_EQ(two.snapshot_index, LogIndex(500));
  EXPECT_EQ(two.snapshot_term, Term(9));
  EXPECT_EQ(two.last_index, LogIndex(500));
  EXPECT_EQ(report.value().position.next_seq, Seq(3));
}

}  // namespace
}  // namespace ringraft::wal
