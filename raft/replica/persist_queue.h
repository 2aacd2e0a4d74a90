// PersistQueue: the part of each group's Ready that must reach the disk before it takes
// effect (hard state, entries, and the messages_after_persist held back until then), on its
// way through the shard's WAL.
//
//   push(replica, ready)  -> unwritten (FIFO over all groups of the shard)
//   write(wal)            -> records appended to this turn's WAL batch; each Ready remembers
//                            the sequence number of the batch holding its last record
//   release(durable_seq)  -> Readies whose batch is durable, in order: the engine then calls
//                            persisted_to and sends their held-back messages
//
// Records of one Ready: a truncate when its entries start at or below what the group already
// wrote (a new leader overwrote a conflicting suffix, ready.h), one entries record per term
// run, then the hard state, so a recovered commit index never points past recovered entries.
// A Ready that fits a whole batch is written into ONE batch (atomic, as ready.h asks): when the
// current batch lacks room it waits for the next turn's. A Ready larger than a whole batch is
// spread over several, its hard state in the last.
// A Ready with nothing to write (only held-back messages) rides on the last batch assigned, so
// its messages never overtake a vote or an entry written before them.
//
// Bound: the unwritten FIFO holds at most what the cores produced while the WAL was full; the
// WAL drains it one batch per fsync. Readies in the queue are owned (moved in).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "raft/core/ready.h"
#include "wal/wal.h"

namespace ringraft::replica {

class Replica;

struct PendingPersist {
  Replica* replica = nullptr;
  raft::Ready ready;  // hard_state, entries, messages_after_persist (the rest was taken)
  Seq seq;            // the batch holding this Ready's last record
  size_t entries_written = 0;
  bool started = false;
  bool hard_state_written = false;
};

class PersistQueue {
 public:
  explicit PersistQueue(Seq durable_seq) : last_assigned_seq_(durable_seq) {}

  void push(Replica& replica, raft::Ready ready);
  // Appends what fits this turn. Errors are the WAL's (failed, or a record that can never fit).
  Result<void> write(wal::Wal& wal);
  bool has_unwritten() const { return !unwritten_.empty(); }
  // Whether a Ready of `replica` still waits for room in a batch.
  bool has_unwritten(const Replica& replica) const;
  // The highest batch a written Ready waits for (what the engine should await).
  Seq last_assigned_seq() const { return last_assigned_seq_; }
  // Pops the oldest written Ready whose batch is <= durable_seq into `out`; false if none.
  bool release(Seq durable_seq, PendingPersist& out);
  size_t size() const { return unwritten_.size() + written_.size(); }

 private:
  // True when `pending` is fully written; false when the batch is full for this turn.
  Result<bool> write_one(wal::Wal& wal, PendingPersist& pending);
  Result<bool> write_entries(wal::Wal& wal, PendingPersist& pending);
  static size_t record_bytes(const PendingPersist& pending, bool truncate);

  std::deque<PendingPersist> unwritten_;
  std::deque<PendingPersist> written_;
  Seq last_assigned_seq_;
  std::vector<uint32_t> lengths_scratch_;
  std::vector<std::byte> payload_scratch_;
};

}  // namespace ringraft::replica
