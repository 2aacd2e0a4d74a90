// CancellableOp: one I/O operation at a time that its owner awaits and anyone else can cancel.
//
// ops::* awaiters keep their Operation inside the awaiting frame, out of reach of anyone else.
// Waits that must end from outside (a timer, a connect or backoff that stop() ends at once)
// keep it here instead, in an object the owner can reach:
//
//   CancellableOp connect_op(io);
//   IoResult r = co_await connect_op.run(connect_operation);   // elsewhere: connect_op.cancel()
//
// Timer (reactor/timer.h) is this with a kTimer operation. Must not be destroyed while its
// operation is in flight (cancel it and let the wait return first).
#pragma once

#include <coroutine>

#include "common/assert.h"
#include "reactor/io.h"

namespace ringraft {

class CancellableOp {
 public:
  explicit CancellableOp(Io& io) : io_(io) {}
  ~CancellableOp() { RR_ASSERT_MSG(!op_.in_flight, "CancellableOp destroyed in flight"); }
  CancellableOp(const CancellableOp&) = delete;
  CancellableOp& operator=(const CancellableOp&) = delete;

  class [[nodiscard]] Awaiter {
   public:
    explicit Awaiter(CancellableOp& owner) : owner_(owner) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiter) noexcept {
      owner_.waiter_ = awaiter;
      if (owner_.io_.submit(owner_.op_)) return true;
      owner_.result_ = -ECANCELED;  // the loop is shutting down
      return false;
    }
    IoResult await_resume() const noexcept { return IoResult{owner_.result_}; }

   private:
    CancellableOp& owner_;
  };

  // Starts `op` (its completion callback and context are replaced) and waits for it.
  Awaiter run(const Operation& op) {
    RR_ASSERT_MSG(!op_.in_flight, "CancellableOp is already running");
    op_ = op;
    op_.context = this;
    op_.on_complete = &CancellableOp::on_complete;
    return Awaiter(*this);
  }
  // The running wait returns -ECANCELED soon, on a later loop turn and never inside this call
  // (or its own result if it finished first). Nothing when nothing runs.
  void cancel() {
    if (op_.in_flight) io_.cancel(op_);
  }
  bool in_flight() const { return op_.in_flight; }
  Io& io() const { return io_; }

 private:
  static void on_complete(Operation& op, int32_t result, uint32_t /*flags*/) {
    auto& self = *static_cast<CancellableOp*>(op.context);
    self.result_ = result;
    self.waiter_.resume();
  }

  Io& io_;
  Operation op_;
  std::coroutine_handle<> waiter_;
  int32_t result_ = 0;
};

}  // namespace ringraft
