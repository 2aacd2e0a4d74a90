// libFuzzer target: kv::RespParser, the decoder of untrusted client bytes, and the command path
// behind it (command table, write entry planning, encoding, apply) on a small single node.
//
// Input: byte 0 is the chunk size minus one; the rest is what a client sends. The harness
// parses the bytes twice, all at once and in chunks through a buffer that is compacted before
// every read (as a connection does), and requires the same requests and the same outcome
// both ways. Every request is executed on a fresh node. Refusing is fine; a crash, a read outside
// the input, UB, or the two parses disagreeing is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/assert.h"
#include "tools/kv/resp_parser.h"
#include "tools/kv/single_node.h"

namespace {

using namespace ringraft::kv;

struct Outcome {
  std::vector<std::vector<std::string>> requests;
  bool protocol_error = false;
};

RespLimits small_limits() {
  RespLimits limits;
  limits.arguments_max = 64;
  limits.bulk_bytes_max = 4096;
  limits.inline_bytes_max = 256;
  limits.request_bytes_max = 16 * 1024;
  return limits;
}

void record(const RespRequest& request, Outcome& outcome) {
  outcome.requests.emplace_back(request.arguments.begin(), request.arguments.end());
}

Outcome parse_whole(std::string_view input) {
  Outcome outcome;
  RespParser parser(small_limits());
  for (;;) {
    auto next = parser.next(input);
    if (!next.ok()) {
      outcome.protocol_error = true;
      return outcome;
    }
    if (!next.value().has_value()) return outcome;
    RR_ASSERT(next.value()->consumed_bytes > 0 && next.value()->consumed_bytes <= input.size());
    record(*next.value(), outcome);
    input.remove_prefix(next.value()->consumed_bytes);
  }
}

Outcome parse_in_chunks(std::string_view input, size_t chunk_bytes) {
  Outcome outcome;
  RespParser parser(small_limits());
  std::string buffer;
  size_t consumed_bytes = 0;  // buffer[0, consumed_bytes) is parsed; dropped before each read
  for (size_t fed = 0; fed < input.size();) {
    buffer.erase(0, consumed_bytes);
    consumed_bytes = 0;
    const size_t chunk = std::min(chunk_bytes, input.size() - fed);
    buffer.append(input.substr(fed, chunk));
    fed += chunk;
    for (;;) {
      const std::string_view unconsumed = std::string_view(buffer).substr(consumed_bytes);
      auto next = parser.next(unconsumed);
      if (!next.ok()) {
        outcome.protocol_error = true;
        return outcome;
      }
      parser.check_invariants();
      if (!next.value().has_value()) {
        RR_ASSERT(parser.input_bytes_wanted() > unconsumed.size());
        break;
      }
      record(*next.value(), outcome);
      consumed_bytes += next.value()->consumed_bytes;
    }
  }
  return outcome;
}

void execute(const Outcome& outcome) {
  KvLimits limits;
  limits.keys_max = 32;
  limits.data_bytes_max = 8192;
  limits.value_bytes_max = 1024;
  SingleNode node(limits);
  RespWriter reply(4096);
  for (const auto& request : outcome.requests) {
    const std::vector<std::string_view> arguments(request.begin(), request.end());
    node.execute(arguments, reply);
    reply.clear();
  }
  node.state_machine().check_invariants();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk_bytes = size_t{data[0]} + 1;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = parse_whole(input);
  if (chunk_bytes < input.size()) {  // one chunk would repeat the whole parse
    const Outcome chunked = parse_in_chunks(input, chunk_bytes);
    RR_ASSERT_MSG(whole.requests == chunked.requests, "chunked parse disagrees");
    RR_ASSERT_MSG(whole.protocol_error == chunked.protocol_error, "chunked parse disagrees");
  }
  execute(whole);
  return 0;
}
