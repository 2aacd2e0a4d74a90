// FixedQueue: a single-threaded FIFO with a capacity fixed at construction.
// Used where a bound is part of the design (queued completions of a multishot stream).
#pragma once

#include <cstddef>
#include <vector>

#include "common/assert.h"

namespace ringraft {

template <class T>
class FixedQueue {
 public:
  explicit FixedQueue(size_t capacity) : slots_(capacity) { RR_ASSERT(capacity > 0); }

  bool empty() const { return count_ == 0; }
  bool full() const { return count_ == slots_.size(); }
  size_t size() const { return count_; }
  size_t capacity() const { return slots_.size(); }

  void push(const T& item) {
    RR_ASSERT_MSG(!full(), "FixedQueue overflow");
    slots_[(head_ + count_) % slots_.size()] = item;
    count_++;
  }
  T pop() {
    RR_ASSERT_MSG(!empty(), "FixedQueue underflow");
    T item = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    count_--;
    return item;
  }

 private:
  std::vector<T> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace ringraft
