// BenchCluster: three raft/core cores in one process, the smallest harness that commits
// entries the way the engine will: each Ready's entries are "persisted" by copying their
// payload bytes into a preallocated in-memory log (no disk, no fsync), its messages go to an
// in-process queue (no network), and persisted_to follows at once. What is left to measure is
// the core itself: propose, the Appends, the acknowledgements, the commit rule, the Ready
// copies, and the allocations they make.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "raft/core/core.h"

namespace ringraft::bench {

class BenchCluster {
 public:
  // Node 1 is elected before this returns. Appends carry up to `append_entries_max` entries.
  explicit BenchCluster(uint32_t append_entries_max);

  // Proposes `batch` to the leader and delivers messages until it is committed and applied on
  // every node. Returns the number of entries committed (the batch size).
  uint64_t commit(std::vector<raft::Payload> batch);

  uint64_t entries_in_log() const;
  uint64_t persisted_bytes() const { return persisted_bytes_; }

 private:
  void pump();
  void take_ready(size_t node);

  std::vector<raft::Core> cores_;  // node i at cores_[i - 1]
  std::vector<raft::Message> queue_;
  std::vector<raft::Message> delivering_;
  std::vector<std::byte> log_bytes_;  // the in-memory "disk", reused as a ring
  size_t log_offset_ = 0;
  uint64_t persisted_bytes_ = 0;
};

// The same batch as propose() takes: `count` payloads of `size_bytes` bytes.
std::vector<raft::Payload> make_batch(size_t count, size_t size_bytes, uint64_t first_value);

}  // namespace ringraft::bench
