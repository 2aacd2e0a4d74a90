// Compaction: segments released once every group's snapshot covers them, a lagging group pinning
// them, and the WAL after a release (reads, recovery).
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"
#include "wal/wal.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::payload_bytes;
using testing::small_options;
using testing::TempDir;

constexpr uint64_t kAllBytes = UINT64_MAX;
constexpr size_t kEntryBytes = 900;

size_t segment_files(const TempDir& dir) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (parse_segment_file_name(entry.path().filename().string())) count++;
  }
  return count;
}

// Appends entries [first, first + count) of `group` in term `term` as one record, with a hard
// state after it, and waits until both are durable.
Task<bool> append_durable(Wal& wal, GroupId group, Term term, uint64_t first, uint32_t count) {
  std::vector<uint32_t> lengths;
  std::vector<std::byte> payload;
  for (uint64_t index = first; index < first + count; index++) {
    const std::vector<std::byte> bytes = payload_bytes(index * 3 + group.value(), kEntryBytes);
    lengths.push_back(static_cast<uint32_t>(bytes.size()));
    payload.insert(payload.end(), bytes.begin(), bytes.end());
  }
  if (!wal.append_entries(group, term, LogIndex(first), lengths, payload).ok()) co_return false;
  const Result<Seq> seq = wal.append_hard_state(group, term, NodeId(1), LogIndex(first));
  if (!seq.ok()) co_return false;
  co_return (co_await wal.wait_durable(seq.value())).ok();
}

Task<bool> mark_durable(Wal& wal, GroupId group, LogIndex index, Term term) {
  const Result<Seq> seq = wal.append_snapshot_mark(group, index, term);
  if (!seq.ok()) co_return false;
  co_return (co_await wal.wait_durable(seq.value())).ok();
}

// The lagging group 2 catches up: its commit moves (a new hard state) and it snapshots.
Task<bool> catch_up(Wal& wal) {
  if (!wal.append_hard_state(GroupId(2), Term(1), NodeId(1), LogIndex(3)).ok()) co_return false;
  co_return co_await mark_durable(wal, GroupId(2), LogIndex(3), Term(1));
}

Task<Result<std::unique_ptr<Wal>>> reopen(Shard& shard, const WalOptions& options) {
  co_return co_await Wal::recover_and_open(shard, shard.io(), options);
}

// Group 1 writes a lot and snapshots; group 2 wrote a little at the start and lags.
Task<bool> fill_with_lagging_group(Wal& wal) {
  if (!co_await append_durable(wal, GroupId(2), Term(1), 1, 3)) co_return false;
  for (uint64_t first = 1; first <= 300; first += 5) {
    if (!co_await append_durable(wal, GroupId(1), Term(1), first, 5)) co_return false;
  }
  co_return co_await mark_durable(wal, GroupId(1), LogIndex(290), Term(1));
}

TEST(Compaction, LaggingGroupPinsSegmentsUntilItsSnapshot) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  size_t files_while_lagging = 0;
  WalStats lagging_stats, released_stats;
  GroupPinned pinned_by_lagging, pinned_by_busy;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    RR_CO_ASSERT_TRUE(co_await fill_with_lagging_group(*wal));
    pinned_by_lagging = wal->group_pinned(GroupId(2));
    pinned_by_busy = wal->group_pinned(GroupId(1));
    lagging_stats = wal->stats();
    files_while_lagging = segment_files(dir);
    // The lagging group catches up: nothing pins the old segments any more.
    RR_CO_ASSERT_TRUE(co_await catch_up(*wal));
    EXPECT_TRUE((co_await wal->close()).ok());  // waits for the release
    released_stats = wal->stats();
  });
  EXPECT_GE(files_while_lagging, 5u);
  EXPECT_EQ(lagging_stats.segments_released, 0u);
  EXPECT_EQ(lagging_stats.segments_retained, files_while_lagging);
  EXPECT_EQ(lagging_stats.oldest_pinned_segment_seq, Seq(1));
  EXPECT_EQ(pinned_by_lagging.segments, files_while_lagging - 1);
  EXPECT_EQ(pinned_by_lagging.bytes, pinned_by_lagging.segments * options.segment_bytes);
  // Group 1 still needs the record holding 291..295 and its latest hard state.
  EXPECT_LE(pinned_by_busy.segments, 1u);
  EXPECT_GE(released_stats.segments_released, files_while_lagging - 2);
  EXPECT_EQ(released_stats.segments_retained, segment_files(dir));
  EXPECT_LE(segment_files(dir), 2u);
  EXPECT_GT(released_stats.oldest_pinned_segment_seq, Seq(1));
}

