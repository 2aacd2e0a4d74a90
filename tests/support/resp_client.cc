// A blocking RESP2 client for process tests (see resp_client.h).
#include "tests/support/resp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>

#include "tools/server/leader_forwarder.h"

namespace ringraft::testing {

RespClient::~RespClient() {
  close();
}

void RespClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  input_.clear();
}

bool RespClient::connect(uint16_t port, std::chrono::milliseconds timeout) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  timeval limit{};
  limit.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  limit.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    close();
    return false;
  }
  return true;
}

std::string encode_command(const std::vector<std::string>& arguments) {
  std::string out = "*" + std::to_string(arguments.size()) + "\r\n";
  for (const std::string& argument : arguments) {
    out += "$" + std::to_string(argument.size()) + "\r\n" + argument + "\r\n";
  }
  return out;
}

std::optional<std::string> RespClient::read_reply() {
  while (true) {
    Result<size_t> length = server::resp_reply_length(input_);
    if (!length.ok()) {
      close();
      return std::nullopt;
    }
    if (length.value() > 0) {
      std::string reply = input_.substr(0, length.value());
      input_.erase(0, length.value());
      return reply;
    }
    char buffer[16384];
    const ssize_t got = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (got <= 0) {
      close();
      return std::nullopt;
    }
    input_.append(buffer, static_cast<size_t>(got));
  }
}

std::optional<std::vector<std::string>> RespClient::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (fd_ < 0) return std::nullopt;
  std::string out;
  for (const auto& command : commands) out += encode_command(command);
  size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close();
      return std::nullopt;
    }
    sent += static_cast<size_t>(n);
  }
  std::vector<std::string> replies;
  for (size_t i = 0; i < commands.size(); ++i) {
    std::optional<std::string> reply = read_reply();
    if (!reply) return std::nullopt;
    replies.push_back(std::move(*reply));
  }
  return replies;
}

std::optional<std::string> RespClient::command(const std::vector<std::string>& arguments) {
  auto replies = pipeline({arguments});
  if (!replies) return std::nullopt;
  return std::move(replies->front());
}

std::optional<std::string> bulk_value(const std::string& reply) {
  if (reply.size() < 4 || reply[0] != '$' || reply[1] == '-') return std::nullopt;
  const size_t line_end = reply.find("\r\n");
  return reply.substr(line_end + 2, reply.size() - line_end - 4);
}

}  // namespace ringraft::testing
