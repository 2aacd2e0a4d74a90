#include "reactor/accept_stream.h"

#include <unistd.h>

#include <utility>

#include "common/assert.h"
#include "common/log.h"

namespace ringraft {

AcceptStream::AcceptStream(Io& io, int listen_fd) : io_(io) {
  op_.code = OpCode::kAcceptMultishot;
  op_.fd = listen_fd;
  op_.on_complete = &AcceptStream::on_complete;
  op_.context = this;
}

AcceptStream::~AcceptStream() {
  RR_ASSERT_MSG(!op_.in_flight, "AcceptStream destroyed while accepting: co_await stop() first");
  while (!queue_.empty()) ::close(queue_.pop());
}

void AcceptStream::on_complete(Operation& op, int32_t result, uint32_t flags) {
  auto& self = *static_cast<AcceptStream*>(op.context);
  if (result >= 0) {
    if (self.queue_.full()) {
      ::close(result);  // bounded queue: refuse rather than grow
      if (self.overflow_closed_++ == 0) {
        RR_LOG_WARN("accept queue full ({} waiting): closing new connections", kQueuedMax);
      }
    } else {
      self.queue_.push(result);
    }
  } else if (result == -ECANCELED || self.io_.shutting_down()) {
    self.ended_ = true;
  } else if (!completion_has_more(flags)) {
    self.transient_error_ = result;
  }
  if (self.waiter_ && self.has_news()) std::exchange(self.waiter_, {}).resume();
}

bool AcceptStream::NextAwaiter::await_suspend(std::coroutine_handle<> awaiter) {
  RR_ASSERT_MSG(!stream_.waiter_, "AcceptStream supports one waiter");
  if (!stream_.op_.in_flight && (stream_.cancel_requested_ || !stream_.io_.submit(stream_.op_))) {
    stream_.ended_ = true;
    return false;
  }
  stream_.waiter_ = awaiter;
  return true;
}

IoResult AcceptStream::NextAwaiter::await_resume() {
  if (!stream_.queue_.empty()) return IoResult{stream_.queue_.pop()};
  if (stream_.transient_error_ != 0) return IoResult{std::exchange(stream_.transient_error_, 0)};
  RR_ASSERT(stream_.ended_);
  return IoResult{-ECANCELED};
}

void AcceptStream::cancel() {
  io_.cancel(op_);
}

Task<void> AcceptStream::stop() {
  cancel();
  while (op_.in_flight) {
    const IoResult result = co_await next();
    if (result.ok()) ::close(result.value);
  }
}

}  // namespace ringraft
