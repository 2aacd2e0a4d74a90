// GroupLog: what the WAL knows about one Raft group's log, to serve reads and decide compaction.
//
// It holds no entry bytes: one Extent per entries record (where the record lives: its batch's
// seq and its ordinal in the batch; where a cached copy lives), the terms as runs (first index,
// term), the snapshot the log starts after, and the seqs of the records a restart still needs
// (the latest hard state, the latest snapshot mark, the oldest retained entries record). It is
// fed the records in log order, from appends and from recovery alike, and applies Raft's rules:
//
// - entries at first index i replace everything from i on (an overwrite by a new leader);
// - truncate(from) removes everything from `from` on;
// - a snapshot mark at index s compacts the log: entries at or below s are no longer readable
//   (their records stop pinning segments once nothing else of them is needed); a mark beyond the
//   end of the log empties it and the log continues at s + 1, as recovery does.
//
// Invariants (check_invariants): extents are contiguous in index and ascending in seq, they end
// at last_index, the first one covers first_index (or there is none); term runs are ascending and
// the last one starts at or before last_index; snapshot_index <= last_index.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "common/types.h"
#include "wal/entry_batch.h"

namespace ringraft::wal {

inline constexpr uint64_t kNotCached = UINT64_MAX;

// One entries record of the group, possibly cut short by a later truncation or overwrite (its
// record on disk and in the cache still holds all of its original entries).
struct Extent {
  LogIndex first_index;
  uint32_t entry_count = 0;              // retained entries; <= the record's own count
  uint32_t record_ordinal = 0;           // the record's place in its batch
  Seq seq;                               // its batch
  uint64_t cache_position = kNotCached;  // EntryCache position of its copy, if it was cached

  LogIndex last_index() const { return LogIndex(first_index.value() + entry_count - 1); }
};

class GroupLog {
 public:
  // Whether entries starting at `first_index` continue (or overwrite) this log: not inside the
  // snapshot, no gap after the last entry. An empty log accepts any start after its snapshot.
  bool accepts(LogIndex first_index) const;
  void append(const Extent& extent, Term term);
  void truncate(LogIndex from_index, Seq seq);
  void snapshot(LogIndex index, Term term, Seq seq);
  void hard_state(Seq seq);

  // The first readable index: snapshot_index + 1 (1 for a log that never had a snapshot).
  LogIndex first_index() const { return LogIndex(snapshot_index_.value() + 1); }
  LogIndex last_index() const { return last_index_; }
  LogIndex snapshot_index() const { return snapshot_index_; }
  // The term of any index in [snapshot_index, last_index] (the snapshot's own index included).
  std::optional<Term> term_at(LogIndex index) const;
  const std::vector<TermRun>& term_runs() const { return term_runs_; }
  // The extents holding [first, last_index()], starting with the one that holds `first`.
  // `first` must lie in [first_index(), last_index()].
  std::pair<std::deque<Extent>::const_iterator, std::deque<Extent>::const_iterator> extents_from(
      LogIndex first) const;
  const std::deque<Extent>& extents() const { return extents_; }

  // The oldest batch a restart still needs for this group (the latest hard state, the latest
  // snapshot mark, the oldest entries record holding an index above the snapshot), or nothing
  // when the group needs no record at all.
  std::optional<Seq> pin_seq() const;
  void check_invariants() const;

 private:
  void drop_from(LogIndex from_index);  // removes [from_index, last_index]
  void drop_through(LogIndex index);    // removes whole extents and term runs at or below index

  std::deque<Extent> extents_;
  std::vector<TermRun> term_runs_;
  LogIndex snapshot_index_;
  Term snapshot_term_;
  bool has_snapshot_ = false;  // snapshot_index_/term_ come from a mark
  LogIndex last_index_;
  std::optional<Seq> hard_state_seq_;
  std::optional<Seq> snapshot_seq_;
};

}  // namespace ringraft::wal
