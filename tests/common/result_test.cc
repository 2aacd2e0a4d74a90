#include "common/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace ringraft {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Error(ErrorCode::kInvalidInput, std::string("not a digit: ") + c);
  return c - '0';
}

TEST(Result, CarriesAValue) {
  Result<int> result = parse_digit('7');
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value(), 7);
}

TEST(Result, CarriesAnErrorWithContext) {
  Result<int> result = parse_digit('x');
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(result.error().message(), "not a digit: x: invalid input");
}

TEST(Result, ErrnoErrorsSayWhatHappenedAndWhere) {
  const Error error = Error::from_errno(ENOSPC, "write /data/wal/00000001.seg at offset 4096");
  EXPECT_EQ(error.code(), ErrorCode::kIo);
  EXPECT_EQ(error.errno_value(), ENOSPC);
  EXPECT_EQ(error.message(),
            "write /data/wal/00000001.seg at offset 4096: No space left on device");
}

TEST(Result, VoidResult) {
  Result<void> ok;
  EXPECT_TRUE(ok.ok());
  Result<void> failed = Error(ErrorCode::kFull, "queue");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), ErrorCode::kFull);
}

TEST(ResultDeathTest, ValueOfAnErrorIsAProgrammerError) {
  Result<int> result = parse_digit('x');
  EXPECT_DEATH((void)result.value(), "assertion failed");
}

}  // namespace
}  // namespace ringraft
