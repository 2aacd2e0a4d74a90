// The HTTP/1.x request head parser of the admin port: untrusted bytes in, a request line and
// the few headers that matter out, or the status code to refuse them with.
//
// The admin port serves GET requests without bodies (/metrics, /status), so the parser takes
// exactly that: a request line "METHOD SP TARGET SP HTTP/1.x" and header lines, each ending in
// CRLF, up to the empty line; a request that announces a body (Content-Length other than 0,
// Transfer-Encoding) is refused. Bounds: the whole head fits `head_bytes_max` (else 431), a
// line holds no control characters, the target starts with '/', at most `headers_max`
// header lines. Pure (no I/O, no allocation): a fuzz target drives it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringraft::server {

struct HttpLimits {
  size_t head_bytes_max = size_t{8} * 1024;
  uint32_t headers_max = 64;
};

struct HttpRequest {
  std::string_view method;  // "GET", case as received (methods are case-sensitive)
  std::string_view path;    // the target without its query string
  std::string_view query;   // after '?', or empty
  uint8_t minor_version = 1;
  size_t head_bytes = 0;  // bytes of the request line and headers, the empty line included
};

enum class HttpParseOutcome : uint8_t {
  kNeedMore,  // no complete head yet and within the bounds: receive more
  kRequest,   // `request` holds it
  kBad,       // answer `status` (400, 431, 413, 505) with `reason`, then close
};

struct HttpParse {
  HttpParseOutcome outcome = HttpParseOutcome::kNeedMore;
  HttpRequest request;
  uint16_t status = 0;
  std::string_view reason;  // a static string
};

// Parses the head at the start of `input`. Views in the result point into `input`.
HttpParse parse_http_request(std::string_view input, const HttpLimits& limits);

// "Bad Request" for 400, ... (the status line's reason phrase); "Error" for unknown codes.
std::string_view http_reason_phrase(uint16_t status);

}  // namespace ringraft::server