TEST(Compaction, ReadsOfCompactedIndexesFailCleanlyBeforeAndAfterRestart) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    RR_CO_ASSERT_TRUE(co_await fill_with_lagging_group(*wal));
    RR_CO_ASSERT_TRUE(co_await catch_up(*wal));
    for (int pass = 0; pass < 2; pass++) {
      EXPECT_EQ(wal->first_index(GroupId(1)), LogIndex(291));
      EXPECT_EQ(wal->last_index(GroupId(1)), LogIndex(300));
      EXPECT_EQ(wal->term_at(GroupId(1), LogIndex(290)), Term(1));
      EXPECT_EQ(wal->term_at(GroupId(1), LogIndex(289)), std::nullopt);
      Result<EntryBatch> old_read =
          co_await wal->read_entries(GroupId(1), LogIndex(5), LogIndex(300), kAllBytes);
      RR_CO_ASSERT_TRUE(!old_read.ok());
      EXPECT_EQ(old_read.error().code(), ErrorCode::kNotFound);
      Result<EntryBatch> kept =
          co_await wal->read_entries(GroupId(1), LogIndex(291), LogIndex(300), kAllBytes);
      RR_CO_ASSERT_TRUE(kept.ok());
      EXPECT_EQ(kept.value().entry_count, 10u);
      const ConstByteSpan entry = kept.value().entry(9);
      const std::vector<std::byte> want = payload_bytes(300 * 3 + 1, kEntryBytes);
      EXPECT_TRUE(std::equal(entry.begin(), entry.end(), want.begin(), want.end()));
      EXPECT_EQ(wal->first_index(GroupId(2)), LogIndex(4));
      // The release ended with the close() of the first pass.
      if (pass == 1) {
        EXPECT_LE(segment_files(dir), 2u);
      }
      EXPECT_TRUE((co_await wal->close()).ok());
      // Recovery accepts what compaction left, and the index says the same after it.
      wal = (co_await reopen(shard, options)).value();
    }
    EXPECT_TRUE((co_await wal->close()).ok());
  });
}

TEST(Compaction, LatestHardStatePinsItsSegment) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  WalStats pinned_stats, released_stats;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    // Group 3 has no entries, only a vote, written first.
    Result<Seq> vote = wal->append_hard_state(GroupId(3), Term(4), NodeId(2), LogIndex(0));
    RR_CO_ASSERT_TRUE(vote.ok());
    RR_CO_ASSERT_TRUE(co_await fill_with_lagging_group(*wal));
    RR_CO_ASSERT_TRUE(co_await catch_up(*wal));
    EXPECT_TRUE((co_await wal->close()).ok());
    pinned_stats = wal->stats();
    wal = (co_await reopen(shard, options)).value();
    // A newer vote of group 3; the next snapshot mark (of any group) lets the old ones go.
    vote = wal->append_hard_state(GroupId(3), Term(5), NodeId(2), LogIndex(0));
    RR_CO_ASSERT_TRUE(vote.ok());
    RR_CO_ASSERT_TRUE(co_await mark_durable(*wal, GroupId(1), LogIndex(295), Term(1)));
    EXPECT_TRUE((co_await wal->close()).ok());
    released_stats = wal->stats();
  });
  EXPECT_EQ(pinned_stats.segments_released, 0u);
  EXPECT_GT(released_stats.segments_released, 0u);
  EXPECT_LE(segment_files(dir), 2u);
  // The surviving vote is the newer one.
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Result<RecoveryReport> report =
        co_await recover(shard.io(), testing::recovery_options(options));
    RR_CO_ASSERT_TRUE(report.ok());
    EXPECT_EQ(report.value().groups.at(GroupId(3)).hard_state_term, Term(5));
  });
}

TEST(Compaction, RecoveryAcceptsAGroupWhoseOldestSurvivingRecordIsAHardState) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    // Every batch starts with the group's hard state, then its entries: whatever segment
    // survives, the group's oldest record in it is a hard state followed by entries at i > 1.
    for (uint64_t first = 1; first <= 300; first += 5) {
      RR_CO_ASSERT_TRUE(
          wal->append_hard_state(GroupId(1), Term(1), NodeId(1), LogIndex(first)).ok());
      RR_CO_ASSERT_TRUE(co_await append_durable(*wal, GroupId(1), Term(1), first, 5));
    }
    RR_CO_ASSERT_TRUE(co_await mark_durable(*wal, GroupId(1), LogIndex(250), Term(1)));
    EXPECT_TRUE((co_await wal->close()).ok());
    EXPECT_GT(wal->stats().segments_released, 0u);
    Result<std::unique_ptr<Wal>> reopened = co_await reopen(shard, options);
    RR_CO_ASSERT_TRUE(reopened.ok());
    EXPECT_EQ(reopened.value()->first_index(GroupId(1)), LogIndex(251));
    EXPECT_EQ(reopened.value()->last_index(GroupId(1)), LogIndex(300));
    Result<EntryBatch> read = co_await reopened.value()->read_entries(GroupId(1), LogIndex(251),
                                                                      LogIndex(300), kAllBytes);
    RR_CO_ASSERT_TRUE(read.ok());
    EXPECT_EQ(read.value().entry_count, 50u);
    EXPECT_TRUE((co_await reopened.value()->close()).ok());
  });
}

}  // namespace
}  // namespace ringraft::wal
