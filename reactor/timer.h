// Timer: a cancellable wait on the loop's clock.
//
//   Timer timer(io);
//   IoResult r = co_await timer.wait_for(50ms);   // 0 when it fired, -ECANCELED if cancelled
//
// For a one-off wait that nobody cancels, ops::sleep_for is enough. A Timer must not be
// destroyed while armed (cancel it and let the wait return first). It is a CancellableOp
// running a kTimer operation.
#pragma once

#include "reactor/cancellable_op.h"

namespace ringraft {

class Timer {
 public:
  using Awaiter = CancellableOp::Awaiter;

  explicit Timer(Io& io) : wait_(io) {}

  Awaiter wait_until(MonoTime deadline) {
    RR_ASSERT_MSG(!wait_.in_flight(), "Timer is already armed");
    Operation op;
    op.code = OpCode::kTimer;
    op.deadline = deadline;
    return wait_.run(op);
  }
  Awaiter wait_for(Duration delay) { return wait_until(wait_.io().now() + delay); }
  // The pending wait returns -ECANCELED (on a later loop turn, never inside this call).
  void cancel() { wait_.cancel(); }
  bool armed() const { return wait_.in_flight(); }

 private:
  CancellableOp wait_;
};

}  // namespace ringraft
