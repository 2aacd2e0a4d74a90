// Recycled segments (wal.h "Compaction"): released segments kept as spares up to a bound and
// written again as new segments, their stale batches never taken for the log's, across restarts
// and torn writes; new prepared segments zero-filled or only allocated (WalOptions::segment_fill).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "reactor/reactor.h"
#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"
#include "wal/wal.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::payload_bytes;
using testing::read_file;
using testing::SeenRecord;
using testing::small_options;
using testing::TempDir;

constexpr GroupId kGroup(1);
constexpr uint64_t kEntriesPerTurn = 4;
constexpr uint64_t kMarkEvery = 40;  // entries between snapshot marks
constexpr uint64_t kKeptBelowMark = 10;

size_t entry_size_bytes(uint64_t index) {
  return 200 + (index * 53) % 900;
}

size_t spare_files(const TempDir& dir) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (parse_spare_segment_file_name(entry.path().filename().string())) count++;
  }
  return count;
}

std::vector<std::string> segment_paths(const TempDir& dir) {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (parse_segment_file_name(entry.path().filename().string()))
      paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Whether segment `path` holds, at or after `from`, a valid batch from before its recycling (a
// seq below the one it is named by).
bool has_stale_batch(const std::string& path, uint64_t from = 0) {
  const std::optional<Seq> first =
      parse_segment_file_name(std::filesystem::path(path).filename().string());
  if (!first) return false;
  const std::vector<std::byte> bytes = read_file(path);
  for (std::optional<FoundBatch> found = next_valid_batch(bytes, from); found;
       found = next_valid_batch(bytes, found->offset + kBatchAlignBytes)) {
    if (found->batch.seq < *first) return true;
  }
  return false;
}

// Entries [first, last] of kGroup, kEntriesPerTurn per record with a hard state, each turn
// durable, and a snapshot mark kKeptBelowMark entries behind every kMarkEvery entries, so the
// oldest segments keep being released. Checks the spares' bound after every mark.
Task<bool> write_entries(Wal& wal, uint64_t first, uint64_t last, const TempDir& dir,
                         uint32_t spares_max) {
  for (uint64_t index = first; index <= last;) {
    std::vector<uint32_t> lengths;
    std::vector<std::byte> payload;
    const uint64_t record_first = index;
    for (; index <= last && index < record_first + kEntriesPerTurn; index++) {
      const std::vector<std::byte> bytes = payload_bytes(index, entry_size_bytes(index));
      lengths.push_back(static_cast<uint32_t>(bytes.size()));
      payload.insert(payload.end(), bytes.begin(), bytes.end());
    }
    if (!wal.append_entries(kGroup, Term(1), LogIndex(record_first), lengths, payload).ok())
      co_return false;
    Result<Seq> seq = wal.append_hard_state(kGroup, Term(1), NodeId(1), LogIndex(index - 1));
    if (!seq.ok()) co_return false;
    if ((index - 1) / kMarkEvery != (record_first - 1) / kMarkEvery) {
      seq = wal.append_snapshot_mark(kGroup, LogIndex(index - 1 - kKeptBelowMark), Term(1));
      if (!seq.ok()) co_return false;
    }
    if (!(co_await wal.wait_durable(seq.value())).ok()) co_return false;
    EXPECT_LE(spare_files(dir), spares_max);
  }
  co_return true;
}

struct Recovered {
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  std::vector<SeenRecord> records;
};

Recovered recover_all(const WalOptions& options) {
  Recovered recovered;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    const RecordVisitor visitor = [&recovered](Seq seq, const Record& record) {
      recovered.records.push_back(testing::seen(seq, record));
    };
    recovered.report = co_await recover(shard.io(), testing::recovery_options(options), visitor);
  });
  return recovered;
}

