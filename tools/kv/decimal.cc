// Strict decimal parsing and formatting (see decimal.h).
#include "tools/kv/decimal.h"

#include <charconv>

#include "common/assert.h"

namespace ringraft::kv {

std::optional<int64_t> parse_int64(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  if (digits.front() == '0' && (digits.size() > 1 || negative)) return std::nullopt;
  // Accumulate as a negative number: its range holds INT64_MIN, the positive range does not.
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const int64_t digit = c - '0';
    if (value < (INT64_MIN + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (negative) return value;
  if (value == INT64_MIN) return std::nullopt;
  return -value;
}

std::string_view format_int64(int64_t value, char* out) {
  const auto [end, error] = std::to_chars(out, out + kInt64TextBytesMax, value);
  RR_ASSERT(error == std::errc());
  return {out, static_cast<size_t>(end - out)};
}

}  // namespace ringraft::kv
