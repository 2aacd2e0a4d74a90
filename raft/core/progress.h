// Progress: what a leader knows about one follower's log (etcd-io/raft's tracker/progress.go).
//
// - match: the highest index known to be replicated on the follower.
// - next:  the next index to send.
// - Probe state: the leader does not know where the logs diverge. It sends one Append at a
//   time and waits (probe_sent) for the answer, walking `next` back with the follower's hints.
// - Replicate state: the logs match up to `match`; the leader streams Appends optimistically,
//   advancing `next` as it sends, within the Inflights window.
// - Snapshot state: the entries the follower needs were compacted away. The leader sends its
//   snapshot in chunks, one in flight (probe_sent), resuming from the offset the follower last
//   acknowledged; once the follower holds it, probe from the snapshot index on.
//
// Invariant: match <= next - 1.
#pragma once

#include <cstdint>

#include "common/types.h"
#include "raft/core/inflights.h"

namespace ringraft::raft {

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };

const char* progress_state_name(ProgressState state);

class Progress {
 public:
  Progress(LogIndex next, uint32_t inflight_count_max, uint64_t inflight_bytes_max);

  ProgressState state() const { return state_; }
  LogIndex match() const { return match_; }
  LogIndex next() const { return next_; }
  const Inflights& inflights() const { return inflights_; }
  bool probe_sent() const { return probe_sent_; }

  // Set when any message arrives from the follower; CheckQuorum reads and clears it.
  bool recent_active = false;
  // The latest heartbeat round of this term the follower answered (read_index.cc).
  uint64_t heartbeat_round_acked = 0;

  void become_probe();
  void become_replicate();
  // Start (or restart, after a newer compaction) sending the snapshot at `snapshot_index`.
  void become_snapshot(LogIndex snapshot_index);

  // Snapshot state: the snapshot being sent and the next byte offset to send.
  LogIndex pending_snapshot() const { return pending_snapshot_; }
  uint64_t snapshot_offset() const { return snapshot_offset_; }
  void sent_snapshot_chunk() { probe_sent_ = true; }
  // The follower expects `offset` next (the chunk arrived, or it asks to resume from there).
  void on_snapshot_response(uint64_t offset);

  // No Append should go out now: a probe awaits its answer, or the window is full.
  bool is_paused() const;
  // An Append with `entry_count` entries ending at `last_index` was just sent.
  void sent_append(uint32_t entry_count, LogIndex last_index, uint64_t payload_bytes);
  // The follower acknowledged entries up to `index`. False if the answer is stale.
  bool maybe_update(LogIndex index);
  // The follower refused an Append whose previous index was `rejected`; `hint_index` is the
  // highest index that may still match. False if the rejection is stale.
  bool maybe_decrease_to(LogIndex rejected, LogIndex hint_index);
  // A heartbeat answer: the follower is alive, so a probe may go out again, and a window that
  // is stuck full (a lost Append) frees its oldest slot.
  void on_heartbeat_response();
  // The leader's own progress: its log is durable up to `index`.
  void set_self_match(LogIndex index, LogIndex last_index);

  void check_invariants() const;

 private:
  ProgressState state_ = ProgressState::kProbe;
  LogIndex match_;
  LogIndex next_;
  bool probe_sent_ = false;
  Inflights inflights_;
  LogIndex pending_snapshot_;
  uint64_t snapshot_offset_ = 0;
};

}  // namespace ringraft::raft