// The recovered log is exactly what was written: batch seqs consecutive (no stale batch taken
// in), entries contiguous up to `last` with their exact payloads, starting at or below the
// latest snapshot mark + 1.
void expect_exact_log(const Recovered& recovered, uint64_t last_min, uint64_t last_max) {
  ASSERT_TRUE(recovered.report.ok()) << recovered.report.error().message();
  ASSERT_FALSE(recovered.records.empty());
  uint64_t next_index = 0;
  uint64_t snapshot_index = 0;
  for (size_t i = 0; i < recovered.records.size(); i++) {
    const SeenRecord& record = recovered.records[i];
    if (i > 0) {
      const uint64_t previous = recovered.records[i - 1].seq.value();
      ASSERT_TRUE(record.seq.value() == previous || record.seq.value() == previous + 1)
          << "batch seq " << record.seq.value() << " after " << previous;
    }
    if (record.kind == RecordKind::kSnapshotMark) snapshot_index = record.index.value();
    if (record.kind != RecordKind::kEntries) continue;
    if (next_index != 0) {
      ASSERT_EQ(record.index.value(), next_index);
    }
    for (uint32_t e = 0, offset = 0; e < record.entry_lengths.size(); e++) {
      const uint64_t index = record.index.value() + e;
      const std::vector<std::byte> expected = payload_bytes(index, entry_size_bytes(index));
      ASSERT_EQ(record.entry_lengths[e], expected.size()) << index;
      ASSERT_EQ(std::memcmp(record.payload.data() + offset, expected.data(), expected.size()), 0)
          << index;
      offset += record.entry_lengths[e];
    }
    next_index = record.index.value() + record.entry_lengths.size();
  }
  EXPECT_GE(next_index, last_min + 1);
  EXPECT_LE(next_index, last_max + 1);
  const GroupRecovery& group = recovered.report.value().groups.at(kGroup);
  EXPECT_EQ(group.last_index, LogIndex(next_index - 1));
  EXPECT_GE(snapshot_index + kMarkEvery + 2 * kKeptBelowMark, next_index - 1);
}

void expect_exact_log(const Recovered& recovered, uint64_t last) {
  expect_exact_log(recovered, last, last);
}

WalStats write_and_close(const WalOptions& options, const TempDir& dir, uint64_t first,
                         uint64_t last) {
  WalStats stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto opened = co_await Wal::recover_and_open(shard, shard.io(), options);
    RR_CO_ASSERT_TRUE(opened.ok());
    auto wal = std::move(opened).value();
    EXPECT_TRUE(co_await write_entries(*wal, first, last, dir, options.spare_segments_max));
    EXPECT_TRUE((co_await wal->close()).ok());
    stats = wal->stats();
  });
  return stats;
}

TEST(Recycling, ReleasedSegmentsAreReusedAndTheLogRecoversExactly) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  ASSERT_EQ(options.spare_segments_max, 2u);
  const WalStats stats = write_and_close(options, dir, 1, 2000);
  EXPECT_GE(stats.segments_released, 4u);
  EXPECT_GE(stats.segments_recycled, 3u);
  EXPECT_GE(stats.segments_reused, 2u);
  EXPECT_LE(spare_files(dir), 2u);
  // Deleted only beyond the bound: every released segment was recycled or deleted.
  EXPECT_LE(stats.segments_recycled, stats.segments_released);
  bool any_stale = false;
  for (const std::string& path : segment_paths(dir)) any_stale |= has_stale_batch(path);
  EXPECT_TRUE(any_stale) << "no retained segment holds stale batches: nothing was tested";
  expect_exact_log(recover_all(options), 2000);
}

TEST(Recycling, SparesOutliveARestartAndAreReusedAfterIt) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  write_and_close(options, dir, 1, 1000);
  const size_t spares = spare_files(dir);
  EXPECT_GE(spares, 1u);  // the released ones, or the prepared one put back at close
  const WalStats stats = write_and_close(options, dir, 1001, 2000);
  EXPECT_GE(stats.segments_reused, 2u);
  EXPECT_LE(spare_files(dir), 2u);
  expect_exact_log(recover_all(options), 2000);
  // And once more after a restart.
  write_and_close(options, dir, 2001, 2400);
  expect_exact_log(recover_all(options), 2400);
}

