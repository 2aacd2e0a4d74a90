#include "tools/cli/resp_reply.h"

#include <charconv>

namespace ringraft::tools {

namespace {

using Scanned = Result<std::optional<RespReply>>;

Error bad_reply(std::string_view what) {
  return Error(ErrorCode::kInvalidInput, "bad RESP reply: " + std::string(what));
}

// The line starting at `offset` (type byte included), without its CRLF; std::nullopt when the
// CRLF has not arrived.
Result<std::optional<std::string_view>> line_at(std::string_view input, size_t offset,
                                                const ReplyLimits& limits) {
  const size_t end = input.find("\r\n", offset);
  if (end == std::string_view::npos) {
    if (input.size() - offset > limits.line_bytes_max) return bad_reply("line too long");
    return std::optional<std::string_view>{};
  }
  if (end - offset > limits.line_bytes_max) return bad_reply("line too long");
  return std::optional<std::string_view>{input.substr(offset, end - offset)};
}

Result<int64_t> parse_length(std::string_view digits) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size() || value < -1) {
    return bad_reply("invalid length");
  }
  return value;
}

Scanned scan_at(std::string_view input, size_t offset, uint32_t depth, const ReplyLimits& limits);

// An array's elements, one after another; `header` ends at `offset`.
Scanned scan_elements(std::string_view input, size_t offset, uint64_t count, uint32_t depth,
                      const ReplyLimits& limits) {
  if (count > limits.array_elements_max) return bad_reply("array too long");
  if (depth >= ReplyLimits::kDepthMax) return bad_reply("arrays nested too deep");
  const size_t start = offset;
  for (uint64_t element = 0; element < count; ++element) {
    Scanned scanned = scan_at(input, offset, depth + 1, limits);
    if (!scanned.ok() || !scanned.value().has_value()) return scanned;
    offset += scanned.value()->consumed_bytes;
  }
  RespReply reply;
  reply.kind = ReplyKind::kArray;
  reply.consumed_bytes = offset - start;
  return std::optional<RespReply>{reply};
}

Scanned scan_at(std::string_view input, size_t offset, uint32_t depth, const ReplyLimits& limits) {
  if (offset >= input.size()) return std::optional<RespReply>{};
  Result<std::optional<std::string_view>> line = line_at(input, offset, limits);
  if (!line.ok()) return line.error();
  if (!line.value().has_value()) return std::optional<RespReply>{};
  if (line.value()->empty()) return bad_reply("empty line");
  const std::string_view header = line.value()->substr(1);
  const size_t header_bytes = line.value()->size() + 2;
  RespReply reply;
  reply.text = header;
  reply.consumed_bytes = header_bytes;
  switch ((*line.value())[0]) {
    case '+':
      reply.kind = ReplyKind::kSimple;
      return std::optional<RespReply>{reply};
    case '-':
      reply.kind = ReplyKind::kError;
      return std::optional<RespReply>{reply};
    case ':':
      reply.kind = ReplyKind::kInteger;
      return std::optional<RespReply>{reply};
    case '$': {
      Result<int64_t> length = parse_length(header);
      if (!length.ok()) return length.error();
      reply.text = {};
      if (length.value() < 0) {
        reply.kind = ReplyKind::kNullBulk;
        return std::optional<RespReply>{reply};
      }
      const auto payload_bytes = static_cast<uint64_t>(length.value());
      if (payload_bytes > limits.bulk_bytes_max) return bad_reply("bulk string too long");
      const size_t body = offset + header_bytes;
      if (input.size() - body < payload_bytes + 2) return std::optional<RespReply>{};
      if (input.substr(body + payload_bytes, 2) != "\r\n") return bad_reply("bulk without CRLF");
      reply.kind = ReplyKind::kBulk;
      reply.text = input.substr(body, payload_bytes);
      reply.consumed_bytes = header_bytes + payload_bytes + 2;
      return std::optional<RespReply>{reply};
    }
    case '*': {
      Result<int64_t> count = parse_length(header);
      if (!count.ok()) return count.error();
      if (count.value() < 0) {
        reply.kind = ReplyKind::kNullArray;
        reply.text = {};
        return std::optional<RespReply>{reply};
      }
      Scanned elements = scan_elements(input, offset + header_bytes,
                                       static_cast<uint64_t>(count.value()), depth, limits);
      if (!elements.ok() || !elements.value().has_value()) return elements;
      elements.value()->consumed_bytes += header_bytes;
      return elements;
    }
    default:
      return bad_reply("unknown type byte");
  }
}

}  // namespace

Result<std::optional<RespReply>> scan_reply(std::string_view input, const ReplyLimits& limits) {
  return scan_at(input, 0, 0, limits);
}

}  // namespace ringraft::tools
