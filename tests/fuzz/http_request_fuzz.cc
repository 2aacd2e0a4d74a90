// libFuzzer target: the admin port's HTTP request head parser (tools/server/http_request.cc),
// which reads untrusted bytes from any local process.
//
// Input: byte 0 is the chunk size minus one; the rest is what a client sends. The harness parses
// the growing prefix after every chunk, as the admin connection does, and the whole input once,
// and requires them to agree: a request found in the whole input is found, identical, in the
// prefix that ends with its head, and a refusal of a prefix is a refusal of the whole. Refusing
// is fine; a crash, a view outside the input, UB, or a disagreement is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/assert.h"
#include "tools/server/http_request.h"

namespace {

using namespace ringraft::server;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_views(const HttpParse& parse, std::string_view input) {
  if (parse.outcome == HttpParseOutcome::kBad) {
    RR_ASSERT(parse.status >= 400 && parse.status <= 505);
    RR_ASSERT(!parse.reason.empty());
    return;
  }
  if (parse.outcome != HttpParseOutcome::kRequest) return;
  const HttpRequest& request = parse.request;
  RR_ASSERT(request.head_bytes >= 4 && request.head_bytes <= input.size());
  RR_ASSERT(inside(request.method, input) && !request.method.empty());
  RR_ASSERT(inside(request.path, input) && !request.path.empty() && request.path[0] == '/');
  RR_ASSERT(inside(request.query, input));
  RR_ASSERT(input.substr(request.head_bytes - 4, 4) == "\r\n\r\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk_bytes = size_t{data[0]} + 1;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  HttpLimits limits;
  limits.head_bytes_max = 2048;
  limits.headers_max = 16;
  const HttpParse whole = parse_http_request(input, limits);
  check_views(whole, input);
  for (size_t end = std::min(chunk_bytes, input.size());;
       end = std::min(end + chunk_bytes, input.size())) {
    const std::string_view prefix = input.substr(0, end);
    const HttpParse part = parse_http_request(prefix, limits);
    check_views(part, prefix);
    if (part.outcome == HttpParseOutcome::kBad) {
      RR_ASSERT(whole.outcome == HttpParseOutcome::kBad);
      break;
    }
    if (part.outcome == HttpParseOutcome::kRequest) {
      RR_ASSERT(whole.outcome == HttpParseOutcome::kRequest);
      RR_ASSERT(part.request.head_bytes == whole.request.head_bytes);
      RR_ASSERT(part.request.method == whole.request.method);
      RR_ASSERT(part.request.path == whole.request.path);
      RR_ASSERT(part.request.query == whole.request.query);
      break;
    }
    if (end == input.size()) {
      RR_ASSERT(whole.outcome == HttpParseOutcome::kNeedMore);
      break;
    }
  }
  return 0;
}
