// RaftLog: the in-memory view of one node's log, and how far along it is on three cursors.
//
//   1 ............ applied ... committed ......... durable ...... written ...... last
//   |<- handed out to apply ->|                   |<- in a Ready, |<- not yet in
//                                                 |   not durable |   any Ready
//
// - written_index: the last entry handed to the caller in a Ready for persisting.
// - durable_index: the last entry the caller reported durable (persisted_to).
// - committed: known to be stored on a quorum (Raft §5.3); never moves back.
// - applied: the last entry handed out to apply; only durable, committed entries are applied.
//
// Invariants: applied <= committed <= last; applied <= durable <= written <= last; entry i sits
// sits at position i - first_index and terms never decrease.
//
// Compaction: entries up to snapshot_index are gone, replaced by a state machine snapshot that
// the caller holds; the log keeps the term of the snapshot index (for the Append consistency
// check and for up-to-date votes), so term_at(snapshot_index) answers and anything below it
// is nullopt. Without a snapshot, snapshot_index is 0 and term_at(0) is 0.
// snapshot_index <= applied: only applied entries are compacted.
//
// Storage: a std::deque, not a vector. The log holds every entry since the last snapshot
// (hundreds of thousands under load); a vector doubling there moved the whole log and faulted
// in twice its memory at once (80-100 ms on the 2-core VM, a p99 stall every time it grew), and
// compaction moved everything after the cut to the front. A deque grows in small chunks and
// drops its front in place.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/types.h"
#include "raft/core/entry.h"

namespace ringraft::raft {

// Entries [from, to] of a log, by reference: valid until the log changes.
class LogView {
 public:
  using Iterator = std::deque<Entry>::const_iterator;
  LogView(Iterator begin, Iterator end) : begin_(begin), end_(end) {}
  Iterator begin() const { return begin_; }
  Iterator end() const { return end_; }
  size_t size() const { return static_cast<size_t>(end_ - begin_); }
  bool empty() const { return begin_ == end_; }
  const Entry& operator[](size_t i) const { return begin_[static_cast<std::ptrdiff_t>(i)]; }
  const Entry& back() const { return *(end_ - 1); }

 private:
  Iterator begin_;
  Iterator end_;
};

class RaftLog {
 public:
  RaftLog() = default;
  // Restart from storage: `entries` are durable, starting at index 1.
  RaftLog(std::vector<Entry> entries, LogIndex committed);
  // Restart from a snapshot at (snapshot_index, snapshot_term) and the durable entries after
  // it; the state machine restored from the snapshot counts as applied up to its index.
  RaftLog(std::vector<Entry> entries, LogIndex committed, LogIndex snapshot_index,
          Term snapshot_term);

  LogIndex snapshot_index() const { return snapshot_index_; }
  Term snapshot_term() const { return snapshot_term_; }
  LogIndex first_index() const { return LogIndex{snapshot_index_.value() + 1}; }
  LogIndex last_index() const { return LogIndex{snapshot_index_.value() + entries_.size()}; }
  Term last_term() const { return entries_.empty() ? snapshot_term_ : entries_.back().term; }
  // The term of entry `index`: the snapshot's term at the snapshot index, nullopt below it
  // (compacted) and beyond the last index.
  std::optional<Term> term_at(LogIndex index) const;
  // The term of entry `index`, which must be in [snapshot_index(), last_index()].
  Term term_of(LogIndex index) const;
  bool match_term(LogIndex index, Term term) const;
  // Raft §5.4.1: a candidate whose last entry is (last_index, last_term) is at least as
  // up to date as this log.
  bool is_up_to_date(LogIndex last_index, Term last_term) const;

  // The follower's append (Raft §5.3): if this log holds (prev_index, prev_term), drop any
  // suffix that conflicts with `entries`, append what is new and return the index of the last
  // entry of the Append. nullopt if the log does not hold (prev_index, prev_term).
  std::optional<LogIndex> maybe_append(LogIndex prev_index, Term prev_term,
                                       std::vector<Entry>&& entries);
  // The leader's append of new entries; they must continue the log at last_index() + 1.
  void append(std::vector<Entry>&& entries);

  // Fast backtracking (etcd-io/raft's findConflictByTerm): the largest index <= `index` whose
  // term is <= `term`. Everything after it cannot match a log whose entry `index` has `term`.
  LogIndex find_conflict_by_term(LogIndex index, Term term) const;

  // Entries [from, last] capped at count_max entries and bytes_max payload bytes, but never
  // fewer than one entry when one exists (a single large entry must still travel).
  std::vector<Entry> slice(LogIndex from, uint32_t count_max, uint64_t bytes_max) const;
  LogView view(LogIndex from, LogIndex to) const;  // [from, to], both in range

  LogIndex committed() const { return committed_; }
  void commit_to(LogIndex index);

  // Ready/advance bookkeeping.
  LogIndex written_index() const { return written_index_; }
  LogIndex durable_index() const { return durable_index_; }
  LogIndex applied() const { return applied_; }
  bool has_unwritten() const { return written_index_ < last_index(); }
  LogView unwritten() const;
  void written_to(LogIndex index);
  // The caller made entries up to `index` durable when entry `index` had term `term`. A report
  // about an entry that has since been overwritten (its term differs) is ignored.
  void durable_to(LogIndex index, Term term);
  // Committed, durable entries not yet handed out to apply.
  LogIndex applicable_index() const;
  void applied_to(LogIndex index);

  // Drops entries up to `index` (<= applied), whose state the caller's snapshot now holds.
  void compact(LogIndex index);
  // A follower installs a leader's snapshot at (index, term) above its commit index: every
  // entry goes, and the snapshot stands for a committed, durable, applied log up to index.
  void restore(LogIndex index, Term term);

  void check_invariants() const;

 private:
  const Entry& at(LogIndex index) const;
  void truncate_from(LogIndex index);

  std::deque<Entry> entries_;  // entry i at entries_[i - first_index()]
  LogIndex snapshot_index_;
  Term snapshot_term_;
  LogIndex committed_;
  LogIndex written_index_;
  LogIndex durable_index_;
  LogIndex applied_;
};

}  // namespace ringraft::raft
