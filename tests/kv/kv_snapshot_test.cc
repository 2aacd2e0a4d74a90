// Snapshots: any store round-trips through any chunking, and every corruption a disk or a
// peer can produce is refused with the store left as it was.
#include "tools/kv/kv_snapshot.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "common/crc32c.h"

namespace ringraft::kv {
namespace {

KvStore sample_store() {
  KvStore store;
  store.set("", "empty key");
  store.set("empty value", "");
  store.set(std::string("bin\0ary", 7), std::string("\r\n\0\xff", 4));
  store.set("large", std::string(3 * kSnapshotChunkBytes + 17, 'L'));
  for (int i = 0; i < 1000; ++i) store.set("key:" + std::to_string(i), std::to_string(i * i));
  return store;
}

std::vector<std::byte> snapshot_of(const KvStore& store) {
  VectorSnapshotSink sink;
  EXPECT_TRUE(write_snapshot(store, sink).ok());
  return sink.bytes();
}

void expect_same(const KvStore& a, const KvStore& b) {
  EXPECT_EQ(a.key_count(), b.key_count());
  EXPECT_EQ(a.data_bytes(), b.data_bytes());
  a.for_each([&](std::string_view key, const std::string& value) {
    const std::string* other = b.find(key);
    ASSERT_NE(other, nullptr) << key;
    EXPECT_EQ(*other, value) << key;
  });
}

// The restore error for `bytes`, "" when it restores; the target store must stay unchanged.
std::string restore_error(const std::vector<std::byte>& bytes, const KvLimits& limits = {}) {
  KvStore store(limits);
  store.set("before", "restore");
  SpanSnapshotSource source(bytes);
  const Result<void> restored = read_snapshot(source, store);
  if (restored.ok()) return "";
  EXPECT_EQ(store.key_count(), 1u);
  EXPECT_NE(store.find("before"), nullptr);
  return restored.error().context();
}

TEST(KvSnapshot, RoundTripsAStore) {
  const KvStore store = sample_store();
  const std::vector<std::byte> bytes = snapshot_of(store);
  KvStore restored;
  restored.set("stale", "dropped by the restore");
  SpanSnapshotSource source(bytes);
  ASSERT_TRUE(read_snapshot(source, restored).ok());
  expect_same(store, restored);
  EXPECT_EQ(restored.find("stale"), nullptr);
}

TEST(KvSnapshot, RoundTripsAnEmptyStore) {
  const std::vector<std::byte> bytes = snapshot_of(KvStore());
  EXPECT_EQ(bytes.size(), 24u + 4);
  KvStore restored;
  restored.set("k", "v");
  SpanSnapshotSource source(bytes);
  ASSERT_TRUE(read_snapshot(source, restored).ok());
  EXPECT_EQ(restored.key_count(), 0u);
}

TEST(KvSnapshot, AnyChunkingRestoresTheSame) {
  const KvStore store = sample_store();
  const std::vector<std::byte> bytes = snapshot_of(store);
  for (size_t chunk_bytes : {size_t{1}, size_t{7}, size_t{4096}}) {
    KvStore restored;
    SpanSnapshotSource source(bytes, chunk_bytes);
    ASSERT_TRUE(read_snapshot(source, restored).ok()) << chunk_bytes;
    expect_same(store, restored);
  }
}

TEST(KvSnapshot, EveryTruncationIsRefused) {
  KvStore store;
  store.set("a", "1");
  store.set("bb", "22");
  const std::vector<std::byte> bytes = snapshot_of(store);
  for (size_t length = 0; length < bytes.size(); ++length) {
    const std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(length));
    EXPECT_NE(restore_error(cut), "") << length;
  }
  EXPECT_EQ(restore_error(bytes), "");
}

TEST(KvSnapshot, EveryBitFlipIsRefused) {
  KvStore store;
  store.set("a", "1");
  store.set("bb", "22");
  const std::vector<std::byte> bytes = snapshot_of(store);
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::vector<std::byte> flipped = bytes;
    flipped[bit / 8] ^= std::byte(1 << (bit % 8));
    EXPECT_NE(restore_error(flipped), "") << "bit " << bit;
  }
}

