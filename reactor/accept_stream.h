// AcceptStream: a multishot accept on a listening socket.
//
// One SQE stays armed and produces a completion per accepted connection. Connections that arrive
// while nobody awaits next() wait in a queue of kQueuedMax; past that bound a new connection is
// closed at once and counted (overflow_closed()), so a flood of connects cannot grow memory.
//
// Lifetime: co_await stop() before destroying the stream (loop shutdown cancels it too).
#pragma once

#include <coroutine>
#include <cstdint>

#include "reactor/fixed_queue.h"
#include "reactor/io.h"
#include "reactor/task.h"

namespace ringraft {

class AcceptStream {
 public:
  static constexpr size_t kQueuedMax = 256;

  AcceptStream(Io& io, int listen_fd);
  ~AcceptStream();
  AcceptStream(const AcceptStream&) = delete;
  AcceptStream& operator=(const AcceptStream&) = delete;

  class NextAwaiter {
   public:
    explicit NextAwaiter(AcceptStream& stream) : stream_(stream) {}
    bool await_ready() const { return stream_.has_news(); }
    bool await_suspend(std::coroutine_handle<> awaiter);
    IoResult await_resume();

   private:
    AcceptStream& stream_;
  };

  // The next accepted socket (the caller owns the fd) or -errno. -ECANCELED after stop or
  // shutdown is final; other errors (-EMFILE, ...) are reported once and the next call re-arms.
  NextAwaiter next() { return NextAwaiter(*this); }
  void cancel();
  Task<void> stop();
  uint64_t overflow_closed() const { return overflow_closed_; }

 private:
  static void on_complete(Operation& op, int32_t result, uint32_t flags);
  bool has_news() const { return !queue_.empty() || ended_ || transient_error_ != 0; }

  Io& io_;
  Operation op_;
  FixedQueue<int32_t> queue_{kQueuedMax};
  bool ended_ = false;
  bool cancel_requested_ = false;  // once set, the accept is never re-armed
  int32_t transient_error_ = 0;
  uint64_t overflow_closed_ = 0;
  std::coroutine_handle<> waiter_;
};

}  // namespace ringraft
