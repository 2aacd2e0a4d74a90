// O_DIRECT and O_DSYNC segments (wal.h "Direct I/O"): batches padded to whole blocks round-trip
// across segments, torn and zeroed tails of a padded batch recover exactly, a log written
// through the page cache continues in a new segment, and a filesystem refusing O_DIRECT fails
// open() clearly or falls back.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"
#include "wal/recovery.h"
#include "wal/wal.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::FaultyIo;
using testing::payload_bytes;
using testing::read_file;
using testing::recover_and_open;
using testing::recovery_options;
using testing::SeenRecord;
using testing::small_options;
using testing::TempDir;
using testing::write_file;

constexpr uint32_t kBlockBytes = 4096;

WalOptions direct_options(const TempDir& dir) {
  WalOptions options = small_options(dir);
  options.direct_io = DirectIo::kRequired;
  options.direct_block_bytes = kBlockBytes;
  return options;
}

// Appends `records` entries records of group 1 (sizes varying around `size_bytes`), one batch
// per `per_batch` records, each batch awaited. Returns what recovery must show.
Task<std::vector<SeenRecord>> append_batches(Wal& wal, uint64_t first_index, int records,
                                             int per_batch, size_t size_bytes) {
  std::vector<SeenRecord> appended;
  Result<Seq> seq = Seq(0);
  for (int i = 0; i < records; i++) {
    const uint64_t index = first_index + static_cast<uint64_t>(i);
    const std::vector<std::byte> payload = payload_bytes(index, size_bytes + (index * 53) % 700);
    const uint32_t length = static_cast<uint32_t>(payload.size());
    seq = wal.append_entries(GroupId(1), Term(1), LogIndex(index), std::span(&length, 1), payload);
    EXPECT_TRUE(seq.ok()) << seq.error().message();
    if (!seq.ok()) co_return appended;
    appended.push_back(SeenRecord{.seq = seq.value(),
                                  .kind = RecordKind::kEntries,
                                  .group = GroupId(1),
                                  .term = Term(1),
                                  .index = LogIndex(index),
                                  .entry_lengths = {length},
                                  .payload = payload});
    if ((i + 1) % per_batch == 0) {
      EXPECT_TRUE((co_await wal.wait_durable(seq.value())).ok());
      if (wal.direct_io()) {
        EXPECT_EQ(wal.segment().write_offset_bytes % kBlockBytes, 0u);
      }
    }
  }
  EXPECT_TRUE((co_await wal.wait_durable(seq.value())).ok());
  co_return appended;
}

TEST(WalDirectIo, PaddedBatchesRoundTripAcrossSegments) {
  TempDir dir;
  const WalOptions options = direct_options(dir);
  std::vector<SeenRecord> appended, recovered;
  WalStats stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    EXPECT_TRUE(wal->direct_io());
    appended = co_await append_batches(*wal, 1, 90, 3, 900);
    stats = wal->stats();
    EXPECT_TRUE((co_await wal->close()).ok());
    auto reopened = (co_await recover_and_open(shard, shard.io(), options, &recovered)).value();
    EXPECT_TRUE(reopened->direct_io());
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
  EXPECT_GE(stats.segments_created, 3u);
  EXPECT_EQ(stats.bytes_written % kBlockBytes, 0u);
  EXPECT_EQ(recovered, appended);  // the padding records are never shown
}

TEST(WalDirectIo, DsyncWritesAreDurableWithoutAnyFdatasync) {
  for (const DirectIo mode : {DirectIo::kRequired, DirectIo::kOff}) {
    TempDir dir;
    WalOptions options = direct_options(dir);
    options.direct_io = mode;
    options.sync_mode = SyncMode::kDsyncWrites;
    std::vector<SeenRecord> appended, recovered;
    uint32_t fdatasyncs_seen = 1;
    run_on_reactor([&](Shard& shard) -> Task<void> {
      FaultyIo faulty(shard.io());
      auto wal = (co_await recover_and_open(shard, faulty, options, nullptr)).value();
      // An fdatasync submitted from here on would fail and fail the WAL: none may be.
      faulty.fail_nth(OpCode::kFsync, 1, EIO);
      appended = co_await append_batches(*wal, 1, 12, 2, 300);
      EXPECT_FALSE(wal->failed());
      EXPECT_TRUE((co_await wal->close()).ok());
      fdatasyncs_seen = faulty.injected();
      auto reopened = (co_await recover_and_open(shard, shard.io(), options, &recovered)).value();
      EXPECT_TRUE((co_await reopened->close()).ok());
    });
    EXPECT_EQ(fdatasyncs_seen, 0u);
    EXPECT_EQ(recovered, appended);
  }
}

// Writes three padded batches of about three blocks each and returns where the last one starts
// and ends (its last non-zero byte + 1).
std::pair<uint64_t, uint64_t> write_three_padded_batches(const WalOptions& options,
                                                         const std::string& path) {
  std::vector<uint64_t> ends;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
    for (uint64_t batch = 0; batch < 3; batch++) {
      (void)co_await append_batches(*wal, batch * 2 + 1, 2, 2, 5000);
      ends.push_back(wal->segment().write_offset_bytes);
    }
    EXPECT_TRUE((co_await wal->close()).ok());
  });
  const std::vector<std::byte> bytes = read_file(path);
  uint64_t last_end = ends[2];
  while (last_end > ends[1] && bytes[last_end - 1] == std::byte{0}) last_end--;
  return {ends[1], last_end};
}

