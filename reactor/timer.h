// Timer: a cancellable wait on the loop's clock.
//
//   Timer timer(io);
//   IoResult r = co_await timer.wait_for(50ms);   // 0 when it fired, -ECANCELED if cancelled
//
// For a one-off wait that nobody cancels, ops::sleep_for is enough. A Timer must not be
// destroyed while armed (cancel it and let the wait return first).
#pragma once

#include <coroutine>

#include "common/assert.h"
#include "reactor/io.h"

namespace ringraft {

class Timer {
 public:
  explicit Timer(Io& io) : io_(io) {
    op_.code = OpCode::kTimer;
    op_.context = this;
    op_.on_complete = &Timer::on_complete;
  }
  ~Timer() { RR_ASSERT_MSG(!op_.in_flight, "Timer destroyed while armed"); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  class [[nodiscard]] Awaiter {
   public:
    explicit Awaiter(Timer& timer) : timer_(timer) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiter) noexcept {
      timer_.waiter_ = awaiter;
      if (timer_.io_.submit(timer_.op_)) return true;
      timer_.result_ = -ECANCELED;
      return false;
    }
    IoResult await_resume() const noexcept { return IoResult{timer_.result_}; }

   private:
    Timer& timer_;
  };

  Awaiter wait_until(MonoTime deadline) {
    RR_ASSERT_MSG(!op_.in_flight, "Timer is already armed");
    op_.deadline = deadline;
    return Awaiter(*this);
  }
  Awaiter wait_for(Duration delay) { return wait_until(io_.now() + delay); }
  // The pending wait returns -ECANCELED (on a later loop turn, never inside this call).
  void cancel() { io_.cancel(op_); }
  bool armed() const { return op_.in_flight; }

 private:
  static void on_complete(Operation& op, int32_t result, uint32_t /*flags*/) {
    auto& self = *static_cast<Timer*>(op.context);
    self.result_ = result;
    self.waiter_.resume();
  }

  Io& io_;
  Operation op_;
  std::coroutine_handle<> waiter_;
  int32_t result_ = 0;
};

}  // namespace ringraft
