#include "reactor/socket.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ringraft {

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void FileDescriptor::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<sockaddr_in> ipv4_address(const std::string& host, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  const std::string numeric = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, numeric.c_str(), &address.sin_addr) != 1) {
    return Error(ErrorCode::kInvalidInput,
                 "'" + host + "' is not an IPv4 address (use dotted form, e.g. 127.0.0.1)");
  }
  return address;
}

Result<FileDescriptor> listen_tcp(const sockaddr_in& address, int backlog) {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::from_errno(errno, "socket");
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return Error::from_errno(errno, "setsockopt(SO_REUSEADDR)");
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &address.sin_addr, text, sizeof(text));
    return Error::from_errno(errno, std::string("bind ") + text + ":" +
                                        std::to_string(ntohs(address.sin_port)) +
                                        " (is another process using the port?)");
  }
  if (::listen(fd.get(), backlog) != 0) return Error::from_errno(errno, "listen");
  return fd;
}

Result<FileDescriptor> tcp_socket() {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::from_errno(errno, "socket");
  Result<void> nodelay = set_tcp_nodelay(fd.get());
  if (!nodelay.ok()) return nodelay.error();
  return fd;
}

Result<uint16_t> local_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Error::from_errno(errno, "getsockname");
  }
  return static_cast<uint16_t>(ntohs(address.sin_port));
}

Result<void> set_tcp_nodelay(int fd) {
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return Error::from_errno(errno, "setsockopt(TCP_NODELAY)");
  }
  return {};
}

}  // namespace ringraft
