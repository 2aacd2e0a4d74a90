// Loopback TCP for tests: a listener on an ephemeral port of 127.0.0.1, and a connect through
// the reactor. Shared by the reactor's TCP tests and the RESP server's.
#pragma once

#include <netinet/in.h>

#include "reactor/io.h"
#include "reactor/socket.h"
#include "reactor/task.h"

namespace ringraft::testing {

struct Listener {
  FileDescriptor fd;
  sockaddr_in address{};  // with the port the kernel chose
};

Listener listen_on_loopback();

// Connects a new TCP socket to `address`; a failed connect is a test failure (the socket is
// returned anyway).
Task<FileDescriptor> connect_to(Io& io, const sockaddr_in& address);

}  // namespace ringraft::testing
