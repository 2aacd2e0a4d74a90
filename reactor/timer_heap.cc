#include "reactor/timer_heap.h"

#include "common/assert.h"

namespace ringraft {

// Operation::timer_slot holds the heap index + 1, so that 0 means "not in a heap".

MonoTime TimerHeap::earliest_deadline() const {
  RR_ASSERT(!entries_.empty());
  return entries_.front().deadline;
}

void TimerHeap::add(Operation& op) {
  RR_ASSERT(op.timer_slot == 0);
  entries_.push_back(Entry{op.deadline, next_sequence_++, &op});
  op.timer_slot = static_cast<uint32_t>(entries_.size());
  sift_up(entries_.size() - 1);
}

bool TimerHeap::remove(Operation& op) {
  if (op.timer_slot == 0) return false;
  const size_t slot = op.timer_slot - 1;
  RR_ASSERT(slot < entries_.size() && entries_[slot].op == &op);
  remove_at(slot);
  return true;
}

Operation* TimerHeap::pop_expired(MonoTime now) {
  if (entries_.empty() || entries_.front().deadline > now) return nullptr;
  return pop_any();
}

Operation* TimerHeap::pop_any() {
  if (entries_.empty()) return nullptr;
  Operation* op = entries_.front().op;
  remove_at(0);
  return op;
}

void TimerHeap::place(size_t slot, const Entry& entry) {
  entries_[slot] = entry;
  entry.op->timer_slot = static_cast<uint32_t>(slot + 1);
}

void TimerHeap::sift_up(size_t slot) {
  const Entry moving = entries_[slot];
  while (slot > 0) {
    const size_t parent = (slot - 1) / 2;
    if (!earlier(moving, entries_[parent])) break;
    place(slot, entries_[parent]);
    slot = parent;
  }
  place(slot, moving);
}

void TimerHeap::sift_down(size_t slot) {
  const Entry moving = entries_[slot];
  const size_t count = entries_.size();
  while (true) {
    const size_t left = 2 * slot + 1;
    if (left >= count) break;
    const size_t right = left + 1;
    const size_t child = (right < count && earlier(entries_[right], entries_[left])) ? right : left;
    if (!earlier(entries_[child], moving)) break;
    place(slot, entries_[child]);
    slot = child;
  }
  place(slot, moving);
}

void TimerHeap::remove_at(size_t slot) {
  entries_[slot].op->timer_slot = 0;
  const size_t last = entries_.size() - 1;
  if (slot != last) {
    place(slot, entries_[last]);
    entries_.pop_back();
    // The moved entry may belong above or below its new slot.
    if (slot > 0 && earlier(entries_[slot], entries_[(slot - 1) / 2])) {
      sift_up(slot);
    } else {
      sift_down(slot);
    }
  } else {
    entries_.pop_back();
  }
}

void TimerHeap::check_invariants() const {
  for (size_t slot = 0; slot < entries_.size(); slot++) {
    RR_ASSERT(entries_[slot].op->timer_slot == slot + 1);
    if (slot > 0) RR_ASSERT(!earlier(entries_[slot], entries_[(slot - 1) / 2]));
  }
}

}  // namespace ringraft
