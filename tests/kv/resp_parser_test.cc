// The RESP2 request parser: every request form, any split of the input, pipelines, and a
// protocol error (never a crash, never unbounded buffering) for each kind of bad input.
#include "tools/kv/resp_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ringraft::kv {
namespace {

using Arguments = std::vector<std::string>;

Arguments copy(const RespRequest& request) {
  return Arguments(request.arguments.begin(), request.arguments.end());
}

// Parses every complete request in `input`; fails the test on a protocol error.
std::vector<Arguments> parse_all(std::string_view input, RespParser& parser) {
  std::vector<Arguments> requests;
  for (;;) {
    auto next = parser.next(input);
    EXPECT_TRUE(next.ok()) << next.error().context();
    if (!next.ok() || !next.value().has_value()) return requests;
    requests.push_back(copy(*next.value()));
    input.remove_prefix(next.value()->consumed_bytes);
  }
}

// The protocol error text for `input`, or "" when it parses.
std::string error_of(std::string_view input, const RespLimits& limits = RespLimits{}) {
  RespParser parser(limits);
  for (;;) {
    auto next = parser.next(input);
    if (!next.ok()) return next.error().context();
    if (!next.value().has_value()) return "";
    input.remove_prefix(next.value()->consumed_bytes);
  }
}

// Feeds `input` in chunks of the given sizes (cycled), as a socket would deliver it, keeping
// the unconsumed bytes in a buffer that is compacted (moved) after every request.
std::vector<Arguments> feed_in_chunks(const std::string& input, std::vector<size_t> chunks) {
  RespParser parser;
  std::string buffer;
  std::vector<Arguments> requests;
  size_t fed = 0;
  for (size_t turn = 0; fed < input.size(); ++turn) {
    const size_t chunk = std::min(chunks[turn % chunks.size()], input.size() - fed);
    buffer.append(input, fed, chunk);
    fed += chunk;
    for (;;) {
      auto next = parser.next(buffer);
      EXPECT_TRUE(next.ok()) << next.error().context();
      if (!next.ok() || !next.value().has_value()) break;
      requests.push_back(copy(*next.value()));
      buffer.erase(0, next.value()->consumed_bytes);
      parser.check_invariants();
    }
  }
  EXPECT_TRUE(buffer.empty());
  return requests;
}

TEST(RespParser, ArrayOfBulkStrings) {
  RespParser parser;
  const auto requests = parse_all("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", parser);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0], (Arguments{"SET", "k", "hello"}));
}

TEST(RespParser, ArgumentsAreViewsIntoTheInput) {
  RespParser parser;
  const std::string input = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
  auto next = parser.next(input);
  ASSERT_TRUE(next.ok() && next.value().has_value());
  EXPECT_EQ(next.value()->arguments[1].data(), input.data() + 17);
  EXPECT_EQ(next.value()->consumed_bytes, input.size());
}

TEST(RespParser, BulkStringsMayHoldAnyBytes) {
  RespParser parser;
  const std::string value("a\r\nb\0c", 6);
  const auto requests = parse_all("*2\r\n$0\r\n\r\n$6\r\n" + value + "\r\n", parser);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0], (Arguments{"", value}));
}

TEST(RespParser, InlineCommands) {
  RespParser parser;
  const auto requests = parse_all("PING\r\nset  k\t v\r\nGET k\n", parser);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0], (Arguments{"PING"}));
  EXPECT_EQ(requests[1], (Arguments{"set", "k", "v"}));
  EXPECT_EQ(requests[2], (Arguments{"GET", "k"}));
}

TEST(RespParser, InlineQuotesKeepSpaces) {
  RespParser parser;
  const auto good = parse_all("SET \"a key\" 'x y'\r\nECHO \"\"\r\n", parser);
  ASSERT_EQ(good.size(), 2u);
  EXPECT_EQ(good[0], (Arguments{"SET", "a key", "x y"}));
  EXPECT_EQ(good[1], (Arguments{"ECHO", ""}));
}

TEST(RespParser, EmptyRequestsHaveNoArguments) {
  RespParser parser;
  const auto requests = parse_all("*0\r\n*-1\r\n\r\n   \r\nPING\r\n", parser);
  ASSERT_EQ(requests.size(), 5u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(requests[i].empty()) << i;
  EXPECT_EQ(requests[4], (Arguments{"PING"}));
}

TEST(RespParser, PipelineOfMixedForms) {
  std::string input;
  std::vector<Arguments> expected;
  for (int i = 0; i < 50; ++i) {
    const std::string key = "key:" + std::to_string(i);
    input += "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n$1\r\nv\r\n";
    input += "GET " + key + "\r\n";
    expected.push_back({"SET", key, "v"});
    expected.push_back({"GET", key});
  }
  RespParser parser;
  EXPECT_EQ(parse_all(input, parser), expected);
}

TEST(RespParser, ByteAtATimeGivesTheSameRequests) {
  std::string input = "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\nPING\r\n*1\r\n$4\r\nPING\r\n";
  input += "*2\r\n$3\r\nGET\r\n$0\r\n\r\n";
  RespParser parser;
  const auto whole = parse_all(input, parser);
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(feed_in_chunks(input, {1}), whole);
}

TEST(RespParser, AnySplitGivesTheSameRequests) {
  std::string input;
  for (int i = 0; i < 20; ++i) {
    const std::string value(static_cast<size_t>(i * 37), 'x');
    input += "*3\r\n$3\r\nSET\r\n$2\r\nk" + std::to_string(i % 10) + "\r\n$" +
             std::to_string(value.size()) + "\r\n" + value + "\r\nPING\r\n";
  }
  RespParser parser;
  const auto whole = parse_all(input, parser);
  ASSERT_EQ(whole.size(), 40u);
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  for (int round = 0; round < 20; ++round) {
    std::vector<size_t> chunks;
    for (int i = 0; i < 7; ++i) chunks.push_back(1 + random() % 64);
    EXPECT_EQ(feed_in_chunks(input, chunks), whole) << "seed " << seed << " round " << round;
  }
}

TEST(RespParser, IncompleteInputNeedsMore) {
  RespParser parser;
  const std::string input = "*2\r\n$3\r\nGET\r\n$100\r\n";
  auto next = parser.next(input);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next.value().has_value());
  // The whole bulk string and its CRLF: the caller can size its buffer in one step.
  EXPECT_EQ(parser.input_bytes_wanted(), input.size() + 100 + 2);
}

