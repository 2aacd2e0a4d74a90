#include "common/small_bytes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringraft {
namespace {

std::vector<std::byte> bytes_of(size_t size) {
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; i++) bytes[i] = static_cast<std::byte>(i * 7 + 1);
  return bytes;
}

bool same(const SmallBytes& small, const std::vector<std::byte>& bytes) {
  return small.size() == bytes.size() &&
         std::equal(small.begin(), small.end(), bytes.begin(), bytes.end());
}

TEST(SmallBytes, ShortContentStaysInlineAndLongGoesToTheHeap) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{5}, SmallBytes::kInlineBytes,
                      SmallBytes::kInlineBytes + 1, size_t{4096}}) {
    const std::vector<std::byte> content = bytes_of(size);
    const SmallBytes small(content);
    EXPECT_TRUE(same(small, content)) << size;
    EXPECT_EQ(small.on_heap(), size > SmallBytes::kInlineBytes) << size;
    EXPECT_EQ(small.empty(), size == 0);
    EXPECT_EQ(small.span().size(), size);
  }
}

TEST(SmallBytes, CopiesAndMovesKeepTheContentAndLeaveTheSourceEmptyOnMove) {
  for (size_t size : {size_t{3}, SmallBytes::kInlineBytes + 9}) {
    const std::vector<std::byte> content = bytes_of(size);
    SmallBytes original(content);
    SmallBytes copied(original);
    EXPECT_TRUE(same(copied, content));
    EXPECT_TRUE(same(original, content));
    if (size > SmallBytes::kInlineBytes) {
      EXPECT_NE(copied.data(), original.data());
    }

    SmallBytes moved(std::move(original));
    EXPECT_TRUE(same(moved, content));
    EXPECT_TRUE(original.empty());  // NOLINT(bugprone-use-after-move): the state is specified

    SmallBytes assigned(bytes_of(SmallBytes::kInlineBytes + 20));  // heap, then replaced
    assigned = copied;
    EXPECT_TRUE(same(assigned, content));
    assigned = std::move(moved);
    EXPECT_TRUE(same(assigned, content));
    assigned = SmallBytes();
    EXPECT_TRUE(assigned.empty());
    EXPECT_FALSE(assigned.on_heap());
  }
}

}  // namespace
}  // namespace ringraft
