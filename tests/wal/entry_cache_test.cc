// EntryCache: the FIFO byte ring of recent entries records.
#include "wal/entry_cache.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/wal/wal_test_util.h"

namespace ringraft::wal {
namespace {

using testing::payload_bytes;

bool same(ConstByteSpan got, const std::vector<std::byte>& want) {
  return std::equal(got.begin(), got.end(), want.begin(), want.end());
}

TEST(EntryCache, EvictsOldestFirstAndNeverWraps) {
  const uint32_t seed = 7;
  std::cout << "seed " << seed << "\n";
  std::mt19937 random(seed);
  EntryCache cache(4096);
  std::vector<uint64_t> positions;
  std::vector<std::vector<std::byte>> payloads;
  for (uint64_t record = 0; record < 400; record++) {
    const size_t size_bytes = 1 + random() % 900;  // records up to a quarter of the ring
    payloads.push_back(payload_bytes(record, size_bytes));
    const uint32_t length = static_cast<uint32_t>(size_bytes);
    positions.push_back(cache.insert(std::span(&length, 1), payloads.back()));
    ASSERT_NE(positions.back(), kNotCached);
    cache.check_invariants();
    // Present records are a suffix of what was inserted, and each reads back intact.
    bool seen_present = false;
    for (uint64_t older = 0; older <= record; older++) {
      const bool present = cache.contains(positions[older]);
      EXPECT_TRUE(!seen_present || present) << "record " << older << " after " << record;
      seen_present |= present;
      if (!present) continue;
      const EntryCache::View view = cache.view(positions[older]);
      EXPECT_EQ(view.entry_count, 1u);
      EXPECT_TRUE(same(view.payload, payloads[older])) << "record " << older;
    }
    EXPECT_TRUE(cache.contains(positions.back()));
  }
  EXPECT_GT(cache.records_evicted(), 300u);
  EXPECT_LE(cache.used_bytes(), 4096u);
}

TEST(EntryCache, RecordsOverAQuarterOfTheRingAreNotCached) {
  EntryCache cache(4096);
  const std::vector<std::byte> big = payload_bytes(1, 1100);
  const uint32_t length = static_cast<uint32_t>(big.size());
  EXPECT_EQ(cache.insert(std::span(&length, 1), big), kNotCached);
  EntryCache disabled(0);
  const std::vector<std::byte> small = payload_bytes(2, 10);
  const uint32_t small_length = 10;
  EXPECT_EQ(disabled.insert(std::span(&small_length, 1), small), kNotCached);
  EXPECT_FALSE(disabled.contains(0));
}

}  // namespace
}  // namespace ringraft::wal