TEST(KvSnapshot, ChecksumMismatchSaysSo) {
  KvStore store;
  store.set("key", "value");
  std::vector<std::byte> bytes = snapshot_of(store);
  bytes[bytes.size() - 6] ^= std::byte{1};  // inside the value
  EXPECT_EQ(restore_error(bytes), "kv snapshot at byte 40: checksum mismatch");
}

TEST(KvSnapshot, TrailingBytesAreRefused) {
  std::vector<std::byte> bytes = snapshot_of(KvStore());
  bytes.push_back(std::byte{0});
  EXPECT_EQ(restore_error(bytes), "kv snapshot at byte 28: bytes after the trailer");
}

TEST(KvSnapshot, BadMagicOrVersionIsRefused) {
  std::vector<std::byte> bytes = snapshot_of(KvStore());
  std::vector<std::byte> magic = bytes;
  magic[0] = std::byte{'X'};
  EXPECT_EQ(restore_error(magic), "kv snapshot at byte 24: not a kv snapshot (bad magic)");
  std::vector<std::byte> version = bytes;
  version[8] = std::byte{2};
  EXPECT_EQ(restore_error(version), "kv snapshot at byte 24: unsupported version 2");
}

TEST(KvSnapshot, LimitsAreCheckedBeforeAllocating) {
  KvStore store;
  store.set("a", std::string(100, 'v'));
  store.set("b", "1");
  const std::vector<std::byte> bytes = snapshot_of(store);
  KvLimits few_keys;
  few_keys.keys_max = 1;
  EXPECT_EQ(restore_error(bytes, few_keys).substr(0, 37), "kv snapshot at byte 24: 2 keys, above");
  KvLimits short_values;
  short_values.value_bytes_max = 50;
  EXPECT_NE(restore_error(bytes, short_values).find("longer than value_bytes_max"),
            std::string::npos);
  KvLimits little_data;
  little_data.data_bytes_max = 150;
  EXPECT_NE(restore_error(bytes, little_data).find("more data than data_bytes_max"),
            std::string::npos);
  // A length field claiming 4 GiB is refused from the header alone.
  std::vector<std::byte> huge = snapshot_of(KvStore());
  huge[16] = std::byte{1};  // one key
  huge.resize(24);
  for (int i = 0; i < 8; ++i) huge.push_back(std::byte{0xff});
  EXPECT_NE(restore_error(huge).find("longer than value_bytes_max"), std::string::npos);
}

TEST(KvSnapshot, DuplicateKeysAreRefused) {
  KvStore store;
  store.set("k", "1");
  std::vector<std::byte> bytes = snapshot_of(store);
  // Rewrite as two copies of the same record, with a correct header count and checksum: only
  // the duplicate is wrong.
  std::vector<std::byte> doubled(bytes.begin(), bytes.end() - 4);
  doubled.insert(doubled.end(), bytes.begin() + 24, bytes.end() - 4);
  doubled[16] = std::byte{2};
  const uint32_t crc = crc32c(doubled);
  for (int i = 0; i < 4; ++i) doubled.push_back(std::byte(static_cast<uint8_t>(crc >> (8 * i))));
  EXPECT_NE(restore_error(doubled).find("duplicate key"), std::string::npos);
}

TEST(KvSnapshot, RandomBytesNeverCrash) {
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  const std::vector<std::byte> valid = snapshot_of(sample_store());
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::byte> bytes(valid.begin(),
                                 valid.begin() + static_cast<ptrdiff_t>(random() % 200));
    for (auto& byte : bytes) {
      if (random() % 20 == 0) byte = std::byte(random() % 256);
    }
    EXPECT_NE(restore_error(bytes), "") << "seed " << seed << " round " << i;
  }
}