TEST(Recycling, TornWriteInARecycledSegmentsStaleRegionIsATornTail) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  // Writes until the last segment is a recycled one with stale batches after its end.
  uint64_t last = 0;
  Recovered before;
  for (int round = 0; round < 20; round++) {
    write_and_close(options, dir, last + 1, last + 120);
    last += 120;
    before = recover_all(options);
    ASSERT_TRUE(before.report.ok()) << before.report.error().message();
    const WalPosition& position = before.report.value().position;
    const std::string path = dir.path() + "/" + segment_file_name(*position.segment_first_seq);
    if (has_stale_batch(path, position.write_offset_bytes)) break;
  }
  const WalPosition position = before.report.value().position;
  const std::string path = dir.path() + "/" + segment_file_name(*position.segment_first_seq);
  ASSERT_TRUE(has_stale_batch(path, position.write_offset_bytes)) << path;
  // A torn batch over the stale region: a header with the next seq, a wrong CRC, part of a body.
  std::vector<std::byte> bytes = read_file(path);
  const uint64_t torn_at = position.write_offset_bytes;
  ASSERT_LT(torn_at + 1024, bytes.size());
  const uint32_t magic = kBatchMagic, batch_bytes = 4000, crc = 0x12345678, count = 1;
  const uint64_t seq = position.next_seq.value();
  std::memcpy(bytes.data() + torn_at, &magic, 4);
  std::memcpy(bytes.data() + torn_at + 4, &batch_bytes, 4);
  std::memcpy(bytes.data() + torn_at + 8, &seq, 8);
  std::memcpy(bytes.data() + torn_at + 16, &crc, 4);
  std::memcpy(bytes.data() + torn_at + 20, &count, 4);
  std::memset(bytes.data() + torn_at + kBatchHeaderBytes, 0xab, 1000);
  testing::write_file(path, bytes);

  const Recovered torn = recover_all(options);
  ASSERT_TRUE(torn.report.ok()) << torn.report.error().message();
  EXPECT_EQ(torn.report.value().torn_tail_offset, torn_at);
  EXPECT_GT(torn.report.value().torn_tail_bytes, 0u);
  EXPECT_EQ(torn.records, before.records);
  EXPECT_EQ(torn.report.value().position.next_seq, position.next_seq);
  // The zeroing stopped at the stale batches: they are still there, and harmless.
  EXPECT_TRUE(has_stale_batch(path, torn_at));
  expect_exact_log(torn, last);
  write_and_close(options, dir, last + 1, last + 300);
  expect_exact_log(recover_all(options), last + 300);
}

// A clean close leaves nothing a restart would take for a torn write, also when the last batch
// ended inside a stale one: recovery reports no torn tail, and the log is exact.
TEST(Recycling, ACleanCloseOfARecycledSegmentLeavesNoTornTail) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  uint64_t last = 0;
  int recycled_rounds = 0;
  for (int round = 0; round < 12; round++) {
    write_and_close(options, dir, last + 1, last + 120);
    last += 120;
    const std::vector<std::string> paths = segment_paths(dir);
    ASSERT_FALSE(paths.empty());
    if (has_stale_batch(paths.back())) recycled_rounds++;
    const Recovered recovered = recover_all(options);
    ASSERT_TRUE(recovered.report.ok()) << recovered.report.error().message();
    EXPECT_EQ(recovered.report.value().torn_tail_bytes, 0u)
        << "round " << round << ": " << recovered.report.value().torn_tail_reason;
    expect_exact_log(recovered, last);
  }
  EXPECT_GE(recycled_rounds, 3) << "the last segment was rarely a recycled one: little was tested";
}

// The child of the crash test: writes entries 1, 2, ... with marks (write_entries), reporting
// each durable last index on `ack_fd`, until killed.
Task<void> write_until_killed(Shard& shard, WalOptions options, const TempDir& dir, int ack_fd) {
  Result<std::unique_ptr<Wal>> opened = co_await Wal::open(shard, options, WalPosition{});
  if (!opened.ok()) ::_exit(3);
  for (uint64_t first = 1;; first += kEntriesPerTurn) {
    if (!co_await write_entries(*opened.value(), first, first + kEntriesPerTurn - 1, dir,
                                options.spare_segments_max)) {
      ::_exit(4);
    }
    const uint64_t acked = first + kEntriesPerTurn - 1;
    if (::write(ack_fd, &acked, sizeof(acked)) != sizeof(acked)) ::_exit(5);
  }
}

