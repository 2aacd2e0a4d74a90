// The admin port's HTTP request head parser (see http_request.h).
#include "tools/server/http_request.h"

#include <algorithm>

#include "common/assert.h"

namespace ringraft::server {
namespace {

constexpr std::string_view kLineEnd = "\r\n";

HttpParse bad(uint16_t status, std::string_view reason) {
  HttpParse parse;
  parse.outcome = HttpParseOutcome::kBad;
  parse.status = status;
  parse.reason = reason;
  return parse;
}

// RFC 9110 §5.6.2 tchar.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

// Visible ASCII, space and tab; obs-text (>= 0x80) is allowed in header values.
bool is_field_text(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte == '\t' || (byte >= 0x20 && byte != 0x7f);
  });
}

bool equals_no_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "METHOD SP TARGET SP HTTP/1.x" into `request`; the status to refuse it with, or 0.
uint16_t parse_request_line(std::string_view line, HttpRequest& request, std::string_view& why) {
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    why = "request line is not METHOD TARGET VERSION";
    return 400;
  }
  request.method = line.substr(0, first_space);
  const std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  const std::string_view version = line.substr(last_space + 1);
  if (!is_token(request.method)) {
    why = "bad method";
    return 400;
  }
  if (target.empty() || target.front() != '/' || target.find(' ') != std::string_view::npos ||
      !is_field_text(target)) {
    why = "bad request target";
    return 400;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.') {
    why = "bad HTTP version";
    return 400;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    why = "only HTTP/1.0 and HTTP/1.1 are served";
    return 505;
  }
  request.minor_version = static_cast<uint8_t>(version[7] - '0');
  const size_t question = target.find('?');
  request.path = target.substr(0, question);
  request.query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  return 0;
}

// One "name: value" line; the status to refuse it with, or 0.
uint16_t check_header(std::string_view line, std::string_view& why) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    why = "bad header line";
    return 400;
  }
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim(line.substr(colon + 1));
  if (!is_field_text(value)) {
    why = "bad header value";
    return 400;
  }
  if (equals_no_case(name, "transfer-encoding") ||
      (equals_no_case(name, "content-length") && value != "0")) {
    why = "request bodies are not accepted";
    return 413;
  }
  return 0;
}

}  // namespace

HttpParse parse_http_request(std::string_view input, const HttpLimits& limits) {
  RR_ASSERT(limits.head_bytes_max > 0);
  const std::string_view window = input.substr(0, limits.head_bytes_max);
  const size_t head_end = window.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (input.size() >= limits.head_bytes_max) return bad(431, "request head too large");
    // A line already complete can be judged now: a client sending garbage slowly is refused
    // at its first line instead of when the bound or the timeout closes it.
    const size_t first_line_end = window.find(kLineEnd);
    if (first_line_end != std::string_view::npos) {
      HttpRequest request;
      std::string_view why;
      if (const uint16_t status =
              parse_request_line(window.substr(0, first_line_end), request, why);
          status != 0) {
        return bad(status, why);
      }
    }
    return HttpParse{};
  }
  HttpParse parse;
  std::string_view head = window.substr(0, head_end + kLineEnd.size());
  const size_t line_end = head.find(kLineEnd);
  std::string_view why;
  if (const uint16_t status = parse_request_line(head.substr(0, line_end), parse.request, why);
      status != 0) {
    return bad(status, why);
  }
  head.remove_prefix(line_end + kLineEnd.size());
  uint32_t headers = 0;
  while (!head.empty()) {
    const size_t end = head.find(kLineEnd);
    RR_ASSERT(end != std::string_view::npos);  // the head ends in CRLF
    if (++headers > limits.headers_max) return bad(431, "too many header lines");
    if (const uint16_t status = check_header(head.substr(0, end), why); status != 0) {
      return bad(status, why);
    }
    head.remove_prefix(end + kLineEnd.size());
  }
  parse.outcome = HttpParseOutcome::kRequest;
  parse.request.head_bytes = head_end + 2 * kLineEnd.size();
  RR_ASSERT(parse.request.head_bytes <= input.size());
  return parse;
}

std::string_view http_reason_phrase(uint16_t status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

}  // namespace ringraft::server
