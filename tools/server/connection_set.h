// ConnectionSet: the accept loop and the bounded set of open connections that the RESP server
// and the admin HTTP server share.
//
// accept() takes connections until stop(); each one under connections_max is served by a task
// of its own, the others are refused at once (the owner's `refuse` may say why first, then the
// socket is closed). stop() ends the loop and shuts every open connection down, which ends
// their pending receives and sends; each connection's task then calls close(fd). accept()
// returns only when the last of them has, so the owner's state outlives every connection.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "reactor/accept_stream.h"
#include "reactor/latch.h"
#include "reactor/shard.h"
#include "reactor/task.h"

namespace ringraft::server {

class ConnectionSet {
 public:
  struct Counters {
    uint64_t* accepted;  // the owner's stats fields
    uint64_t* refused;   // beyond connections_max, or while stopping
  };

  ConnectionSet(Shard& shard, uint32_t connections_max, Counters counters);
  ConnectionSet(const ConnectionSet&) = delete;
  ConnectionSet& operator=(const ConnectionSet&) = delete;

  // Accepts on `listen_fd` (the caller's) until stop() or the reactor's shutdown; spawns
  // serve(fd) per connection, which must end with co_await close(fd). `refuse` (may be empty)
  // runs before a refused socket is closed.
  Task<void> accept(int listen_fd, std::function<Task<void>(int fd)> serve,
                    std::function<void(int fd)> refuse);
  void stop();
  // A served connection's end: closes `fd` and lets accept() return after the last one.
  Task<void> close(int fd);

  uint32_t open() const { return open_; }
  bool stopping() const { return stopping_; }

 private:
  Shard& shard_;
  uint32_t connections_max_;
  Counters counters_;
  uint32_t open_ = 0;
  bool stopping_ = false;
  AcceptStream* acceptor_ = nullptr;  // while accept() runs
  Latch* all_closed_ = nullptr;       // while accept() waits for the last connection
  std::vector<int> open_fds_;         // for stop(): at most connections_max
};

}  // namespace ringraft::server
