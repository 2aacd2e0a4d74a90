// Decimal integers as RESP and Redis spell them: lengths in protocol headers, INCRBY amounts,
// the values INCR works on. Strict, so that two replicas never disagree on what a string means.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ringraft::kv {

// An int64 in canonical form: an optional '-', then "0" or digits without a leading zero; no
// spaces, no '+', nothing after the digits, no overflow. Anything else is std::nullopt, the rule
// Redis applies to values (so "007" and " 7" are not integers).
std::optional<int64_t> parse_int64(std::string_view text);

// The canonical text of `value` in `out` (at least kInt64TextBytesMax bytes); returns the text.
inline constexpr size_t kInt64TextBytesMax = 20;
std::string_view format_int64(int64_t value, char* out);

}  // namespace ringraft::kv
