// The WAL's read side: read_entries from the cache and from disk, term lookup, Raft's overwrite
// and truncate rules, and the index rebuilt by recovery.
#include <gtest/gtest.h>

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

// The payload of entry `index` written in `term`: different terms give different bytes, so an
// overwrite is visible in what is read back.
std::vector<std::byte> entry_bytes(uint64_t index, Term term, size_t size_bytes) {
  return payload_bytes(index * 7 + term.value() * 1000003, size_bytes);
}

// Appends entries [first, first + count) of `size_bytes` each as one record.
Result<Seq> append_run(Wal& wal, GroupId group, Term term, uint64_t first, uint32_t count,
                       size_t size_bytes) {
  std::vector<uint32_t> lengths;
  std::vector<std::byte> payload;
  for (uint64_t index = first; index < first + count; index++) {
    const std::vector<std::byte> bytes = entry_bytes(index, term, size_bytes);
    lengths.push_back(static_cast<uint32_t>(bytes.size()));
    payload.insert(payload.end(), bytes.begin(), bytes.end());
  }
  return wal.append_entries(group, term, LogIndex(first), lengths, payload);
}

// Appends `count` runs of `per_run` entries, each run in its own batch, durable before returning.
Task<bool> append_durable_runs(Wal& wal, GroupId group, Term term, uint64_t first, uint32_t count,
                               uint32_t per_run, size_t size_bytes) {
  for (uint32_t run = 0; run < count; run++) {
    const Result<Seq> seq =
        append_run(wal, group, term, first + uint64_t{run} * per_run, per_run, size_bytes);
    if (!seq.ok()) co_return false;
    if (!(co_await wal.wait_durable(seq.value())).ok()) co_return false;
  }
  co_return true;
}

// Whether `batch` holds exactly entries [first, last] with the bytes entry_bytes(index, term).
::testing::AssertionResult holds(const EntryBatch& batch, uint64_t first, uint64_t last,
                                 const std::vector<TermRun>& runs, size_t size_bytes) {
  if (batch.first_index != LogIndex(first) || batch.entry_count != last - first + 1) {
    return ::testing::AssertionFailure()
           << "batch holds " << batch.entry_count << " entries from " << batch.first_index.value();
  }
  if (batch.term_runs != runs) return ::testing::AssertionFailure() << "term runs differ";
  for (uint64_t index = first; index <= last; index++) {
    const ConstByteSpan got = batch.entry(static_cast<uint32_t>(index - first));
    const std::vector<std::byte> want =
        entry_bytes(index, batch.term_at(LogIndex(index)), size_bytes);
    if (!std::equal(got.begin(), got.end(), want.begin(), want.end())) {
      return ::testing::AssertionFailure() << "entry " << index << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

WalOptions options_with_cache(const TempDir& dir, uint64_t cache_bytes) {
  WalOptions options = small_options(dir);
  options.cache_bytes_max = cache_bytes;
  return options;
}

Task<Result<std::unique_ptr<Wal>>> reopen(Shard& shard, const WalOptions& options) {
  co_return co_await Wal::recover_and_open(shard, shard.io(), options);
}

TEST(WalRead, EntriesRoundTripAcrossSegmentBoundariesFromCacheAndDisk) {
  for (const uint64_t cache_bytes : {uint64_t{8} << 20, uint64_t{0}}) {
    TempDir dir;
    const WalOptions options = options_with_cache(dir, cache_bytes);
    run_on_reactor([&](Shard& shard) -> Task<void> {
      auto wal = (co_await reopen(shard, options)).value();
      // 40 batches of 5 x 1000 bytes: about 200 KB over 64 KiB segments.
      RR_CO_ASSERT_TRUE(co_await append_durable_runs(*wal, GroupId(1), Term(1), 1, 40, 5, 1000));
      EXPECT_GE(wal->index().segments().size(), 3u);
      Result<EntryBatch> read =
          co_await wal->read_entries(GroupId(1), LogIndex(1), LogIndex(1000), kAllBytes);
      RR_CO_ASSERT_TRUE(read.ok());
      EXPECT_TRUE(holds(read.value(), 1, 200, {{LogIndex(1), Term(1)}}, 1000));
      // A range that starts and ends inside records.
      read = co_await wal->read_entries(GroupId(1), LogIndex(33), LogIndex(77), kAllBytes);
      RR_CO_ASSERT_TRUE(read.ok());
      EXPECT_TRUE(holds(read.value(), 33, 77, {{LogIndex(33), Term(1)}}, 1000));
      if (cache_bytes == 0) {
        EXPECT_EQ(wal->stats().entries_read_from_disk, 245u);
        EXPECT_EQ(wal->stats().entries_read_from_cache, 0u);
      } else {
        EXPECT_EQ(wal->stats().entries_read_from_cache, 245u);
        EXPECT_EQ(wal->stats().entries_read_from_disk, 0u);
      }
      EXPECT_TRUE((co_await wal->close()).ok());
    });
  }
}

TEST(WalRead, EvictedEntriesAreReadBackFromDisk) {
  TempDir dir;
  const WalOptions options = options_with_cache(dir, 32 * 1024);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    RR_CO_ASSERT_TRUE(co_await append_durable_runs(*wal, GroupId(1), Term(1), 1, 30, 4, 1000));
    EXPECT_GT(wal->cache().records_evicted(), 0u);
    Result<EntryBatch> read =
        co_await wal->read_entries(GroupId(1), LogIndex(1), LogIndex(120), kAllBytes);
    RR_CO_ASSERT_TRUE(read.ok());
    EXPECT_TRUE(holds(read.value(), 1, 120, {{LogIndex(1), Term(1)}}, 1000));
    EXPECT_GT(wal->stats().entries_read_from_disk, 0u);
    EXPECT_GT(wal->stats().entries_read_from_cache, 0u);
    EXPECT_EQ(wal->stats().entries_read_from_disk + wal->stats().entries_read_from_cache, 120u);
    EXPECT_LE(wal->cache().used_bytes(), 32u * 1024);
    EXPECT_TRUE((co_await wal->close()).ok());
  });
}

TEST(WalRead, EvictedBeforeWrittenWaitsForTheDisk) {
  TempDir dir;
  const WalOptions options = options_with_cache(dir, 8 * 1024);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    // One turn, several records: the first are evicted before their batch is written.
    for (uint64_t index = 1; index <= 8; index++) {
      RR_CO_ASSERT_TRUE(append_run(*wal, GroupId(1), Term(1), index, 1, 1500).ok());
    }
    EXPECT_GT(wal->cache().records_evicted(), 0u);
    EXPECT_EQ(wal->durable_seq(), Seq(0));
    Result<EntryBatch> read =
        co_await wal->read_entries(GroupId(1), LogIndex(1), LogIndex(8), kAllBytes);
    RR_CO_ASSERT_TRUE(read.ok());
    EXPECT_TRUE(holds(read.value(), 1, 8, {{LogIndex(1), Term(1)}}, 1500));
    EXPECT_GT(wal->stats().entries_read_from_disk, 0u);
    EXPECT_TRUE((co_await wal->close()).ok());
  });
}

