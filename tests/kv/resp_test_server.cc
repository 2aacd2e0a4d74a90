// The loopback test server (see resp_test_server.h).
#include "tests/kv/resp_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/assert.h"
#include "tools/kv/resp_parser.h"

namespace ringraft::kv::testing {
namespace {

constexpr size_t kReadBytes = size_t{64} * 1024;
constexpr size_t kReplyBytesMax = size_t{16} * 1024 * 1024;

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

}  // namespace

RespTestServer::RespTestServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  RR_ASSERT(listen_fd_ >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  RR_ASSERT(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  RR_ASSERT(::listen(listen_fd_, 128) == 0);
  socklen_t length = sizeof(address);
  RR_ASSERT(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RespTestServer::~RespTestServer() {
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // shutdown() wakes the threads blocked in accept() and recv(); they close their own fds.
    ::shutdown(listen_fd_, SHUT_RDWR);
    for (int fd : connection_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (std::thread& connection : connections) connection.join();
  ::close(listen_fd_);
}

uint64_t RespTestServer::protocol_errors() const {
  std::lock_guard lock(mutex_);
  return protocol_errors_;
}

void RespTestServer::accept_loop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0 && errno == EINTR) continue;
    std::lock_guard lock(mutex_);
    if (fd < 0 || stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    connection_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void RespTestServer::serve(int fd) {
  RespParser parser;
  RespWriter replies(kReplyBytesMax);
  std::string input;
  size_t parsed_bytes = 0;  // input[0, parsed_bytes) is consumed
  bool open = true;
  while (open) {
    const size_t old_size = input.size();
    input.resize(old_size + kReadBytes);
    const ssize_t received = ::recv(fd, input.data() + old_size, kReadBytes, 0);
    if (received < 0 && errno == EINTR) {
      input.resize(old_size);
      continue;
    }
    if (received <= 0) break;
    input.resize(old_size + static_cast<size_t>(received));
    for (;;) {
      auto next = parser.next(std::string_view(input).substr(parsed_bytes));
      if (!next.ok()) {
        ReplyBuilder(replies).error(next.error().context());
        std::lock_guard lock(mutex_);
        ++protocol_errors_;
        open = false;
        break;
      }
      if (!next.value().has_value()) break;
      std::lock_guard lock(mutex_);
      if (node_.execute(next.value()->arguments, replies) == AfterReply::kClose) open = false;
      parsed_bytes += next.value()->consumed_bytes;
      if (!open) break;
    }
    input.erase(0, parsed_bytes);
    parsed_bytes = 0;
    if (!send_all(fd, replies.bytes())) break;
    replies.clear();
  }
  std::lock_guard lock(mutex_);
  // The destructor shuts down only fds still listed: close and unlist under the same lock.
  std::erase(connection_fds_, fd);
  ::close(fd);
}

}  // namespace ringraft::kv::testing