TEST(RespParser, BadTopLevelPrefixIsAnError) {
  EXPECT_EQ(error_of("$3\r\nGET\r\n"),
            "ERR Protocol error: expected '*' or an inline command, got '$'");
  EXPECT_NE(error_of("+OK\r\n"), "");
  EXPECT_NE(error_of(":1\r\n"), "");
  EXPECT_NE(error_of("-ERR\r\n"), "");
}

TEST(RespParser, BadArgumentPrefixIsAnError) {
  EXPECT_EQ(error_of("*1\r\n+PING\r\n"), "ERR Protocol error: expected '$', got '+'");
  EXPECT_EQ(error_of("*2\r\n$4\r\nPING\r\n:1\r\n"), "ERR Protocol error: expected '$', got ':'");
}

TEST(RespParser, BadArrayLengthIsAnError) {
  for (const char* input : {"*x\r\n", "*\r\n", "*1x\r\n", "*-2\r\n", "*+1\r\n", "*01\r\n", "*1\n",
                            "*99999999999999999999\r\n", "*1 \r\n"}) {
    EXPECT_EQ(error_of(input), "ERR Protocol error: invalid multibulk length") << input;
  }
}

TEST(RespParser, BadBulkLengthIsAnError) {
  for (const char* input : {"*1\r\n$x\r\n", "*1\r\n$-1\r\n", "*1\r\n$-5\r\n", "*1\r\n$\r\n",
                            "*1\r\n$4\n", "*1\r\n$1.5\r\n"}) {
    EXPECT_EQ(error_of(input), "ERR Protocol error: invalid bulk length") << input;
  }
}

TEST(RespParser, OversizedBulkIsRefusedBeforeItsPayload) {
  RespLimits limits;
  limits.bulk_bytes_max = 1000;
  EXPECT_EQ(error_of("*1\r\n$1001\r\n", limits), "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(error_of("*1\r\n$1000\r\n", limits), "") << "at the bound: waits for the payload";
  limits.request_bytes_max = 2000;
  limits.inline_bytes_max = 100;
  std::string input = "*3\r\n";
  for (int i = 0; i < 2; ++i) input += "$1000\r\n" + std::string(1000, 'v') + "\r\n";
  EXPECT_EQ(error_of(input, limits), "ERR Protocol error: request is larger than 2000 bytes");
}

TEST(RespParser, EndlessLengthLineIsAnError) {
  EXPECT_EQ(error_of("*" + std::string(40, '1')), "ERR Protocol error: too big length line");
  EXPECT_EQ(error_of("*1\r\n$" + std::string(40, '1')), "ERR Protocol error: too big length line");
  EXPECT_EQ(error_of("*11111"), "") << "short and incomplete: needs more";
}

TEST(RespParser, MissingCrlfAfterBulkIsAnError) {
  EXPECT_EQ(error_of("*1\r\n$4\r\nPINGxx"),
            "ERR Protocol error: expected CRLF after a bulk string");
  EXPECT_EQ(error_of("*1\r\n$4\r\nPING\rx"),
            "ERR Protocol error: expected CRLF after a bulk string");
  EXPECT_EQ(error_of("*1\r\n$4\r\nPING\r"), "") << "needs more";
}

TEST(RespParser, TooManyArgumentsIsAnError) {
  RespLimits limits;
  limits.arguments_max = 3;
  EXPECT_EQ(error_of("*4\r\n", limits), "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(error_of("*3\r\n", limits), "");
  EXPECT_EQ(error_of("a b c d\r\n", limits), "ERR Protocol error: too many arguments");
  EXPECT_EQ(error_of("a b c\r\n", limits), "");
}

TEST(RespParser, InlineTooLongIsAnError) {
  RespLimits limits;
  limits.inline_bytes_max = 64;
  EXPECT_EQ(error_of(std::string(64, 'a'), limits), "ERR Protocol error: too big inline request");
  EXPECT_EQ(error_of(std::string(63, 'a'), limits), "") << "below the bound: needs more";
  EXPECT_EQ(error_of(std::string(62, 'a') + "\r\n", limits), "");
}

TEST(RespParser, UnbalancedOrEscapedInlineQuotesAreErrors) {
  EXPECT_EQ(error_of("SET \"k v\r\n"), "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(error_of("SET \"k\"v\r\n"), "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(error_of("SET \"k\\n\"\r\n"),
            "ERR Protocol error: escapes in inline quotes are not supported, send a RESP array");
}

TEST(RespParser, ParserIsReusableAfterAnError) {
  RespParser parser;
  ASSERT_FALSE(parser.next("*1\r\n$x\r\n").ok());
  const auto requests = parse_all("PING\r\n", parser);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0], (Arguments{"PING"}));
}

}  // namespace
}  // namespace ringraft::kv