std::map<std::string, std::string> contents(const KvStore& store) {
  std::map<std::string, std::string> out;
  store.for_each(
      [&](std::string_view key, const std::string& value) { out[std::string(key)] = value; });
  return out;
}

TEST(KvStoreCopy, ACopyKeepsItsContentWhileTheOriginalChangesAndBackAgain) {
  KvStore store = sample_store();
  const std::map<std::string, std::string> before = contents(store);
  {
    const KvStore copy = store;  // O(partitions): nothing cloned yet
    EXPECT_EQ(store.partitions_cloned(), 0u);
    store.set("key:1", "changed");
    store.set("new key", "added");
    EXPECT_TRUE(store.erase("key:2"));
    EXPECT_FALSE(store.erase("no such key"));  // a miss clones nothing
    EXPECT_EQ(contents(copy), before);
    EXPECT_EQ(copy.key_count(), before.size());
    copy.check_invariants();
    store.check_invariants();
    EXPECT_EQ(*store.find("key:1"), "changed");
    EXPECT_EQ(store.find("key:2"), nullptr);
    // One clone per partition written, at most: three keys, three partitions or fewer.
    EXPECT_GE(store.partitions_cloned(), 1u);
    EXPECT_LE(store.partitions_cloned(), 3u);
  }
  // The copy is gone: changes are in place again.
  const uint64_t cloned = store.partitions_cloned();
  for (int i = 0; i < 100; ++i) store.set("key:" + std::to_string(i), "again");
  EXPECT_EQ(store.partitions_cloned(), cloned);
  store.check_invariants();
}

// A stepped snapshot started, then the store changed between its steps (seeded random sets,
// overwrites and erases): the stream restores to the store as of the start, and the store ends
// with every change.
TEST(KvSnapshot, SteppedWriterWritesTheStoreAsOfItsStartWhileTheStoreChanges) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  KvStore store = sample_store();
  const std::map<std::string, std::string> at_start = contents(store);
  std::map<std::string, std::string> expected_now = at_start;

  VectorSnapshotSink sink;
  SteppedSnapshotWriter writer(store, sink);
  int steps = 0;
  while (true) {
    const Result<bool> step = writer.write_some(1 + random() % 2000);
    ASSERT_TRUE(step.ok()) << step.error().message();
    ++steps;
    if (step.value()) break;
    for (int change = 0; change < 5; ++change) {
      const std::string key = "key:" + std::to_string(random() % 1200);
      if (random() % 4 == 0) {
        EXPECT_EQ(store.erase(key), expected_now.erase(key) == 1);
      } else {
        const std::string value(random() % 40, static_cast<char>('a' + random() % 26));
        store.set(key, value);
        expected_now[key] = value;
      }
    }
  }
  EXPECT_GT(steps, 10);  // really in steps
  EXPECT_GT(store.partitions_cloned(), 0u);
  KvStore restored;
  SpanSnapshotSource source(sink.bytes());
  ASSERT_TRUE(read_snapshot(source, restored).ok());
  EXPECT_EQ(contents(restored), at_start);
  EXPECT_EQ(contents(store), expected_now);
  store.check_invariants();
}

TEST(KvSnapshot, ASteppedWriterDroppedHalfWayLeavesTheStoreWhole) {
  KvStore store = sample_store();
  const std::map<std::string, std::string> at_start = contents(store);
  {
    VectorSnapshotSink sink;
    SteppedSnapshotWriter writer(store, sink);
    ASSERT_TRUE(writer.write_some(100).ok());
    store.set("key:5", "during");
  }
  store.set("key:6", "after");
  std::map<std::string, std::string> expected = at_start;
  expected["key:5"] = "during";
  expected["key:6"] = "after";
  EXPECT_EQ(contents(store), expected);
  store.check_invariants();
}

}  // namespace
}  // namespace ringraft::kv