TEST(WalRead, BytesMaxBoundsTheBatchButOneEntryAlwaysComes) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    RR_CO_ASSERT_TRUE(co_await append_durable_runs(*wal, GroupId(1), Term(1), 1, 2, 5, 1000));
    Result<EntryBatch> read =
        co_await wal->read_entries(GroupId(1), LogIndex(4), LogIndex(10), 2500);
    RR_CO_ASSERT_TRUE(read.ok());
    EXPECT_TRUE(holds(read.value(), 4, 5, {{LogIndex(4), Term(1)}}, 1000));
    read = co_await wal->read_entries(GroupId(1), LogIndex(7), LogIndex(10), 10);
    RR_CO_ASSERT_TRUE(read.ok());
    EXPECT_TRUE(holds(read.value(), 7, 7, {{LogIndex(7), Term(1)}}, 1000));
    read = co_await wal->read_entries(GroupId(1), LogIndex(11), LogIndex(20), kAllBytes);
    RR_CO_ASSERT_TRUE(read.ok());
    EXPECT_TRUE(read.value().empty());
    EXPECT_TRUE((co_await wal->close()).ok());
  });
}

// Checks the log that TermLookupAfterTruncateAndOverwrite builds, before and after a restart.
void expect_overwritten_log(const Wal& wal) {
  const GroupId group(1);
  EXPECT_EQ(wal.first_index(group), LogIndex(1));
  EXPECT_EQ(wal.last_index(group), LogIndex(13));
  EXPECT_EQ(wal.term_at(group, LogIndex(0)), Term(0));
  EXPECT_EQ(wal.term_at(group, LogIndex(10)), Term(1));
  EXPECT_EQ(wal.term_at(group, LogIndex(11)), Term(2));
  EXPECT_EQ(wal.term_at(group, LogIndex(12)), Term(3));
  EXPECT_EQ(wal.term_at(group, LogIndex(13)), Term(3));
  EXPECT_EQ(wal.term_at(group, LogIndex(14)), std::nullopt);
}

