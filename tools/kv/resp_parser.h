// RespParser: an incremental RESP2 request parser over the caller's receive buffer.
//
// Clients send requests in two forms: arrays of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`,
// what every client library and redis-benchmark send) and inline commands (`PING\r\n`, what
// telnet users type). Many requests may sit in one buffer (pipelining) and a request may arrive
// in pieces. The parser never copies: a request's arguments are views into the caller's buffer,
// valid until the caller moves or drops those bytes.
//
// Calling convention: `next(input)` where `input` starts at the first byte not yet consumed.
// It returns a request (with the bytes it consumed), "need more" (std::nullopt), or a protocol
// error. After "need more" the caller appends bytes and calls again with the same unconsumed
// prefix (it may have moved in memory): the parser resumes where it stopped, so feeding a request
// byte by byte costs O(bytes), not O(bytes^2). A protocol error is final for the connection: the
// caller answers the error text (`-ERR Protocol error: ...`) and closes.
//
// Bounds: a request never makes the parser hold more than `arguments_max` argument slots, and
// the caller never needs more than `request_bytes_max` bytes of buffer for one request; a bulk
// length or argument count beyond its bound is refused as soon as its header arrives, before
// any payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ringraft::kv {

struct RespLimits {
  uint32_t arguments_max = 64 * 1024;                    // per command (Redis allows 1 Mi)
  uint64_t bulk_bytes_max = uint64_t{64} * 1024 * 1024;  // per argument (Redis allows 512 MiB)
  uint32_t inline_bytes_max = 64 * 1024;                 // one inline command line, CRLF included
  uint64_t request_bytes_max =
      uint64_t{128} * 1024 * 1024;  // one whole request as it is on the wire
};

struct RespRequest {
  // Views into the caller's buffer. Empty for an empty request (`*0\r\n`, a blank inline line),
  // which Redis answers with nothing: the caller skips it. The span itself lives in the parser
  // and is valid until its next call.
  std::span<const std::string_view> arguments;
  size_t consumed_bytes = 0;  // the caller drops this many bytes before the next call
};

class RespParser {
 public:
  explicit RespParser(const RespLimits& limits = RespLimits{});

  // Parses the next request at the start of `input`. std::nullopt: the request is not complete;
  // input_bytes_wanted() says how many bytes of input the next step needs. An error's context is
  // the RESP error text to send before closing ("ERR Protocol error: invalid bulk length").
  Result<std::optional<RespRequest>> next(std::string_view input);

  // After "need more": the input length at which the parser can make progress (at least one
  // more byte than it has seen; the whole bulk string when it waits for one).
  size_t input_bytes_wanted() const { return wanted_bytes_; }

  const RespLimits& limits() const { return limits_; }

  void check_invariants() const;

 private:
  enum class Stage : uint8_t { kStart, kArrayHeader, kBulkHeader, kBulkBody, kInlineLine, kDone };
  struct Slice {
    size_t offset;  // from the request's first byte
    size_t length;
  };

  // Each stage returns true when it moved on, false when it needs more input.
  Result<bool> parse_start(std::string_view input);
  Result<bool> parse_array_header(std::string_view input);
  Result<bool> parse_bulk_header(std::string_view input);
  Result<bool> parse_bulk_body(std::string_view input);
  Result<bool> parse_inline(std::string_view input);
  Result<std::optional<size_t>> find_line_end(std::string_view input, size_t line_bytes_max);
  Result<std::optional<int64_t>> parse_header_line(std::string_view input,
                                                   std::string_view bad_length);
  Result<void> split_inline(std::string_view line);
  RespRequest finish(std::string_view input);
  void reset();

  RespLimits limits_;
  Stage stage_ = Stage::kStart;
  size_t position_ = 0;       // parsed bytes of the current request
  size_t scan_position_ = 0;  // bytes already searched for a line end (no rescans)
  uint64_t arguments_expected_ = 0;
  uint64_t bulk_bytes_ = 0;  // length of the bulk string being read (kBulkBody)
  size_t wanted_bytes_ = 1;
  std::vector<Slice> slices_;            // capacity kept across requests, <= arguments_max
  std::vector<std::string_view> views_;  // the last request's arguments
};

}  // namespace ringraft::kv
