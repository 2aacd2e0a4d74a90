// Real clients against the loopback test server: redis-cli (one command, --pipe) and
// redis-benchmark prove the wire format, including inline PING and the CONFIG GET probes. The
// suites skip when the Debian redis-tools package is not installed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "tests/kv/resp_test_server.h"
#include "tests/support/temp_dir.h"

namespace ringraft::kv::testing {
namespace {

bool on_path(const std::string& tool) {
  std::istringstream path(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "");
  for (std::string dir; std::getline(path, dir, ':');) {
    if (::access((dir + "/" + tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

struct ToolRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command, bounded by `timeout` so that a hung client fails instead of hanging.
ToolRun run_tool(const std::string& command) {
  ToolRun run;
  FILE* pipe = ::popen(("timeout 60 " + command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char chunk[4096];
  for (size_t got; (got = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0;) {
    run.output.append(chunk, got);
  }
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class RedisCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!on_path("redis-cli"))
      GTEST_SKIP() << "redis-cli not installed (apt-get install redis-tools)";
  }
  std::string cli(const std::string& arguments) {
    const ToolRun run =
        run_tool("redis-cli -p " + std::to_string(server_.port()) + " " + arguments);
    EXPECT_EQ(run.exit_code, 0) << arguments << ": " << run.output;
    return run.output;
  }
  RespTestServer server_;
};

TEST_F(RedisCli, CommandsRoundTrip) {
  EXPECT_EQ(cli("PING"), "PONG\n");
  EXPECT_EQ(cli("SET greeting 'hello world'"), "OK\n");
  EXPECT_EQ(cli("GET greeting"), "hello world\n");
  EXPECT_EQ(cli("INCR counter"), "1\n");
  EXPECT_EQ(cli("INCRBY counter 41"), "42\n");
  EXPECT_EQ(cli("MSET a 1 b 2"), "OK\n");
  EXPECT_EQ(cli("MGET a b missing"), "1\n2\n\n");
  EXPECT_EQ(cli("SET a 3 NX"), "\n");
  EXPECT_EQ(cli("DEL a b c"), "2\n");
  EXPECT_EQ(cli("EXISTS greeting counter a"), "2\n");
  EXPECT_EQ(cli("SELECT 0"), "OK\n");
  EXPECT_NE(cli("INFO").find("db0:keys=2"), std::string::npos);
  EXPECT_EQ(server_.protocol_errors(), 0u);
}

TEST_F(RedisCli, ErrorRepliesReachTheClient) {
  const ToolRun unknown = run_tool("redis-cli -p " + std::to_string(server_.port()) + " FOO x");
  EXPECT_NE(unknown.output.find("ERR unknown command 'FOO', with args beginning with: 'x'"),
            std::string::npos)
      << unknown.output;
  const ToolRun arity = run_tool("redis-cli -p " + std::to_string(server_.port()) + " GET");
  EXPECT_NE(arity.output.find("ERR wrong number of arguments for 'get' command"), std::string::npos)
      << arity.output;
}

TEST_F(RedisCli, PipeModeAnswersEveryRequest) {
  ringraft::testing::TempDir dir;
  const std::string input_path = dir.file("requests.resp");
  {
    std::ofstream input(input_path, std::ios::binary);
    for (int i = 0; i < 1000; ++i) {
      const std::string key = "key:" + std::to_string(i);
      const std::string value(100, static_cast<char>('a' + i % 26));
      input << "*3\r\n$3\r\nSET\r\n$" << key.size() << "\r\n"
            << key << "\r\n$" << value.size() << "\r\n"
            << value << "\r\n";
    }
  }
  const std::string output = cli("--pipe < " + input_path);
  EXPECT_NE(output.find("errors: 0, replies: 1000"), std::string::npos) << output;
  EXPECT_EQ(cli("GET key:27"), std::string(100, 'b') + "\n");
  EXPECT_EQ(cli("EXISTS key:0 key:999 key:1000"), "2\n");
}

TEST_F(RedisCli, BenchmarkRunsEveryTestItUses) {
  if (!on_path("redis-benchmark")) GTEST_SKIP() << "redis-benchmark not installed";
  const ToolRun run = run_tool("redis-benchmark -p " + std::to_string(server_.port()) +
                               " -t ping,set,get,incr,mset -n 2000 -c 4 -P 16 -q");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* test : {"PING_INLINE:", "PING_MBULK:", "SET:", "GET:", "INCR:", "MSET"}) {
    EXPECT_NE(run.output.find(test), std::string::npos) << test << " missing: " << run.output;
  }
  EXPECT_EQ(run.output.find("WARNING"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("ERR"), std::string::npos) << run.output;
  EXPECT_EQ(server_.protocol_errors(), 0u);
}

// No client tool needed: inline commands and a protocol error over a raw socket.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    timeval timeout{10, 0};  // a bound on a broken server, not a synchronisation
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawSocket() { ::close(fd_); }
  void send(std::string_view bytes) {
    EXPECT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `bytes` bytes arrived or the peer closed.
  std::string receive(size_t bytes) {
    std::string received;
    char chunk[4096];
    while (received.size() < bytes) {
      const ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (got <= 0) break;
      received.append(chunk, static_cast<size_t>(got));
    }
    return received;
  }
  bool closed_by_peer() {
    char byte;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }

 private:
  int fd_;
};

TEST(RespTestServer, InlineCommandsAndPipelinesOverASocket) {
  RespTestServer server;
  RawSocket socket(server.port());
  socket.send("PING\r\nSET k \"two words\"\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO hi\n");
  const std::string expected = "+PONG\r\n+OK\r\n$9\r\ntwo words\r\n$2\r\nhi\r\n";
  EXPECT_EQ(socket.receive(expected.size()), expected);
}

TEST(RespTestServer, ProtocolErrorIsAnsweredThenTheConnectionCloses) {
  RespTestServer server;
  RawSocket socket(server.port());
  socket.send("PING\r\n*1\r\n$x\r\nPING\r\n");
  const std::string expected = "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n";
  EXPECT_EQ(socket.receive(expected.size()), expected);
  EXPECT_TRUE(socket.closed_by_peer());
  EXPECT_EQ(server.protocol_errors(), 1u);
}

TEST(RespTestServer, QuitClosesAfterItsReply) {
  RespTestServer server;
  RawSocket socket(server.port());
  socket.send("QUIT\r\nPING\r\n");
  EXPECT_EQ(socket.receive(5), "+OK\r\n");
  EXPECT_TRUE(socket.closed_by_peer());
}

}  // namespace
}  // namespace ringraft::kv::testing
