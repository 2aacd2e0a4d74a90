#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace ringraft {
namespace {

ConstByteSpan text_bytes(const std::string& text) {
  return as_bytes(text.data(), text.size());
}

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c(text_bytes("123456789")), 0xE3069283u);
}

TEST(Crc32c, MatchesRfc3720Vectors) {
  std::vector<std::byte> zeros(32, std::byte{0});
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  std::vector<std::byte> ones(32, std::byte{0xFF});
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
}

TEST(Crc32c, EmptyInputIsZero) {
  EXPECT_EQ(crc32c(ConstByteSpan{}), 0u);
}

TEST(Crc32c, ExtendEqualsOneShot) {
  const std::string text = "the quick brown fox jumps over the lazy dog";
  for (size_t split = 0; split <= text.size(); split++) {
    const uint32_t first = crc32c(text_bytes(text.substr(0, split)));
    EXPECT_EQ(crc32c_extend(first, text_bytes(text.substr(split))), crc32c(text_bytes(text)))
        << "split at " << split;
  }
}

TEST(Crc32c, DetectsEverySingleBitFlip) {
  std::vector<std::byte> block(4096);
  for (size_t i = 0; i < block.size(); i++) block[i] = std::byte(i * 7 + 3);
  const uint32_t clean = crc32c(block);
  for (size_t bit = 0; bit < block.size() * 8; bit += 61) {
    block[bit / 8] ^= std::byte(1u << (bit % 8));
    EXPECT_NE(crc32c(block), clean) << "bit " << bit;
    block[bit / 8] ^= std::byte(1u << (bit % 8));
  }
}

// crc32c_combine against one pass over the whole, at random splits of random lengths (up to a
// few MiB, so lengths with many bits set), and at the edges (empty first or second part).
TEST(Crc32c, CombineEqualsOnePassAtRandomSplits) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  std::vector<std::byte> bytes(3u << 20);
  for (auto& byte : bytes) byte = std::byte(static_cast<uint8_t>(random()));
  for (int round = 0; round < 200; round++) {
    const size_t total = round < 100 ? random() % 4096 : random() % bytes.size();
    const size_t split = total == 0 ? 0 : random() % (total + 1);
    const ConstByteSpan whole = ConstByteSpan(bytes).first(total);
    const uint32_t combined =
        crc32c_combine(crc32c(whole.first(split)), crc32c(whole.subspan(split)), total - split);
    ASSERT_EQ(combined, crc32c(whole))
        << "seed " << seed << " total " << total << " split " << split;
  }
}

TEST(Crc32c, CombineOfThreePiecesEqualsOnePass) {
  const std::string text = "prefix|a block carried by reference|suffix";
  const ConstByteSpan whole = text_bytes(text);
  const ConstByteSpan prefix = whole.first(7);
  const ConstByteSpan block = whole.subspan(7, 29);
  const ConstByteSpan suffix = whole.subspan(36);
  const uint32_t head = crc32c_combine(crc32c(prefix), crc32c(block), block.size());
  EXPECT_EQ(crc32c_combine(head, crc32c(suffix), suffix.size()), crc32c(text_bytes(text)));
  EXPECT_EQ(crc32c_combine(crc32c(text_bytes(text)), 0, 0), crc32c(text_bytes(text)));
  EXPECT_EQ(crc32c_combine(0, crc32c(text_bytes(text)), text.size()), crc32c(text_bytes(text)));
}

}  // namespace
}  // namespace ringraft
