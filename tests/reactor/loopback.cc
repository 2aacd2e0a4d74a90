#include "tests/reactor/loopback.h"

#include <gtest/gtest.h>

#include "reactor/ops.h"

namespace ringraft::testing {

Listener listen_on_loopback() {
  Listener listener;
  listener.address = ipv4_address("127.0.0.1", 0).value();
  listener.fd = listen_tcp(listener.address).value();
  listener.address.sin_port = htons(local_port(listener.fd.get()).value());
  return listener;
}

// Defined here, not in the header: Clang 14 cannot build coroutines defined inline in headers
// with -g and ASan.
Task<FileDescriptor> connect_to(Io& io, const sockaddr_in& address) {
  FileDescriptor fd = tcp_socket().value();
  const IoResult connected = co_await ops::connect(
      io, fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  EXPECT_TRUE(connected.ok()) << connected.message();
  co_return fd;
}

}  // namespace ringraft::testing
