// The I/O seam: the narrow interface through which wal/, net/ and raft/replica do all I/O.
//
// Two implementations exist by design: Uring (reactor/uring.h), the production io_uring backend,
// and a simulated backend for deterministic tests (tests/sim, a later issue) with a simulated
// disk, network and clock. Code above the reactor depends only on this header, so the simulator
// exercises the real WAL, transport and engine code.
//
// Contract of submit(): the operation completes exactly once (multishot: until a completion
// without the "more" flag) through op.on_complete, and never from inside submit() itself. When
// the backend refuses (shutting down), submit() returns false, op.result is not touched, and the
// caller treats the operation as failed with -ECANCELED.
#pragma once

#include <cerrno>
#include <coroutine>
#include <cstdint>
#include <memory>

#include "common/assert.h"
#include "common/bytes.h"
#include "common/result.h"
#include "reactor/operation.h"

namespace ringraft {

// A set of equally sized receive buffers that the backend hands out to multishot receives.
// A buffer received through it belongs to the receiver until it calls recycle(id).
class BufferGroup {
 public:
  virtual ~BufferGroup() = default;
  virtual uint16_t group_id() const = 0;
  virtual uint32_t buffer_count() const = 0;
  virtual uint32_t buffer_bytes() const = 0;
  virtual ByteSpan buffer(uint16_t buffer_id) = 0;
  virtual void recycle(uint16_t buffer_id) = 0;
};

class Io {
 public:
  virtual ~Io() = default;

  // Queues `op`; see the contract above. Returns false when refused.
  virtual bool submit(Operation& op) = 0;
  // Asks an in-flight operation to end early. It still completes exactly once, with -ECANCELED
  // or with its own result if it finished first. No-op for an operation not in flight.
  virtual void cancel(Operation& op) = 0;
  // The loop's monotonic clock, read once per loop turn.
  virtual MonoTime now() const = 0;
  // Creates `count` receive buffers of `bytes_each`; count must be a power of two <= 32768.
  virtual Result<std::unique_ptr<BufferGroup>> create_buffer_group(uint32_t count,
                                                                   uint32_t bytes_each) = 0;
  // True once shutdown began: every later submit() is refused.
  virtual bool shutting_down() const = 0;
};

// Awaitable for one single-shot Operation: `IoResult r = co_await OpAwaiter(io, op);`.
// The Operation lives inside the awaiter, hence inside the awaiting coroutine's frame.
class [[nodiscard]] OpAwaiter {
 public:
  OpAwaiter(Io& io, const Operation& op) : io_(&io), op_(op) {}
  // Movable only before it is awaited (the Operation must not move once submitted).
  OpAwaiter(OpAwaiter&& other) noexcept : io_(other.io_), op_(other.op_) {
    RR_ASSERT(!other.op_.in_flight);
  }
  OpAwaiter(const OpAwaiter&) = delete;
  OpAwaiter& operator=(const OpAwaiter&) = delete;
  OpAwaiter& operator=(OpAwaiter&&) = delete;

  // Ends the operation with -ECANCELED if it has not completed after `timeout`.
  OpAwaiter with_timeout(Duration timeout) && {
    op_.timeout = timeout;
    return OpAwaiter(std::move(*this));
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiter) noexcept {
    awaiter_ = awaiter;
    op_.context = this;
    op_.on_complete = &resume_awaiter;
    if (io_->submit(op_)) return true;
    result_ = -ECANCELED;
    return false;
  }
  IoResult await_resume() const noexcept { return IoResult{result_}; }

 private:
  static void resume_awaiter(Operation& op, int32_t result, uint32_t /*flags*/) {
    auto* self = static_cast<OpAwaiter*>(op.context);
    self->result_ = result;
    self->awaiter_.resume();
  }

  Io* io_;
  Operation op_;
  std::coroutine_handle<> awaiter_;
  int32_t result_ = 0;
};

// Awaitable for two operations submitted together, the first linked to the second
// (Operation::link_next): both reach the kernel in one submission and the second starts only
// after the first succeeded in full. Resumes once both have completed.
class [[nodiscard]] LinkedPairAwaiter {
 public:
  struct Results {
    IoResult first;
    IoResult second;  // -ECANCELED when the first failed or fell short
  };

  LinkedPairAwaiter(Io& io, const Operation& first, const Operation& second)
      : io_(&io), first_(first), second_(second) {
    first_.link_next = true;
  }
  LinkedPairAwaiter(const LinkedPairAwaiter&) = delete;
  LinkedPairAwaiter& operator=(const LinkedPairAwaiter&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiter) noexcept {
    awaiter_ = awaiter;
    for (Operation* op : {&first_, &second_}) {
      op->context = this;
      op->on_complete = &on_complete;
    }
    if (!io_->submit(first_)) {
      results_ = {IoResult{-ECANCELED}, IoResult{-ECANCELED}};
      return false;
    }
    if (!io_->submit(second_)) {
      // Cannot happen: a refusal starts with the first. Kept so the counts stay exact.
      results_.second = IoResult{-ECANCELED};
      remaining_ = 1;
    }
    return true;
  }
  Results await_resume() const noexcept { return results_; }

 private:
  static void on_complete(Operation& op, int32_t result, uint32_t /*flags*/) {
    auto* self = static_cast<LinkedPairAwaiter*>(op.context);
    (&op == &self->first_ ? self->results_.first : self->results_.second) = IoResult{result};
    if (--self->remaining_ == 0) self->awaiter_.resume();
  }

  Io* io_;
  Operation first_;
  Operation second_;
  std::coroutine_handle<> awaiter_;
  Results results_;
  int remaining_ = 2;
};

}  // namespace ringraft