TEST(WalDirectIo, TornOrZeroedTailOfAPaddedBatchKeepsExactlyTheBatchesBeforeIt) {
  TempDir dir;
  const WalOptions options = direct_options(dir);
  const std::string path = dir.file(segment_file_name(Seq(1)));
  const auto [last_start, last_end] = write_three_padded_batches(options, path);
  ASSERT_EQ(last_start % kBlockBytes, 0u);
  ASSERT_GT(last_end - last_start, 2 * kBlockBytes);  // several blocks: tears between them
  const std::vector<std::byte> original = read_file(path);
  int checked = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    // Every sector boundary (what a torn O_DIRECT write leaves) and every 40th byte between.
    for (uint64_t cut = last_start; cut < last_end; cut += 8) {
      if (cut % 512 != 0 && (cut - last_start) % 40 != 0) continue;
      std::vector<std::byte> damaged = original;
      std::fill(damaged.begin() + static_cast<ptrdiff_t>(cut),
                damaged.begin() + static_cast<ptrdiff_t>(last_end), std::byte{0});
      write_file(path, damaged);
      Result<RecoveryReport> report = co_await recover(shard.io(), recovery_options(options));
      RR_CO_ASSERT_TRUE(report.ok());
      EXPECT_EQ(report.value().batches_recovered, 2u) << "cut " << cut;
      EXPECT_EQ(report.value().position.write_offset_bytes, last_start) << "cut " << cut;
      EXPECT_EQ(report.value().groups.at(GroupId(1)).last_index, LogIndex(4)) << "cut " << cut;
      checked++;
    }
    // The writer continues at the (block-aligned) truncation point, still with O_DIRECT.
    std::vector<SeenRecord> recovered;
    {
      auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
      EXPECT_EQ(wal->segment().write_offset_bytes, last_start);
      (void)co_await append_batches(*wal, 5, 1, 1, 10);
      EXPECT_TRUE((co_await wal->close()).ok());
    }
    auto wal = (co_await recover_and_open(shard, shard.io(), options, &recovered)).value();
    EXPECT_TRUE((co_await wal->close()).ok());
    RR_CO_ASSERT_TRUE(recovered.size() == 5);
    EXPECT_EQ(recovered[4].seq, Seq(3));
    EXPECT_EQ(recovered[4].index, LogIndex(5));
  });
  EXPECT_GT(checked, 250);
}

TEST(WalDirectIo, LogWrittenThroughThePageCacheContinuesInANewSegment) {
  TempDir dir;
  const WalOptions buffered = small_options(dir);
  const WalOptions direct = direct_options(dir);
  std::vector<SeenRecord> appended, recovered;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    {
      auto wal = (co_await recover_and_open(shard, shard.io(), buffered, nullptr)).value();
      appended = co_await append_batches(*wal, 1, 3, 3, 100);
      EXPECT_NE(wal->segment().write_offset_bytes % kBlockBytes, 0u);
      EXPECT_TRUE((co_await wal->close()).ok());
    }
    {
      auto wal = (co_await recover_and_open(shard, shard.io(), direct, nullptr)).value();
      EXPECT_EQ(wal->segment().first_seq, Seq(2));  // a new segment, at the next batch
      const std::vector<SeenRecord> more = co_await append_batches(*wal, 4, 4, 2, 100);
      appended.insert(appended.end(), more.begin(), more.end());
      EXPECT_TRUE((co_await wal->close()).ok());
    }
    auto wal = (co_await recover_and_open(shard, shard.io(), buffered, &recovered)).value();
    EXPECT_TRUE((co_await wal->close()).ok());
  });
  EXPECT_EQ(recovered, appended);
}

TEST(WalDirectIo, RefusedODirectFailsOpenClearlyOrFallsBackToThePageCache) {
  for (const DirectIo mode : {DirectIo::kRequired, DirectIo::kPreferred}) {
    TempDir dir;
    WalOptions options = direct_options(dir);
    options.direct_io = mode;
    Result<void> opened;
    bool direct = true;
    std::vector<SeenRecord> appended, recovered;
    run_on_reactor([&](Shard& shard) -> Task<void> {
      // What a filesystem without O_DIRECT answers (tmpfs before Linux 6.6, some FUSE ones).
      FaultyIo faulty(shard.io());
      faulty.fail_nth(OpCode::kOpenAt, 1, EINVAL, O_DIRECT);
      Result<std::unique_ptr<Wal>> wal = co_await recover_and_open(shard, faulty, options, nullptr);
      if (!wal.ok()) {
        opened = wal.error();
        co_return;
      }
      direct = wal.value()->direct_io();
      appended = co_await append_batches(*wal.value(), 1, 6, 2, 100);
      EXPECT_TRUE((co_await wal.value()->close()).ok());
      auto reopened =
          (co_await recover_and_open(shard, shard.io(), small_options(dir), &recovered)).value();
      EXPECT_TRUE((co_await reopened->close()).ok());
    });
    if (mode == DirectIo::kRequired) {
      ASSERT_FALSE(opened.ok());
      EXPECT_EQ(opened.error().code(), ErrorCode::kUnsupported);
      EXPECT_NE(opened.error().message().find("refuses O_DIRECT"), std::string::npos)
          << opened.error().message();
    } else {
      EXPECT_TRUE(opened.ok());
      EXPECT_FALSE(direct);
      EXPECT_EQ(recovered, appended);
    }
  }
}

TEST(WalDirectIo, OptionsMustBeWholeBlocks) {
  TempDir dir;
  WalOptions options = direct_options(dir);
  EXPECT_TRUE(validate(options).ok());
  options.batch_bytes_max = kBlockBytes * 3 + 8;
  EXPECT_FALSE(validate(options).ok());
  options = direct_options(dir);
  options.direct_block_bytes = 1000;
  EXPECT_FALSE(validate(options).ok());
  options.direct_io = DirectIo::kOff;  // the block size matters only with O_DIRECT
  EXPECT_TRUE(validate(options).ok());
}

}  // namespace
}  // namespace ringraft::wal
