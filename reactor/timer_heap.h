// TimerHeap: the pending kTimer operations of one loop, ordered by deadline.
//
// An indexed binary min-heap: each Operation remembers its slot, so cancelling a timer in the
// middle is O(log n) with no search and no allocation. Timers with equal deadlines fire in the
// order they were added (a sequence number breaks ties), which keeps runs deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "reactor/operation.h"

namespace ringraft {

class TimerHeap {
 public:
  explicit TimerHeap(size_t reserve_count = 1024) { entries_.reserve(reserve_count); }

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  MonoTime earliest_deadline() const;

  void add(Operation& op);
  // Returns false when `op` is not in the heap.
  bool remove(Operation& op);
  // Removes and returns the earliest timer if its deadline is <= now; nullptr otherwise.
  Operation* pop_expired(MonoTime now);
  Operation* pop_any();

  void check_invariants() const;

 private:
  struct Entry {
    MonoTime deadline;
    uint64_t sequence;
    Operation* op;
  };
  static bool earlier(const Entry& a, const Entry& b) {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence);
  }
  void place(size_t slot, const Entry& entry);
  void sift_up(size_t slot);
  void sift_down(size_t slot);
  void remove_at(size_t slot);

  std::vector<Entry> entries_;
  uint64_t next_sequence_ = 0;
};

}  // namespace ringraft
