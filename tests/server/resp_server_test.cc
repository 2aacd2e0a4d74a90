// The RESP connection layer against the unreplicated backend: pipelining order, the output
// bound, protocol errors, the idle timeout and the connection bound, over loopback TCP.
#include "tools/server/resp_server.h"

#include <gtest/gtest.h>

#include <string>

#include "reactor/ops.h"
#include "reactor/socket.h"
#include "tests/reactor/loopback.h"
#include "tests/reactor/test_reactor.h"
#include "tools/server/local_backend.h"

namespace ringraft::server {
namespace {

using namespace std::chrono_literals;
using ringraft::testing::run_on_reactor;

using ringraft::testing::connect_to;
using ringraft::testing::listen_on_loopback;
using ringraft::testing::Listener;

// Reads until `expected_bytes` arrived or the server closed; returns what arrived.
Task<std::string> read_reply(Io& io, int fd, size_t expected_bytes) {
  std::string got;
  char buffer[4096];
  while (got.size() < expected_bytes) {
    const IoResult read =
        co_await ops::recv(io, fd, ByteSpan(reinterpret_cast<std::byte*>(buffer), sizeof(buffer)));
    if (read.value <= 0) break;
    got.append(buffer, read.bytes());
  }
  co_return got;
}

// Reads until the server closes the connection; returns everything received.
Task<std::string> read_to_end(Io& io, int fd) {
  co_return co_await read_reply(io, fd, SIZE_MAX);
}

Task<bool> send_text(Io& io, int fd, std::string_view text) {
  const IoResult sent = co_await ops::send_all(io, fd, as_bytes(text.data(), text.size()));
  co_return sent.ok();
}

// Runs `client` against a server on a fresh reactor, then stops the server.
void with_server(
    const RespServerConfig& config,
    std::function<Task<void>(Shard&, const sockaddr_in&, LocalBackend&, RespServer&)> client,
    Duration write_delay = Duration::zero()) {
  Listener listener = listen_on_loopback();
  run_on_reactor([&](Shard& shard) -> Task<void> {
    LocalBackend backend(shard.io());
    backend.set_write_delay(write_delay);
    RespServer server(shard, backend, config);
    Latch served(1);
    shard.spawn([](RespServer& s, int fd, Latch& done) -> Task<void> {
      const Result<void> result = co_await s.serve(fd);
      EXPECT_TRUE(result.ok());
      done.count_down();
    }(server, listener.fd.get(), served));
    co_await client(shard, listener.address, backend, server);
    server.stop();
    co_await served.wait();
    EXPECT_EQ(server.connections_open(), 0u);
  });
}

TEST(RespServer, PipelinedRequestsAreAnsweredInOrder) {
  // Writes take a timer's wait to "commit": a read behind a write still sees it, and the
  // replies of the pipeline come back in request order.
  with_server(
      RespServerConfig{},
      [](Shard& shard, const sockaddr_in& address, LocalBackend&, RespServer&) -> Task<void> {
        FileDescriptor client = co_await connect_to(shard.io(), address);
        const std::string pipeline =
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n"
            "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
            "*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"
            "PING\r\n"
            "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        EXPECT_TRUE(co_await send_text(shard.io(), client.get(), pipeline));
        const std::string expected = "+OK\r\n$1\r\n1\r\n:2\r\n+PONG\r\n$1\r\n2\r\n";
        EXPECT_EQ(co_await read_reply(shard.io(), client.get(), expected.size()), expected);
      },
      2ms);
}

TEST(RespServer, PipelinedWritesOfOneReceiveAreInProgressTogether) {
  // Twenty writes in one send: all start before the first completes (one proposal round in
  // the replicated backend), and their replies still come back in order, before the GET's.
  with_server(
      RespServerConfig{},
      [](Shard& shard, const sockaddr_in& address, LocalBackend& backend,
         RespServer&) -> Task<void> {
        FileDescriptor client = co_await connect_to(shard.io(), address);
        constexpr int kWrites = 20;
        std::string pipeline;
        std::string expected;
        for (int i = 0; i < kWrites; ++i) {
          const std::string key = "k" + std::to_string(i);
          pipeline += "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key +
                      "\r\n$1\r\nv\r\n";
          expected += "+OK\r\n";
        }
        pipeline += "*2\r\n$4\r\nINCR\r\n$2\r\nk0\r\n*2\r\n$3\r\nGET\r\n$3\r\nk19\r\n";
        expected += "-ERR value is not an integer or out of range\r\n$1\r\nv\r\n";
        EXPECT_TRUE(co_await send_text(shard.io(), client.get(), pipeline));
        EXPECT_EQ(co_await read_reply(shard.io(), client.get(), expected.size()), expected);
        EXPECT_EQ(backend.writes_in_flight_peak(), uint32_t{kWrites + 1});  // and the INCR
      },
      5ms);
}

TEST(RespServer, RequestSplitAcrossSendsIsAnsweredOnce) {
  with_server(
      RespServerConfig{},
      [](Shard& shard, const sockaddr_in& address, LocalBackend&, RespServer&) -> Task<void> {
        FileDescriptor client = co_await connect_to(shard.io(), address);
        EXPECT_TRUE(co_await send_text(shard.io(), client.get(), "*2\r\n$4\r\nEC"));
        co_await ops::sleep_for(shard.io(), 5ms);  // let the first half arrive alone
        EXPECT_TRUE(co_await send_text(shard.io(), client.get(), "HO\r\n$2\r\nhi\r\n"));
        EXPECT_EQ(co_await read_reply(shard.io(), client.get(), 8), "$2\r\nhi\r\n");
      });
}

TEST(RespServer, ProtocolErrorIsAnsweredThenClosed) {
  with_server(
      RespServerConfig{},
      [](Shard& shard, const sockaddr_in& address, LocalBackend&,
         RespServer& server) -> Task<void> {
        FileDescriptor client = co_await connect_to(shard.io(), address);
        EXPECT_TRUE(co_await send_text(shard.io(), client.get(), "PING\r\n*1\r\n$x\r\nPING\r\n"));
        const std::string got = co_await read_to_end(shard.io(), client.get());
        EXPECT_EQ(got.rfind("+PONG\r\n-ERR Protocol error", 0), 0u) << got;
        EXPECT_EQ(got.find("PONG", 7), std::string::npos) << "nothing after the error";
        EXPECT_EQ(server.stats().protocol_errors, 1u);
      });
}

TEST(RespServer, ClientExceedingTheOutputBoundIsClosed) {
  RespServerConfig config;
  config.output_bytes_max = 4096;
  with_server(config,
              [](Shard& shard, const sockaddr_in& address, LocalBackend&,
                 RespServer& server) -> Task<void> {
                FileDescriptor client = co_await connect_to(shard.io(), address);
                const std::string value(1000, 'v');
                std::string pipeline = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n" + value + "\r\n";
                for (int i = 0; i < 10; i++) pipeline += "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
                EXPECT_TRUE(co_await send_text(shard.io(), client.get(), pipeline));
                const std::string got = co_await read_to_end(shard.io(), client.get());
                EXPECT_LT(got.size(), 10 * value.size()) << "the connection was not closed";
                EXPECT_EQ(server.stats().output_overflows, 1u);
              });
}

TEST(RespServer, IdleConnectionIsClosedAfterTheTimeout) {
  RespServerConfig config;
  config.idle_timeout = 30ms;
  with_server(config,
              [](Shard& shard, const sockaddr_in& address, LocalBackend&,
                 RespServer& server) -> Task<void> {
                FileDescriptor client = co_await connect_to(shard.io(), address);
                EXPECT_TRUE(co_await send_text(shard.io(), client.get(), "PING\r\n"));
                // The reply, then end of stream once the connection sat idle.
                EXPECT_EQ(co_await read_to_end(shard.io(), client.get()), "+PONG\r\n");
                EXPECT_EQ(server.stats().idle_closed, 1u);
              });
}

TEST(RespServer, ConnectionBeyondTheBoundIsRefused) {
  RespServerConfig config;
  config.connections_max = 1;
  with_server(config,
              [](Shard& shard, const sockaddr_in& address, LocalBackend&,
                 RespServer& server) -> Task<void> {
                FileDescriptor first = co_await connect_to(shard.io(), address);
                EXPECT_TRUE(co_await send_text(shard.io(), first.get(), "PING\r\n"));
                EXPECT_EQ(co_await read_reply(shard.io(), first.get(), 7), "+PONG\r\n");
                FileDescriptor second = co_await connect_to(shard.io(), address);
                const std::string got = co_await read_to_end(shard.io(), second.get());
                EXPECT_EQ(got, "-ERR max number of clients reached\r\n");
                EXPECT_EQ(server.stats().connections_refused, 1u);
              });
}

TEST(RespServer, QuitIsAnsweredThenClosed) {
  with_server(
      RespServerConfig{},
      [](Shard& shard, const sockaddr_in& address, LocalBackend&, RespServer&) -> Task<void> {
        FileDescriptor client = co_await connect_to(shard.io(), address);
        EXPECT_TRUE(co_await send_text(shard.io(), client.get(), "QUIT\r\nPING\r\n"));
        EXPECT_EQ(co_await read_to_end(shard.io(), client.get()), "+OK\r\n");
      });
}

}  // namespace
}  // namespace ringraft::server
