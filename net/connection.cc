#include "net/connection.h"

#include <fmt/format.h>

#include <utility>

#include "reactor/ops.h"

namespace ringraft::net {

Connection::Connection(Io& io, FileDescriptor fd, BufferGroup& buffers, const FrameLimits& limits,
                       FrameCounters* counters, uint32_t direct_receive_bytes_min)
    : io_(io),
      fd_(std::move(fd)),
      stream_(io, fd_.get(), buffers),
      decoder_(limits, counters),
      counters_(counters),
      direct_receive_bytes_min_(direct_receive_bytes_min),
      direct_op_(io) {
  RR_ASSERT(fd_.valid());
  deadline_op_.code = OpCode::kTimer;
  deadline_op_.context = this;
  deadline_op_.on_complete = &Connection::on_deadline;
}

Connection::~Connection() {
  RR_ASSERT_MSG(!deadline_op_.in_flight, "Connection destroyed before close()");
}

Result<std::optional<DecodedFrame>> Connection::poll_frame() {
  Result<std::optional<DecodedFrame>> frame = decoder_.poll(&unfed_);
  // Every frame of the chunk consumed (a straddling tail copied), or the stream is bad: the
  // buffer goes back to the ring now, not when the next chunk arrives.
  if (!frame.ok() || !frame.value().has_value()) release_chunk();
  return frame;
}

void Connection::release_chunk() {
  chunk_.release();
  unfed_ = {};
}

Task<Result<void>> Connection::receive() {
  RR_ASSERT_MSG(unfed_.empty(), "receive() before poll_frame() consumed the chunk");
  release_chunk();
  while (true) {
    if (wants_direct_receive()) {
      co_await stream_.pause();
      // What arrived before the pause took effect comes first, copied as usual; the next
      // receive() looks again at what is still missing.
      if (!stream_.has_queued() && !cancelled_) co_return co_await receive_direct();
    }
    RecvResult received = co_await stream_.next();
    if (received.status.value > 0) {
      chunk_ = std::move(received.chunk);
      unfed_ = chunk_.bytes();
      co_return Result<void>();
    }
    if (received.status.value == 0) co_return end_of_stream_error();
    // The shared ring ran dry while other connections hold buffers: waiting re-arms.
    if (received.status.value == -ENOBUFS) continue;
    if (received.status.value == -ECANCELED) {
      co_return Error(ErrorCode::kCancelled, fmt::format("fd {}: receive cancelled", fd_.get()));
    }
    co_return Error::from_errno(received.status.error(), fmt::format("fd {}: receive", fd_.get()));
  }
}

Result<void> Connection::end_of_stream_error() {
  // A frame cut short by the close is bad input (counted as kTruncated), not a clean end.
  if (Result<void> finished = decoder_.finish(); !finished.ok()) return finished.error();
  return Error(ErrorCode::kClosed, fmt::format("fd {}: the peer closed", fd_.get()));
}

bool Connection::wants_direct_receive() {
  return direct_receive_bytes_min_ > 0 && !cancelled_ &&
         decoder_.receive_space().size() >= direct_receive_bytes_min_;
}

Task<Result<void>> Connection::receive_direct() {
  counters_->frames_received_direct += 1;
  while (true) {
    const ByteSpan space = decoder_.receive_space();
    if (space.empty()) co_return Result<void>();  // the frame is whole: poll_frame() takes it
    // MSG_WAITALL: the kernel completes once all of it is in (or the stream ends or fails), so
    // a frame costs one completion, not one per segment that arrives.
    Operation op;
    op.code = OpCode::kRecv;
    op.fd = fd_.get();
    op.buffer = space.data();
    op.length = ops::transfer_length(space.size());
    op.flags = MSG_WAITALL;
    const IoResult received = co_await direct_op_.run(op);
    if (received.value > 0) {
      decoder_.commit_received(received.bytes());
      counters_->bytes_received_direct += received.bytes();
    }
    // A cancelled MSG_WAITALL receive that had part of its bytes reports those, not -ECANCELED.
    if (received.value > 0 && !cancelled_) continue;
    if (received.value == 0) co_return end_of_stream_error();
    if (received.value == -ECANCELED || cancelled_) {
      co_return Error(ErrorCode::kCancelled, fmt::format("fd {}: receive cancelled", fd_.get()));
    }
    co_return Error::from_errno(received.error(), fmt::format("fd {}: receive", fd_.get()));
  }
}

void Connection::cancel() {
  cancelled_ = true;
  stream_.cancel();
  direct_op_.cancel();
}

void Connection::arm_deadline(Duration timeout) {
  RR_ASSERT(!deadline_op_.in_flight);
  timed_out_ = false;
  deadline_op_.deadline = io_.now() + timeout;
  if (!io_.submit(deadline_op_)) cancel();  // shutting down: end the wait at once
}

void Connection::disarm_deadline() {
  if (deadline_op_.in_flight) io_.cancel(deadline_op_);
}

void Connection::on_deadline(Operation& op, int32_t result, uint32_t /*flags*/) {
  auto& self = *static_cast<Connection*>(op.context);
  if (result == 0) {
    self.timed_out_ = true;
    self.cancel();
  }
  if (self.deadline_waiter_) std::exchange(self.deadline_waiter_, {}).resume();
}

Task<void> Connection::close() {
  release_chunk();
  disarm_deadline();
  co_await stream_.stop();
  if (deadline_op_.in_flight) {
    struct DeadlineGone {
      Connection& connection;
      bool await_ready() const noexcept { return !connection.deadline_op_.in_flight; }
      void await_suspend(std::coroutine_handle<> waiter) { connection.deadline_waiter_ = waiter; }
      void await_resume() const noexcept {}
    };
    co_await DeadlineGone{*this};
  }
  RR_ASSERT(!stream_.in_flight());
  RR_ASSERT_MSG(!direct_op_.in_flight(), "close() while receive() runs");
}

}  // namespace ringraft::net
