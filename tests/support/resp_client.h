// RespClient: a blocking RESP2 client for tests that talk to real `ringraft server` processes.
// Every call is bounded (connect and receive time out), so a hung server fails a test instead
// of hanging it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringraft::testing {

class RespClient {
 public:
  RespClient() = default;
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  // Connects to 127.0.0.1:port; false if refused or timed out.
  bool connect(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool connected() const { return fd_ >= 0; }
  void close();

  // Sends one command and returns its raw reply ("+OK\r\n", "$1\r\n7\r\n", ...), or nullopt
  // if the connection failed or no whole reply came in time (the connection is then closed).
  std::optional<std::string> command(const std::vector<std::string>& arguments);
  // Sends every command at once (a pipeline), then reads one reply per command.
  std::optional<std::vector<std::string>> pipeline(
      const std::vector<std::vector<std::string>>& commands);

 private:
  std::optional<std::string> read_reply();
  int fd_ = -1;
  std::string input_;
};

// "$3\r\nabc\r\n" -> "abc"; "$-1\r\n" -> nullopt; anything else -> nullopt.
std::optional<std::string> bulk_value(const std::string& reply);
// One RESP command in wire form.
std::string encode_command(const std::vector<std::string>& arguments);

}  // namespace ringraft::testing
