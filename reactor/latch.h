// Latch: a single-shard countdown that tasks can await.
//
//   Latch done(3);            // three tasks to finish
//   ... each task: done.count_down();
//   co_await done.wait();     // resumes when the count reaches zero
//
// Waiters are resumed inline by the count_down() that reaches zero, in the order they began
// waiting. Not thread-safe: a Latch belongs to one shard, like everything a shard runs.
// Destroying a Latch that still has waiters is a bug, except during shutdown, when the shard
// destroys suspended tasks (and the Latches in their frames) in whatever state they are.
#pragma once

#include <coroutine>
#include <cstdint>
#include <vector>

#include "common/assert.h"
#include "reactor/shard.h"

namespace ringraft {

class Latch {
 public:
  explicit Latch(uint64_t count) : count_(count) {}
  Latch(const Latch&) = delete;
  Latch& operator=(const Latch&) = delete;
  ~Latch() {
    const Shard* shard = Shard::current();
    RR_ASSERT_MSG(waiters_.empty() || (shard != nullptr && shard->stopping()),
                  "Latch destroyed with waiters");
  }

  uint64_t count() const { return count_; }

  void count_down(uint64_t by = 1) {
    RR_ASSERT_MSG(by <= count_, "Latch counted below zero");
    count_ -= by;
    if (count_ != 0) return;
    std::vector<std::coroutine_handle<>> ready;
    ready.swap(waiters_);
    for (std::coroutine_handle<> waiter : ready) waiter.resume();
  }

  auto wait() {
    struct Awaiter {
      Latch& latch;
      bool await_ready() const noexcept { return latch.count_ == 0; }
      void await_suspend(std::coroutine_handle<> waiter) { latch.waiters_.push_back(waiter); }
      void await_resume() const noexcept {}
    };
    return Awaiter{*this};
  }

 private:
  uint64_t count_;
  std::vector<std::coroutine_handle<>> waiters_;
};

}  // namespace ringraft