TEST(WalRead, TermLookupAfterTruncateAndOverwrite) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  const std::vector<TermRun> runs = {
      {LogIndex(1), Term(1)}, {LogIndex(11), Term(2)}, {LogIndex(12), Term(3)}};
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    const GroupId group(1);
    RR_CO_ASSERT_TRUE(co_await append_durable_runs(*wal, group, Term(1), 1, 1, 10, 100));
    RR_CO_ASSERT_TRUE(co_await append_durable_runs(*wal, group, Term(2), 11, 1, 10, 100));
    // A new leader overwrites from 12 (12..16 in term 3), then 14.. is truncated.
    RR_CO_ASSERT_TRUE(co_await append_durable_runs(*wal, group, Term(3), 12, 1, 5, 100));
    const Result<Seq> truncated = wal->append_truncate(group, LogIndex(14));
    RR_CO_ASSERT_TRUE(truncated.ok());
    RR_CO_ASSERT_TRUE((co_await wal->wait_durable(truncated.value())).ok());
    expect_overwritten_log(*wal);
    Result<EntryBatch> read =
        co_await wal->read_entries(group, LogIndex(1), LogIndex(100), kAllBytes);
    RR_CO_ASSERT_TRUE(read.ok());
    EXPECT_TRUE(holds(read.value(), 1, 13, runs, 100));
    // A gap is refused; appending right after the end is not.
    EXPECT_EQ(append_run(*wal, group, Term(3), 15, 1, 100).error().code(),
              ErrorCode::kInvalidInput);
    EXPECT_TRUE((co_await wal->close()).ok());

    auto reopened = (co_await reopen(shard, options)).value();
    expect_overwritten_log(*reopened);
    read = co_await reopened->read_entries(group, LogIndex(1), LogIndex(100), kAllBytes);
    RR_CO_ASSERT_TRUE(read.ok());
    EXPECT_TRUE(holds(read.value(), 1, 13, runs, 100));
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
}

// The index as a comparable value (cache positions left out: the cache starts empty).
struct IndexImage {
  struct Group {
    LogIndex first_index, last_index;
    std::vector<TermRun> term_runs;
    std::vector<std::tuple<uint64_t, uint32_t, uint32_t, uint64_t>> extents;
    std::optional<Seq> pin;
    bool operator==(const Group&) const = default;
  };
  std::map<GroupId, Group> groups;
  std::vector<std::pair<Seq, std::vector<uint64_t>>> segments;
  bool operator==(const IndexImage&) const = default;
};

IndexImage image(const WalIndex& index) {
  IndexImage result;
  for (const auto& [id, log] : index.groups()) {
    IndexImage::Group& group = result.groups[id];
    group.first_index = log.first_index();
    group.last_index = log.last_index();
    group.term_runs = log.term_runs();
    group.pin = log.pin_seq();
    for (const Extent& extent : log.extents()) {
      group.extents.emplace_back(extent.first_index.value(), extent.entry_count,
                                 extent.record_ordinal, extent.seq.value());
    }
  }
  for (const SegmentBatches& segment : index.segments()) {
    result.segments.emplace_back(segment.first_seq, segment.batch_offsets);
  }
  return result;
}

TEST(WalRead, IndexRebuiltByRecoveryEqualsTheOneBefore) {
  TempDir dir;
  const WalOptions options = small_options(dir);
  IndexImage before, after;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto wal = (co_await reopen(shard, options)).value();
    for (uint64_t round = 0; round < 12; round++) {
      // Three groups share batches; group 2 overwrites, group 3 truncates, group 1 snapshots.
      for (uint64_t g = 1; g <= 3; g++) {
        const LogIndex next(wal->last_index(GroupId(g)).value() + 1);
        const uint64_t first = (g == 2 && round % 4 == 3) ? next.value() - 2 : next.value();
        RR_CO_ASSERT_TRUE(
            append_run(*wal, GroupId(g), Term(round + 1), first, 3, 700 + g * 100).ok());
        RR_CO_ASSERT_TRUE(
            wal->append_hard_state(GroupId(g), Term(round + 1), NodeId(g), LogIndex(first)).ok());
      }
      if (round % 5 == 4) RR_CO_ASSERT_TRUE(wal->append_truncate(GroupId(3), LogIndex(round)).ok());
      Result<Seq> last =
          wal->append_snapshot_mark(GroupId(1), LogIndex(round * 3), Term(round + 1));
      RR_CO_ASSERT_TRUE(last.ok());
      RR_CO_ASSERT_TRUE((co_await wal->wait_durable(last.value())).ok());
    }
    before = image(wal->index());
    EXPECT_TRUE((co_await wal->close()).ok());
    auto reopened = (co_await reopen(shard, options)).value();
    after = image(reopened->index());
    EXPECT_TRUE((co_await reopened->close()).ok());
  });
  EXPECT_EQ(before.groups.size(), 3u);
  EXPECT_GE(before.segments.size(), 2u);
  EXPECT_TRUE(before == after);
}

}  // namespace
}  // namespace ringraft::wal
