// EntryBatch: a run of consecutive entries of one group, as the WAL hands them to a reader
// (a leader sending to a slow follower, a replica applying committed entries).
//
// The entries are one contiguous block in the WAL's own entry block shape: count x u32 little-
// endian lengths, then the concatenated payloads. That is the shape an entries record carries and
// the shape the transport sends, so a reader forwards it without re-encoding. Terms travel as
// runs (first index, term), one per change of term, not one per entry.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/types.h"

namespace ringraft::wal {

// Entries from first_index on have `term`, until the next run's first_index.
struct TermRun {
  LogIndex first_index;
  Term term;

  bool operator==(const TermRun&) const = default;
};

struct EntryBatch {
  GroupId group;
  LogIndex first_index;  // of the first entry; meaningless when entry_count == 0
  uint32_t entry_count = 0;
  std::vector<std::byte> block;    // entry_count x u32 lengths, then the payloads
  std::vector<TermRun> term_runs;  // ascending first_index; the first covers first_index

  bool empty() const { return entry_count == 0; }
  LogIndex last_index() const { return LogIndex(first_index.value() + entry_count - 1); }
  uint32_t entry_length_bytes(uint32_t entry) const;
  // The payload bytes of all entries (the block after the lengths).
  ConstByteSpan payload() const;
  // The bytes of entry number `entry` (0 for first_index).
  ConstByteSpan entry(uint32_t entry) const;
  // The term of `index`, which must lie in [first_index, last_index].
  Term term_at(LogIndex index) const;
};

// The term of `index` according to `runs` (ascending first_index), or nothing when `index` lies
// before the first run. Runs say nothing about where the log ends: callers check that.
std::optional<Term> term_in_runs(std::span<const TermRun> runs, LogIndex index);

}  // namespace ringraft::wal
