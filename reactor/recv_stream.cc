#include "reactor/recv_stream.h"

#include <utility>

#include "common/assert.h"

namespace ringraft {

RecvChunk::RecvChunk(RecvChunk&& other) noexcept
    : group_(std::exchange(other.group_, nullptr)),
      buffer_id_(other.buffer_id_),
      size_bytes_(other.size_bytes_) {}

RecvChunk& RecvChunk::operator=(RecvChunk&& other) noexcept {
  if (this != &other) {
    release();
    group_ = std::exchange(other.group_, nullptr);
    buffer_id_ = other.buffer_id_;
    size_bytes_ = other.size_bytes_;
  }
  return *this;
}

ConstByteSpan RecvChunk::bytes() const {
  if (group_ == nullptr) return {};
  return group_->buffer(buffer_id_).first(size_bytes_);
}

void RecvChunk::release() {
  if (group_ != nullptr) group_->recycle(buffer_id_);
  group_ = nullptr;
}

RecvStream::RecvStream(Io& io, int fd, BufferGroup& group)
    : io_(io), group_(group), queue_(group.buffer_count()) {
  op_.code = OpCode::kRecvMultishot;
  op_.fd = fd;
  op_.buffer_group = group.group_id();
  op_.on_complete = &RecvStream::on_complete;
  op_.context = this;
}

RecvStream::~RecvStream() {
  RR_ASSERT_MSG(!op_.in_flight, "RecvStream destroyed while receiving: co_await stop() first");
  while (!queue_.empty()) {
    const Item item = queue_.pop();
    group_.recycle(item.buffer_id);
  }
}

bool RecvStream::arm() {
  // After cancel() a re-arm would slip past the cancel already queued for the kernel.
  if (!cancel_requested_ && io_.submit(op_)) return true;
  ended_ = true;
  end_status_ = -ECANCELED;
  return false;
}

void RecvStream::on_complete(Operation& op, int32_t result, uint32_t flags) {
  auto& self = *static_cast<RecvStream*>(op.context);
  uint16_t buffer_id = 0;
  const bool has_buffer = completion_buffer_id(flags, &buffer_id);
  if (result > 0) {
    RR_ASSERT_MSG(has_buffer, "multishot receive completed without a buffer");
    self.queue_.push(Item{result, buffer_id});
    self.no_buffer_streak_ = 0;
  } else {
    if (has_buffer) self.group_.recycle(buffer_id);  // nothing in it
    if (result == -ENOBUFS) {
      // The ring ran dry. Usually our own queue holds the buffers and the consumer is catching
      // up: re-arm once it waits on an empty queue. Twice in a row with no data between means
      // the consumer itself holds every buffer: tell it.
      if (++self.no_buffer_streak_ >= 2) {
        self.transient_error_ = result;
        self.no_buffer_streak_ = 0;
      } else if (self.waiter_ && self.queue_.empty()) {
        if (self.arm()) return;  // keep waiting
      }
    } else if (result == -ECANCELED && self.pause_requested_ && !self.cancel_requested_) {
      // A pause: the stream goes on, re-armed by the next next() that finds the queue empty.
    } else {
      self.ended_ = true;
      self.end_status_ = result;
    }
  }
  if (!op.in_flight) {
    self.pause_requested_ = false;
    if (self.pause_waiter_) {
      // Only pause() waits here, and nobody awaits next() meanwhile.
      std::exchange(self.pause_waiter_, {}).resume();
      return;
    }
  }
  if (self.waiter_ && self.has_news()) std::exchange(self.waiter_, {}).resume();
}

bool RecvStream::NextAwaiter::await_ready() {
  return stream_.has_news();
}

bool RecvStream::NextAwaiter::await_suspend(std::coroutine_handle<> awaiter) {
  RR_ASSERT_MSG(!stream_.waiter_, "RecvStream supports one waiter");
  if (!stream_.op_.in_flight && !stream_.arm()) return false;
  stream_.waiter_ = awaiter;
  return true;
}

RecvResult RecvStream::NextAwaiter::await_resume() {
  if (!stream_.queue_.empty()) {
    const Item item = stream_.queue_.pop();
    return RecvResult{IoResult{item.result}, RecvChunk(&stream_.group_, item.buffer_id,
                                                       static_cast<uint32_t>(item.result))};
  }
  if (stream_.transient_error_ != 0) {
    return RecvResult{IoResult{std::exchange(stream_.transient_error_, 0)}, RecvChunk()};
  }
  RR_ASSERT(stream_.ended_);
  return RecvResult{IoResult{stream_.end_status_}, RecvChunk()};
}

void RecvStream::cancel() {
  cancel_requested_ = true;
  if (op_.in_flight) {
    io_.cancel(op_);
  } else if (!ended_) {
    // Paused, or stopped for want of buffers: nothing in the kernel will say -ECANCELED.
    // Nobody waits then: a waiter always has the receive armed.
    RR_ASSERT(!waiter_);
    ended_ = true;
    end_status_ = -ECANCELED;
  }
}

Task<void> RecvStream::pause() {
  RR_ASSERT_MSG(!waiter_, "pause() while next() is awaited");
  if (!op_.in_flight) co_return;
  pause_requested_ = true;
  io_.cancel(op_);
  struct Stopped {
    RecvStream& stream;
    bool await_ready() const noexcept { return !stream.op_.in_flight; }
    void await_suspend(std::coroutine_handle<> waiter) { stream.pause_waiter_ = waiter; }
    void await_resume() const noexcept {}
  };
  co_await Stopped{*this};
}

Task<void> RecvStream::stop() {
  cancel();
  while (op_.in_flight) {
    RecvResult ignored = co_await next();
    (void)ignored;
  }
}

}  // namespace ringraft
