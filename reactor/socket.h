// File descriptors and TCP socket set-up.
//
// Creating, binding and configuring sockets happens once per connection or listener, not per
// message, so these use plain system calls; everything that moves bytes goes through io_uring.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <utility>

#include "common/result.h"

namespace ringraft {

// Owns a file descriptor and closes it on destruction.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Parses a dotted IPv4 address ("127.0.0.1"; "localhost" is accepted as 127.0.0.1).
Result<sockaddr_in> ipv4_address(const std::string& host, uint16_t port);
// A TCP listener bound to `address` (port 0 picks a free port; see local_port).
Result<FileDescriptor> listen_tcp(const sockaddr_in& address, int backlog = 1024);
// A TCP socket ready for connect, with TCP_NODELAY set.
Result<FileDescriptor> tcp_socket();
Result<uint16_t> local_port(int fd);
Result<void> set_tcp_nodelay(int fd);

}  // namespace ringraft
