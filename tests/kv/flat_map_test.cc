// FlatStringMap against std::map under seeded random sets and erases, with hashes chosen to
// collide (long probe runs, wrap-around at the table's end, erase shifting runs back).
#include "tools/kv/flat_map.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <string>

namespace ringraft::kv {
namespace {

// Every key's hash, by a rule the test picks: real hashes, or few distinct ones.
using HashRule = std::function<uint64_t(std::string_view)>;

std::map<std::string, std::string> contents(const FlatStringMap& map) {
  std::map<std::string, std::string> out;
  size_t cursor = 0;
  map.for_each_from(&cursor, [&](std::string_view key, const std::string& value) {
    EXPECT_TRUE(out.emplace(std::string(key), value).second) << "visited twice: " << key;
    return true;
  });
  return out;
}

void run_against_a_reference(const HashRule& hash, uint32_t seed, int operations) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  FlatStringMap map;
  std::map<std::string, std::string> reference;
  for (int i = 0; i < operations; ++i) {
    const std::string key = "k" + std::to_string(random() % 500);
    const uint64_t h = hash(key);
    const std::string* found = map.find(key, h);
    const auto in_reference = reference.find(key);
    ASSERT_EQ(found != nullptr, in_reference != reference.end()) << key << " at step " << i;
    if (found != nullptr) {
      ASSERT_EQ(*found, in_reference->second);
    }
    switch (random() % 3) {
      case 0:
        ASSERT_EQ(map.erase(key, h), reference.erase(key) == 1) << key;
        break;
      default: {
        const std::string value(random() % 30, static_cast<char>('a' + random() % 26));
        if (std::string* old = map.find(key, h)) {
          *old = value;
        } else {
          map.insert(key, h, value);
        }
        reference[key] = value;
      }
    }
    ASSERT_EQ(map.size(), reference.size());
  }
  EXPECT_EQ(contents(map), reference);
  const FlatStringMap copy(map);  // deep: changing the original leaves it
  for (const auto& [key, value] : reference) map.erase(key, hash(key));
  EXPECT_EQ(map.size(), 0u);
  EXPECT_TRUE(contents(map).empty());
  EXPECT_EQ(contents(copy), reference);
}

TEST(FlatStringMap, MatchesAMapWithRealHashes) {
  run_against_a_reference([](std::string_view key) { return std::hash<std::string_view>{}(key); },
                          std::random_device{}(), 20000);
}

TEST(FlatStringMap, MatchesAMapWhenHashesCollideInRuns) {
  // 7 distinct hashes for 500 keys: every probe walks a long run, and erases shift runs that
  // wrap around the table's end.
  run_against_a_reference(
      [](std::string_view key) { return std::hash<std::string_view>{}(key) % 7 + 13; },
      std::random_device{}(), 20000);
}

TEST(FlatStringMap, EmptyAndLongKeysAndValues) {
  FlatStringMap map;
  const std::string long_key(10000, 'k');
  map.insert("", 1, "empty key");
  map.insert(long_key, 1, std::string(100000, 'v'));
  ASSERT_NE(map.find("", 1), nullptr);
  EXPECT_EQ(*map.find("", 1), "empty key");
  EXPECT_EQ(map.find(long_key, 1)->size(), 100000u);
  EXPECT_EQ(map.find("absent", 1), nullptr);
  EXPECT_TRUE(map.erase("", 1));
  EXPECT_EQ(map.find(long_key, 1)->size(), 100000u);  // shifted back into the freed slot
}

}  // namespace
}  // namespace ringraft::kv
