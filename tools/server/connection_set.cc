// The servers' accept loop and connection bound (see connection_set.h).
#include "tools/server/connection_set.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "common/assert.h"
#include "reactor/ops.h"

namespace ringraft::server {

ConnectionSet::ConnectionSet(Shard& shard, uint32_t connections_max, Counters counters)
    : shard_(shard), connections_max_(connections_max), counters_(counters) {
  RR_ASSERT(connections_max_ > 0);
  RR_ASSERT(counters_.accepted != nullptr && counters_.refused != nullptr);
}

Task<void> ConnectionSet::accept(int listen_fd, std::function<Task<void>(int fd)> serve,
                                 std::function<void(int fd)> refuse) {
  AcceptStream acceptor(shard_.io(), listen_fd);
  acceptor_ = &acceptor;
  while (!stopping_) {
    const IoResult accepted = co_await acceptor.next();
    if (accepted.value == -ECANCELED) break;
    if (!accepted.ok()) continue;  // -EMFILE and the like: the stream re-arms
    const int fd = accepted.value;
    if (open_ >= connections_max_ || stopping_) {
      ++*counters_.refused;
      if (refuse) refuse(fd);
      ::close(fd);
      continue;
    }
    ++*counters_.accepted;
    ++open_;
    open_fds_.push_back(fd);
    shard_.spawn(serve(fd));
  }
  co_await acceptor.stop();
  acceptor_ = nullptr;
  if (open_ > 0) {
    Latch all_closed(1);
    all_closed_ = &all_closed;
    co_await all_closed.wait();
    all_closed_ = nullptr;
  }
}

void ConnectionSet::stop() {
  stopping_ = true;
  if (acceptor_ != nullptr) acceptor_->cancel();
  for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // each connection closes its own fd
}

Task<void> ConnectionSet::close(int fd) {
  std::erase(open_fds_, fd);
  co_await ops::close(shard_.io(), fd);
  RR_ASSERT(open_ > 0);
  --open_;
  if (open_ == 0 && all_closed_ != nullptr) all_closed_->count_down();
}

}  // namespace ringraft::server
