// The admin port: the HTTP request head parser on its own, and AdminHttpServer over loopback
// TCP with fixed pages: what a scraper gets, and what garbage, oversized heads, other methods
// and paths, and slow clients get (an answer and a close, or a close; never a hang).
#include <gtest/gtest.h>

#include <string>

#include "reactor/ops.h"
#include "reactor/socket.h"
#include "tests/reactor/loopback.h"
#include "tests/reactor/test_reactor.h"
#include "tools/server/admin_http_server.h"
#include "tools/server/http_request.h"

namespace ringraft::server {
namespace {

using namespace std::chrono_literals;
using ringraft::testing::connect_to;
using ringraft::testing::listen_on_loopback;
using ringraft::testing::Listener;
using ringraft::testing::run_on_reactor;

TEST(HttpRequest, ParsesGetWithHeadersAndQuery) {
  const std::string input =
      "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:7381\r\nAccept: */*\r\n\r\nextra";
  const HttpParse parse = parse_http_request(input, HttpLimits{});
  ASSERT_EQ(parse.outcome, HttpParseOutcome::kRequest) << parse.reason;
  EXPECT_EQ(parse.request.method, "GET");
  EXPECT_EQ(parse.request.path, "/metrics");
  EXPECT_EQ(parse.request.query, "x=1");
  EXPECT_EQ(parse.request.minor_version, 1);
  EXPECT_EQ(parse.request.head_bytes, input.size() - 5);
}

TEST(HttpRequest, NeedsMoreUntilTheEmptyLine) {
  const std::string input = "GET /status HTTP/1.0\r\nHost: x\r\n\r\n";
  for (size_t cut = 0; cut < input.size(); ++cut) {
    const HttpParse parse = parse_http_request(input.substr(0, cut), HttpLimits{});
    EXPECT_EQ(parse.outcome, HttpParseOutcome::kNeedMore) << "cut at " << cut;
  }
  EXPECT_EQ(parse_http_request(input, HttpLimits{}).outcome, HttpParseOutcome::kRequest);
}

TEST(HttpRequest, MalformedHeadsAreRefusedWithTheirStatus) {
  struct Case {
    std::string input;
    uint16_t status;
  };
  const std::vector<Case> cases = {
      {"\x16\x03\x01garbage\r\n\r\n", 400},          // a TLS hello
      {"GET\r\n\r\n", 400},                          // no target, no version
      {"GET metrics HTTP/1.1\r\n\r\n", 400},         // target not absolute-path
      {"GET /m HTTP/1.1\r\nno colon\r\n\r\n", 400},  // header without a colon
      {"GET /m HTTP/1.1\r\nA: b\x01\r\n\r\n", 400},  // control character in a value
      {"G(T /m HTTP/1.1\r\n\r\n", 400},              // method not a token
      {"GET /m HTTP/2.0\r\n\r\n", 505},              // another version
      {"GET /m HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 413},
      {"GET /m HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 413},
      {"BOGUS LINE\r\n", 400},  // judged at its first line, before the head ends
  };
  for (const Case& c : cases) {
    const HttpParse parse = parse_http_request(c.input, HttpLimits{});
    EXPECT_EQ(parse.outcome, HttpParseOutcome::kBad) << c.input;
    EXPECT_EQ(parse.status, c.status) << c.input;
    EXPECT_FALSE(parse.reason.empty());
  }
}

TEST(HttpRequest, HeadBeyondTheBoundIs431) {
  HttpLimits limits;
  limits.head_bytes_max = 64;
  const std::string input = "GET /m HTTP/1.1\r\nX: " + std::string(100, 'a');
  const HttpParse parse = parse_http_request(input, limits);
  EXPECT_EQ(parse.outcome, HttpParseOutcome::kBad);
  EXPECT_EQ(parse.status, 431);
  limits.headers_max = 1;
  limits.head_bytes_max = 1024;
  const HttpParse many = parse_http_request("GET /m HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", limits);
  EXPECT_EQ(many.status, 431);
}

// Reads until the server closes; returns everything received (bounded by the reactor test's
// watchdog: a server that never closes fails the test).
Task<std::string> read_to_end(Io& io, int fd) {
  std::string got;
  char buffer[4096];
  while (true) {
    const IoResult read =
        co_await ops::recv(io, fd, ByteSpan(reinterpret_cast<std::byte*>(buffer), sizeof(buffer)));
    if (read.value <= 0) break;
    got.append(buffer, read.bytes());
  }
  co_return got;
}

Task<std::string> exchange(Io& io, const sockaddr_in& address, std::string_view request) {
  FileDescriptor client = co_await connect_to(io, address);
  const IoResult sent =
      co_await ops::send_all(io, client.get(), as_bytes(request.data(), request.size()));
  EXPECT_TRUE(sent.ok()) << sent.message();
  co_return co_await read_to_end(io, client.get());
}

void with_admin_server(
    const AdminHttpConfig& config,
    std::function<Task<void>(Shard&, const sockaddr_in&, AdminHttpServer&)> client) {
  Listener listener = listen_on_loopback();
  run_on_reactor([&](Shard& shard) -> Task<void> {
    AdminPages pages;
    pages.metrics = [] { return std::string("ringraft_term{node=\"1\"} 3\n"); };
    pages.status = [] { return std::string("{\"node\":1}"); };
    AdminHttpServer server(shard, std::move(pages), config);
    Latch served(1);
    shard.spawn([](AdminHttpServer& s, int fd, Latch& done) -> Task<void> {
      const Result<void> result = co_await s.serve(fd);
      EXPECT_TRUE(result.ok());
      done.count_down();
    }(server, listener.fd.get(), served));
    co_await client(shard, listener.address, server);
    server.stop();
    co_await served.wait();
  });
}

TEST(AdminHttp, MetricsAndStatusAreServedThenClosed) {
  with_admin_server(
      AdminHttpConfig{},
      [](Shard& shard, const sockaddr_in& address, AdminHttpServer& server) -> Task<void> {
        const std::string metrics =
            co_await exchange(shard.io(), address, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(metrics.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << metrics;
        EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
        EXPECT_NE(metrics.find("Connection: close\r\n"), std::string::npos);
        EXPECT_NE(metrics.find("\r\n\r\nringraft_term{node=\"1\"} 3\n"), std::string::npos);
        const std::string status =
            co_await exchange(shard.io(), address, "GET /status HTTP/1.0\r\n\r\n");
        EXPECT_NE(status.find("application/json"), std::string::npos) << status;
        EXPECT_NE(status.find("\r\n\r\n{\"node\":1}"), std::string::npos) << status;
        const std::string head =
            co_await exchange(shard.io(), address, "HEAD /metrics HTTP/1.1\r\n\r\n");
        EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
        EXPECT_EQ(head.find("ringraft_term"), std::string::npos) << head;
        EXPECT_EQ(server.stats().requests_served, 3u);
      });
}

TEST(AdminHttp, OtherPathsAndMethodsAreRefused) {
  with_admin_server(
      AdminHttpConfig{},
      [](Shard& shard, const sockaddr_in& address, AdminHttpServer& server) -> Task<void> {
        const std::string missing =
            co_await exchange(shard.io(), address, "GET /nope HTTP/1.1\r\n\r\n");
        EXPECT_EQ(missing.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << missing;
        const std::string post =
            co_await exchange(shard.io(), address, "POST /metrics HTTP/1.1\r\n\r\n");
        EXPECT_EQ(post.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << post;
        EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos) << post;
        EXPECT_EQ(server.stats().requests_refused, 2u);
      });
}

TEST(AdminHttp, GarbageIsAnswered400AndClosed) {
  with_admin_server(AdminHttpConfig{},
                    [](Shard& shard, const sockaddr_in& address, AdminHttpServer&) -> Task<void> {
                      const std::string reply = co_await exchange(
                          shard.io(), address, std::string("\x00\xff\r\nzz\r\n\r\n", 10));
                      EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << reply;
                    });
}

TEST(AdminHttp, OversizedHeadIsAnswered431AndClosed) {
  AdminHttpConfig config;
  config.limits.head_bytes_max = 1024;
  with_admin_server(config,
                    [](Shard& shard, const sockaddr_in& address, AdminHttpServer&) -> Task<void> {
                      const std::string request =
                          "GET /metrics HTTP/1.1\r\nX: " + std::string(4096, 'a') + "\r\n\r\n";
                      const std::string reply = co_await exchange(shard.io(), address, request);
                      EXPECT_EQ(reply.rfind("HTTP/1.1 431 ", 0), 0u) << reply.substr(0, 100);
                    });
}

TEST(AdminHttp, SlowClientIsClosedAfterTheRequestTimeout) {
  AdminHttpConfig config;
  config.request_timeout = 200ms;
  with_admin_server(
      config, [](Shard& shard, const sockaddr_in& address, AdminHttpServer& server) -> Task<void> {
        FileDescriptor client = co_await connect_to(shard.io(), address);
        const std::string_view partial = "GET /metrics HTTP/1.1\r\nHost:";
        const IoResult sent = co_await ops::send_all(shard.io(), client.get(),
                                                     as_bytes(partial.data(), partial.size()));
        EXPECT_TRUE(sent.ok());
        // The server closes without an answer; the read ends there (the watchdog bounds it).
        const std::string reply = co_await read_to_end(shard.io(), client.get());
        EXPECT_EQ(reply, "");
        EXPECT_EQ(server.stats().timeouts, 1u);
      });
}

TEST(AdminHttp, ConnectionsBeyondTheBoundAreClosed) {
  AdminHttpConfig config;
  config.connections_max = 1;
  config.request_timeout = 5s;
  with_admin_server(
      config, [](Shard& shard, const sockaddr_in& address, AdminHttpServer& server) -> Task<void> {
        FileDescriptor first = co_await connect_to(shard.io(), address);
        // Wait until the server took the first connection (a send it holds without an answer).
        const std::string_view partial = "GET /";
        (void)co_await ops::send_all(shard.io(), first.get(),
                                     as_bytes(partial.data(), partial.size()));
        while (server.stats().connections_accepted == 0) co_await ops::sleep_for(shard.io(), 1ms);
        const std::string second =
            co_await exchange(shard.io(), address, "GET /metrics HTTP/1.1\r\n\r\n");
        EXPECT_EQ(second, "");
        EXPECT_EQ(server.stats().connections_refused, 1u);
      });
}

}  // namespace
}  // namespace ringraft::server
