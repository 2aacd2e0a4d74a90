// Inflights: the pipelining window of one follower. Each Append sent in the replicate state
// records (its last index, its payload bytes); an acknowledgement up to index i frees every
// record <= i. The window is full at count_max records or bytes_max bytes, and a full window
// pauses sending to that follower (etcd-io/raft's tracker/inflights.go, plus a byte bound).
//
// Storage is a ring allocated once at construction: adding never allocates.
#pragma once

#include <cstdint>
#include <vector>

#include "common/types.h"

namespace ringraft::raft {

class Inflights {
 public:
  Inflights(uint32_t count_max, uint64_t bytes_max);

  bool full() const { return count_ == count_max_ || bytes_ >= bytes_max_; }
  uint32_t count() const { return count_; }
  uint64_t size_bytes() const { return bytes_; }

  // Precondition: !full(), and last_index is above every index recorded.
  void add(LogIndex last_index, uint64_t payload_bytes);
  // Frees every record whose last index is <= index.
  void free_le(LogIndex index);
  // Frees the oldest record (a heartbeat response showed the follower is alive but the window
  // is stuck full, e.g. because an Append was lost).
  void free_first_one();
  void reset();

  void check_invariants() const;

 private:
  struct Record {
    LogIndex last_index;
    uint64_t payload_bytes = 0;
  };

  uint32_t count_max_;
  uint64_t bytes_max_;
  std::vector<Record> ring_;  // count_max_ slots
  uint32_t start_ = 0;        // slot of the oldest record
  uint32_t count_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace ringraft::raft
