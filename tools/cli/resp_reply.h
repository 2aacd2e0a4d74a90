// RespReply: the client side of RESP2, what `ringraft bench` and `ringraft status` read back.
//
// The server side parses requests (tools/kv/resp_parser.h) and writes replies
// (tools/kv/resp_writer.h); a client writes requests (RespWriter's array_header + bulk encode
// them byte for byte) and needs to find where each reply ends. scan_reply does that without
// copying: it returns the reply's kind, its first line's text (the status or error message,
// the integer) and how many bytes it took, or "need more". Arrays are walked element by element,
// nested at most kDepthMax deep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace ringraft::tools {

enum class ReplyKind : uint8_t { kSimple, kError, kInteger, kBulk, kNullBulk, kArray, kNullArray };

struct RespReply {
  ReplyKind kind = ReplyKind::kSimple;
  // kSimple, kError, kInteger: the line without its type byte; kBulk: the payload; arrays and
  // nulls: empty. A view into the scanned input.
  std::string_view text;
  size_t consumed_bytes = 0;
};

struct ReplyLimits {
  static constexpr uint32_t kDepthMax = 8;
  uint64_t bulk_bytes_max = uint64_t{512} * 1024 * 1024;
  uint64_t array_elements_max = 1u << 20;
  size_t line_bytes_max = 64 * 1024;
};

// The reply at the start of `input`: std::nullopt when it is not complete yet; an error
// (kInvalidInput) when the bytes are not RESP2 or exceed the limits.
Result<std::optional<RespReply>> scan_reply(std::string_view input,
                                            const ReplyLimits& limits = ReplyLimits{});

}  // namespace ringraft::tools