TEST(Recycling, SigkillWhileRecyclingKeepsExactlyTheAcknowledgedLog) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  constexpr uint64_t kAckedBeforeKill = 3000;  // ~2 MB of entries: ~30 segments of 64 KiB
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    Reactor reactor(ringraft::testing::test_config());
    const Result<void> ran = reactor.run([&](Shard& shard) -> Task<void> {
      return write_until_killed(shard, options, dir, pipe_fds[1]);
    });
    ::_exit(ran.ok() ? 0 : 7);
  }
  ::close(pipe_fds[1]);
  uint64_t acked_max = 0;
  while (acked_max < kAckedBeforeKill) {
    uint64_t acked = 0;
    ASSERT_EQ(::read(pipe_fds[0], &acked, sizeof(acked)), static_cast<ssize_t>(sizeof(acked)))
        << "the writer died early";
    acked_max = acked;
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::close(pipe_fds[0]);
  bool any_stale = false;
  for (const std::string& path : segment_paths(dir)) any_stale |= has_stale_batch(path);
  EXPECT_TRUE(any_stale || spare_files(dir) > 0) << "nothing was recycled: nothing was tested";
  // Everything acknowledged (the child may have gone on after the last ack read), nothing
  // stale; then the log goes on from there.
  const Recovered recovered = recover_all(options);
  expect_exact_log(recovered, acked_max, UINT64_MAX - 1);
  ASSERT_TRUE(recovered.report.ok());
  const uint64_t last = recovered.report.value().groups.at(kGroup).last_index.value();
  write_and_close(options, dir, last + 1, last + 400);
  expect_exact_log(recover_all(options), last + 400);
}

TEST(Recycling, SparesAheadOfTheLogOrOverTheBoundAreDeletedAtOpen) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.spare_segments_max = 1;
  // Bounds 0 and 1 are usable for a log starting at seq 1 (one is over the bound of one spare);
  // 1024 is ahead of it: its stale batches could carry seqs the log will use.
  const std::vector<uint64_t> bounds = {0, 1, 1024};
  for (const uint64_t bound : bounds) {
    const std::string path = dir.path() + "/" + spare_segment_file_name(Seq(bound));
    FileDescriptor fd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(options.segment_bytes)), 0);
  }
  WalStats stats;
  size_t spares_after_open = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await Wal::open(shard, options, WalPosition{})).value();
    stats = wal->stats();
    spares_after_open = spare_files(dir);
    EXPECT_TRUE(co_await write_entries(*wal, 1, 200, dir, 1));
    EXPECT_GE(wal->stats().segments_reused, 1u);
    EXPECT_TRUE((co_await wal->close()).ok());
  });
  EXPECT_EQ(stats.spare_segments, 1u);
  EXPECT_EQ(spares_after_open, 1u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/" + spare_segment_file_name(Seq(1024))));
  expect_exact_log(recover_all(options), 200);
}

TEST(Recycling, ABoundOfZeroDeletesReleasedSegments) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.spare_segments_max = 0;
  const WalStats stats = write_and_close(options, dir, 1, 1000);
  EXPECT_GE(stats.segments_released, 2u);
  EXPECT_EQ(stats.segments_recycled, 0u);
  EXPECT_EQ(stats.segments_reused, 0u);
  EXPECT_EQ(spare_files(dir), 0u);
  expect_exact_log(recover_all(options), 1000);
}

TEST(Recycling, OptionsAreValidated) {
  TempDir dir;
  WalOptions options = small_options(dir);
  options.spare_segments_max = WalOptions::kSpareSegmentsLimit + 1;
  EXPECT_EQ(validate(options).error().code(), ErrorCode::kInvalidInput);
  options.spare_segments_max = WalOptions::kSpareSegmentsLimit;
  EXPECT_TRUE(validate(options).ok());
}

TEST(SegmentFill, NewPreparedSegmentsAreZeroFilledOrOnlyAllocated) {
  for (const SegmentFill fill : {SegmentFill::kZeroes, SegmentFill::kAllocateOnly}) {
    TempDir dir;
    WalOptions options = small_options(dir);
    options.spare_segments_max = 0;  // every prepared segment is a new one
    options.segment_fill = fill;
    const WalStats stats = write_and_close(options, dir, 1, 600);
    ASSERT_GE(stats.segments_prepared, 2u);
    EXPECT_EQ(stats.segments_reused, 0u);
    const uint64_t expected =
        fill == SegmentFill::kZeroes ? stats.segments_prepared * options.segment_bytes : 0;
    EXPECT_EQ(stats.bytes_zero_filled, expected);
    expect_exact_log(recover_all(options), 600);
  }
}

}  // namespace
}  // namespace ringraft::wal
