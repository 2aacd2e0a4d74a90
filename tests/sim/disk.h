// SimDisk: one node's stable storage. A write (one Ready's hard state and entries, written
// atomically as one WAL batch) is durable only once its simulated fsync completes; writes
// complete in the order they were issued. A crash keeps what is durable, plus the unsynced
// writes the page cache happened to flush first (an in-order prefix), and drops the first
// torn write and everything after it. Restart reads the durable hard state and log back.
//
// The messages that may leave only once a write is durable (Ready::messages_after_persist)
// ride on the write, and a crash loses them with it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "raft/core/core.h"
#include "raft/core/random.h"

namespace ringraft::sim {

struct DiskWrite {
  std::optional<raft::HardState> hard_state;
  std::vector<raft::Entry> entries;
  std::vector<raft::Message> after_persist;
  uint64_t durable_at_ms = 0;
};

class SimDisk {
 public:
  // Queues a write; returns when it will be durable (never before an earlier write).
  uint64_t write(DiskWrite write, uint64_t now_ms, uint64_t fsync_ms);
  // The oldest pending write became durable: applies it and hands it back (for
  // persisted_to and its held messages).
  DiskWrite complete_oldest();
  // Power loss: each pending write, oldest first, survives with flush_percent; the first that
  // does not is torn and dropped with everything after it. Returns how many writes were lost.
  size_t crash(raft::SplitMix64& rng, uint32_t flush_percent);

  // What a restart reads back.
  raft::InitialState durable_state() const;
  const std::vector<raft::Entry>& durable_entries() const { return entries_; }
  const raft::HardState& durable_hard_state() const { return hard_state_; }
  bool has_pending() const { return !pending_.empty(); }

  void check_invariants() const;

 private:
  void apply(const DiskWrite& write);

  raft::HardState hard_state_;
  std::vector<raft::Entry> entries_;  // entry i at entries_[i - 1]
  std::deque<DiskWrite> pending_;     // issued, not yet durable, oldest first
};

}  // namespace ringraft::sim
