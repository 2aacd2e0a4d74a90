#include "net/connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "reactor/ops.h"

namespace ringraft::net {
namespace {

// A direct receive's piece: well inside a core's L2 cache (1 MiB here), so the CRC pass that
// follows each piece reads it from there. Receiving a whole 1 MiB frame first made that pass
// read from memory (perf: ~2.5x the CRC samples of the copying path, which takes the CRC of
// each 64 KiB chunk as it copies it).
constexpr size_t kDirectReceivePieceBytes = size_t{256} << 10;

}  // namespace

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
      if (!stream_.has_queued() && !cancelled_) co_return co_await receive_direct();
      // What arrived before the pause took effect comes first, copied as usual; the next
      // receive() looks again at what is still missing.
      direct_streak_ = false;
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
  if (direct_receive_bytes_min_ == 0 || cancelled_) return false;
  const size_t missing_bytes = decoder_.receive_space().size();
  if (missing_bytes == 0) return false;
  // Between two large frames the next header is read directly too: re-arming the multishot
  // receive would have it fill the ring with the next large frame before we see its header.
  if (decoder_.buffered_bytes() < kFrameHeaderBytes) return direct_streak_;
  return missing_bytes >= direct_receive_bytes_min_;
}

Task<Result<void>> Connection::receive_direct() {
  const bool header = decoder_.buffered_bytes() < kFrameHeaderBytes;
  if (!header) counters_->frames_received_direct += 1;
  while (true) {
    const ByteSpan space = decoder_.receive_space();
    if (space.empty() || (header && decoder_.buffered_bytes() >= kFrameHeaderBytes)) {
      // The frame is whole (poll_frame() takes it), or the header is in: a large frame's body
      // follows directly, a small one's through the multishot receive, re-armed for it.
      direct_streak_ = !header || space.size() >= direct_receive_bytes_min_;
      co_return Result<void>();
    }
    // MSG_WAITALL: the kernel completes once the piece is in (or the stream ends or fails), one
    // completion per piece, not per segment that arrives. Never past the missing bytes: the
    // next frame stays in the socket. Pieces, not the whole frame: the CRC pass over each
    // (commit_received) then reads bytes the kernel's copy has just left in the cache.
    Operation op;
    op.code = OpCode::kRecv;
    op.fd = fd_.get();
    op.buffer = space.data();
    op.length = ops::transfer_length(std::min(space.size(), kDirectReceivePieceBytes));
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
