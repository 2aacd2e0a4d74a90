// A bounded, lock-free, single-producer single-consumer ring of trivially copyable items.
//
// The cross-shard channels are built from these: one ring per ordered pair of shards. The
// producer and the consumer each own one index and keep a cached copy of the other's, so the
// common case touches no shared cache line. Full is a defined state: try_push returns false
// and the caller applies back-pressure; nothing is dropped or grown.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "common/assert.h"

namespace ringraft {

inline constexpr size_t kCacheLineBytes = 64;

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  // capacity is rounded up to a power of two so that indices wrap with a mask.
  explicit SpscRing(size_t capacity)
      : capacity_(round_up_pow2(capacity)),
        mask_(capacity_ - 1),
        slots_(std::make_unique<T[]>(capacity_)) {
    RR_ASSERT(capacity > 0);
  }

  size_t capacity() const { return capacity_; }

  // Producer side. Returns false when full.
  bool try_push(const T& item) {
    const uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
    if (tail - producer_.cached_head == capacity_) {
      producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
      if (tail - producer_.cached_head == capacity_) return false;
    }
    slots_[tail & mask_] = item;
    producer_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer side. Returns false when empty.
  bool try_pop(T* item) {
    const uint64_t head = consumer_.head.load(std::memory_order_relaxed);
    if (head == consumer_.cached_tail) {
      consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
      if (head == consumer_.cached_tail) return false;
    }
    *item = slots_[head & mask_];
    consumer_.head.store(head + 1, std::memory_order_release);
    return true;
  }

  // Either side; exact only when the other side is quiet.
  size_t size_approx() const {
    return producer_.tail.load(std::memory_order_acquire) -
           consumer_.head.load(std::memory_order_acquire);
  }

 private:
  static size_t round_up_pow2(size_t value) {
    size_t result = 1;
    while (result < value) result <<= 1;
    return result;
  }

  struct alignas(kCacheLineBytes) ProducerSide {
    std::atomic<uint64_t> tail{0};
    uint64_t cached_head = 0;
  };
  struct alignas(kCacheLineBytes) ConsumerSide {
    std::atomic<uint64_t> head{0};
    uint64_t cached_tail = 0;
  };

  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<T[]> slots_;
  ProducerSide producer_;
  ConsumerSide consumer_;
};

}  // namespace ringraft
