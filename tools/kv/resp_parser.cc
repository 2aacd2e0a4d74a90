// The RESP2 request parser: a small state machine over the stages of one request (see
// resp_parser.h). Each stage either completes (and moves position_ on) or reports that it needs
// more input; positions are offsets from the request's first byte, never pointers, so the caller
// may move its buffer between calls.
#include "tools/kv/resp_parser.h"

#include <algorithm>
#include <string>

#include "tools/kv/decimal.h"

namespace ringraft::kv {
namespace {

// `*<count>\r\n` and `$<length>\r\n` lines: a sign, 19 digits and CRLF fit with room to spare.
constexpr size_t kHeaderLineBytesMax = 32;

Error protocol_error(std::string_view what) {
  return Error(ErrorCode::kInvalidInput, "ERR Protocol error: " + std::string(what));
}

bool is_inline_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

}  // namespace

RespParser::RespParser(const RespLimits& limits) : limits_(limits) {
  RR_ASSERT(limits_.arguments_max > 0);
  RR_ASSERT(limits_.inline_bytes_max > 2);
  RR_ASSERT(limits_.request_bytes_max >= limits_.inline_bytes_max);
}

Result<std::optional<RespRequest>> RespParser::next(std::string_view input) {
  // The caller hands back at least the bytes it handed before: they are still unconsumed.
  RR_ASSERT(position_ <= input.size() && scan_position_ <= input.size());
  for (;;) {
    Result<bool> progressed = false;
    switch (stage_) {
      case Stage::kStart:
        progressed = parse_start(input);
        break;
      case Stage::kArrayHeader:
        progressed = parse_array_header(input);
        break;
      case Stage::kBulkHeader:
        progressed = parse_bulk_header(input);
        break;
      case Stage::kBulkBody:
        progressed = parse_bulk_body(input);
        break;
      case Stage::kInlineLine:
        progressed = parse_inline(input);
        break;
      case Stage::kDone:
        RR_UNREACHABLE("a finished request is handed out before the next call");
    }
    if (!progressed.ok()) {
      reset();
      return progressed.error();
    }
    if (stage_ == Stage::kDone) return std::optional<RespRequest>(finish(input));
    if (!progressed.value()) return std::optional<RespRequest>();
  }
}

Result<bool> RespParser::parse_start(std::string_view input) {
  RR_ASSERT(position_ == 0 && slices_.empty());
  if (input.empty()) {
    wanted_bytes_ = 1;
    return false;
  }
  const char type = input.front();
  if (type == '$' || type == '+' || type == '-' || type == ':') {
    return protocol_error(std::string("expected '*' or an inline command, got '") + type + "'");
  }
  stage_ = type == '*' ? Stage::kArrayHeader : Stage::kInlineLine;
  return true;
}

Result<std::optional<size_t>> RespParser::find_line_end(std::string_view input,
                                                        size_t line_bytes_max) {
  const size_t limit = std::min(input.size(), position_ + line_bytes_max);
  const size_t from = std::max(scan_position_, position_);
  if (from < limit) {
    const size_t found = input.substr(0, limit).find('\n', from);
    if (found != std::string_view::npos) {
      scan_position_ = found + 1;
      return std::optional<size_t>(found);
    }
  }
  scan_position_ = limit;
  if (limit - position_ >= line_bytes_max) {
    return stage_ == Stage::kInlineLine ? protocol_error("too big inline request")
                                        : protocol_error("too big length line");
  }
  wanted_bytes_ = limit + 1;
  return std::optional<size_t>();
}

// A header line `<type><integer>\r\n` at position_; std::nullopt when not complete yet.
Result<std::optional<int64_t>> RespParser::parse_header_line(std::string_view input,
                                                             std::string_view bad_length) {
  Result<std::optional<size_t>> end = find_line_end(input, kHeaderLineBytesMax);
  if (!end.ok()) return end.error();
  if (!end.value().has_value()) return std::optional<int64_t>();
  const size_t newline = *end.value();
  if (newline < position_ + 2 || input[newline - 1] != '\r') return protocol_error(bad_length);
  const std::string_view digits = input.substr(position_ + 1, newline - 1 - (position_ + 1));
  const std::optional<int64_t> value = parse_int64(digits);
  if (!value.has_value()) return protocol_error(bad_length);
  position_ = newline + 1;
  return std::optional<int64_t>(*value);
}

Result<bool> RespParser::parse_array_header(std::string_view input) {
  Result<std::optional<int64_t>> count = parse_header_line(input, "invalid multibulk length");
  if (!count.ok()) return count.error();
  if (!count.value().has_value()) return false;
  const int64_t arguments = *count.value();
  if (arguments < -1 || arguments > static_cast<int64_t>(limits_.arguments_max)) {
    return protocol_error("invalid multibulk length");
  }
  arguments_expected_ = arguments > 0 ? static_cast<uint64_t>(arguments) : 0;
  stage_ = arguments_expected_ == 0 ? Stage::kDone : Stage::kBulkHeader;
  return true;
}

Result<bool> RespParser::parse_bulk_header(std::string_view input) {
  if (position_ >= input.size()) {
    wanted_bytes_ = position_ + 1;
    return false;
  }
  if (input[position_] != '$') {
    return protocol_error(std::string("expected '$', got '") + input[position_] + "'");
  }
  Result<std::optional<int64_t>> length = parse_header_line(input, "invalid bulk length");
  if (!length.ok()) return length.error();
  if (!length.value().has_value()) return false;
  const int64_t bulk_bytes = *length.value();
  if (bulk_bytes < 0 || static_cast<uint64_t>(bulk_bytes) > limits_.bulk_bytes_max) {
    return protocol_error("invalid bulk length");
  }
  // Refused before its payload arrives: the caller never buffers a request beyond the bound.
  if (position_ + static_cast<uint64_t>(bulk_bytes) + 2 > limits_.request_bytes_max) {
    return protocol_error("request is larger than " + std::to_string(limits_.request_bytes_max) +
                          " bytes");
  }
  bulk_bytes_ = static_cast<uint64_t>(bulk_bytes);
  stage_ = Stage::kBulkBody;
  return true;
}

Result<bool> RespParser::parse_bulk_body(std::string_view input) {
  const size_t end = position_ + bulk_bytes_;
  if (input.size() < end + 2) {
    wanted_bytes_ = end + 2;
    return false;
  }
  if (input[end] != '\r' || input[end + 1] != '\n') {
    return protocol_error("expected CRLF after a bulk string");
  }
  slices_.push_back(Slice{position_, bulk_bytes_});
  position_ = end + 2;
  scan_position_ = position_;
  stage_ = slices_.size() == arguments_expected_ ? Stage::kDone : Stage::kBulkHeader;
  return true;
}

Result<bool> RespParser::parse_inline(std::string_view input) {
  Result<std::optional<size_t>> end = find_line_end(input, limits_.inline_bytes_max);
  if (!end.ok()) return end.error();
  if (!end.value().has_value()) return false;
  const size_t newline = *end.value();
  // Telnet sends CRLF, some tools a bare LF: both end the line.
  std::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  Result<void> split = split_inline(line);
  if (!split.ok()) return split.error();
  position_ = newline + 1;
  stage_ = Stage::kDone;
  return true;
}

// Splits an inline line at whitespace. "double" and 'single' quoted arguments are taken as they
// are: zero-copy leaves no room to unescape, so a backslash inside quotes is refused instead of
// being read differently than Redis reads it.
Result<void> RespParser::split_inline(std::string_view line) {
  size_t at = 0;
  while (at < line.size()) {
    if (is_inline_space(line[at])) {
      ++at;
      continue;
    }
    if (slices_.size() == limits_.arguments_max) return protocol_error("too many arguments");
    const char quote = line[at];
    if (quote == '"' || quote == '\'') {
      const size_t close = line.find(quote, at + 1);
      if (close == std::string_view::npos) return protocol_error("unbalanced quotes in request");
      if (close + 1 < line.size() && !is_inline_space(line[close + 1])) {
        return protocol_error("unbalanced quotes in request");
      }
      const std::string_view quoted = line.substr(at + 1, close - at - 1);
      if (quote == '"' && quoted.find('\\') != std::string_view::npos) {
        return protocol_error("escapes in inline quotes are not supported, send a RESP array");
      }
      slices_.push_back(Slice{at + 1, quoted.size()});
      at = close + 1;
      continue;
    }
    size_t end = at;
    while (end < line.size() && !is_inline_space(line[end])) ++end;
    slices_.push_back(Slice{at, end - at});
    at = end;
  }
  return {};
}

RespRequest RespParser::finish(std::string_view input) {
  RR_ASSERT(stage_ == Stage::kDone && slices_.size() <= limits_.arguments_max);
  views_.clear();
  for (const Slice& slice : slices_) views_.push_back(input.substr(slice.offset, slice.length));
  RespRequest request;
  request.arguments = views_;
  request.consumed_bytes = position_;
  reset();
  return request;
}

void RespParser::reset() {
  stage_ = Stage::kStart;
  position_ = 0;
  scan_position_ = 0;
  arguments_expected_ = 0;
  bulk_bytes_ = 0;
  wanted_bytes_ = 1;
  slices_.clear();
}

void RespParser::check_invariants() const {
  RR_ASSERT(scan_position_ <= position_ + limits_.inline_bytes_max);
  RR_ASSERT(slices_.size() <= limits_.arguments_max);
  RR_ASSERT(stage_ != Stage::kBulkBody || bulk_bytes_ <= limits_.bulk_bytes_max);
  RR_ASSERT(position_ <= limits_.request_bytes_max);
  RR_ASSERT(arguments_expected_ <= limits_.arguments_max);
}

}  // namespace ringraft::kv
