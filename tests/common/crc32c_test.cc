#include "common/crc32c.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ringraft
