#include "reactor/outside_inbox.h"

#include "common/assert.h"

namespace ringraft {

OutsideInbox::OutsideInbox(uint32_t capacity) : capacity_(capacity) {
  RR_ASSERT(capacity > 0);
  queued_.reserve(capacity);
}

PostResult OutsideInbox::push(const ShardMessage& message, bool* was_empty) {
  RR_ASSERT(message.handler != nullptr);
  const std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return PostResult::kClosed;
  if (queued_.size() >= capacity_) return PostResult::kFull;
  *was_empty = queued_.empty();
  queued_.push_back(message);
  size_.store(static_cast<uint32_t>(queued_.size()), std::memory_order_release);
  return PostResult::kPosted;
}

void OutsideInbox::take_all(std::vector<ShardMessage>* out) {
  RR_ASSERT(out->empty());
  // Keep the consumer's buffer as large as ours, so the swap never hands a producer a vector
  // that must grow (an allocation under the lock).
  if (out->capacity() < capacity_) out->reserve(capacity_);
  const std::lock_guard<std::mutex> lock(mutex_);
  out->swap(queued_);
  size_.store(0, std::memory_order_release);
}

uint64_t OutsideInbox::close() {
  const std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  const uint64_t dropped = queued_.size();
  queued_.clear();
  size_.store(0, std::memory_order_release);
  return dropped;
}

void OutsideInbox::reopen() {
  const std::lock_guard<std::mutex> lock(mutex_);
  closed_ = false;
}

}  // namespace ringraft
