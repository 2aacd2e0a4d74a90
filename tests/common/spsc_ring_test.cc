#include "common/spsc_ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

namespace ringraft {
namespace {

TEST(SpscRing, CapacityRoundsUpToAPowerOfTwo) {
  SpscRing<uint64_t> ring(100);
  EXPECT_EQ(ring.capacity(), 128u);
}

TEST(SpscRing, FullRingRefusesAndKeepsWhatItHas) {
  SpscRing<uint64_t> ring(4);
  for (uint64_t i = 0; i < 4; i++) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  uint64_t item = 0;
  for (uint64_t i = 0; i < 4; i++) {
    ASSERT_TRUE(ring.try_pop(&item));
    EXPECT_EQ(item, i);
  }
  EXPECT_FALSE(ring.try_pop(&item));
}

TEST(SpscRing, WrapsAroundManyTimes) {
  SpscRing<uint64_t> ring(8);
  uint64_t next_out = 0;
  uint64_t item = 0;
  for (uint64_t i = 0; i < 1000; i++) {
    ASSERT_TRUE(ring.try_push(i));
    if (i % 3 == 2) {
      while (ring.try_pop(&item)) EXPECT_EQ(item, next_out++);
    }
  }
  while (ring.try_pop(&item)) EXPECT_EQ(item, next_out++);
  EXPECT_EQ(next_out, 1000u);
}

// Two threads, in order, nothing lost or duplicated. Run under ThreadSanitizer in CI.
TEST(SpscRing, TransfersBetweenThreadsInOrder) {
  constexpr uint64_t kItems = 200'000;
  SpscRing<uint64_t> ring(64);
  std::thread producer([&] {
    for (uint64_t i = 0; i < kItems; i++) {
      while (!ring.try_push(i)) std::this_thread::yield();
    }
  });
  uint64_t expected = 0;
  uint64_t item = 0;
  while (expected < kItems) {
    if (ring.try_pop(&item)) {
      ASSERT_EQ(item, expected);
      expected++;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_FALSE(ring.try_pop(&item));
}

}  // namespace
}  // namespace ringraft
