// RespTestServer: a tiny single-node RESP server for tests, over plain blocking loopback
// sockets, so that real clients (redis-cli, redis-benchmark) can prove the wire format.
//
// One thread accepts; each connection gets a thread that reads into a buffer, parses with
// RespParser, executes on a shared SingleNode (under a mutex) and writes the replies of
// everything it parsed in one send. A protocol error is answered and closes the connection,
// as Redis does. Test-only: the real server runs on the reactor.
#pragma once

#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "tools/kv/single_node.h"

namespace ringraft::kv::testing {

class RespTestServer {
 public:
  // Listens on 127.0.0.1 at a port the kernel picks.
  RespTestServer();
  ~RespTestServer();
  RespTestServer(const RespTestServer&) = delete;
  RespTestServer& operator=(const RespTestServer&) = delete;

  uint16_t port() const { return port_; }
  uint64_t protocol_errors() const;

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mutex_;  // guards everything below
  SingleNode node_;
  std::vector<std::thread> connections_;
  std::vector<int> connection_fds_;
  uint64_t protocol_errors_ = 0;
  bool stopping_ = false;
};

}  // namespace ringraft::kv::testing
