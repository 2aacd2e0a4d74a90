// WalIndex: the WAL's map from what Raft asks for (group, log index) to where it lives on disk.
//
// Two tables. Per group a GroupLog (group_log.h): extents of entries records, term runs, the
// snapshot, and the records a restart still needs. Per segment the offset of every batch in it:
// batch seqs are consecutive within a segment, so a seq's offset is offsets[seq - first_seq]
// (8 bytes per batch, no map). Both are fed in log order, from the WAL's appends and writes or
// from recovery (on_recovered, given to recover() as its located visitor), and are equal either
// way: a rebuilt index answers like the one that was lost.
//
// Compaction reads its rule from here (wal.h, "Compaction"): the WAL may release its oldest
// segments while every batch in them is older than pin_seq(), the oldest record some group still
// needs.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "wal/batch_format.h"
#include "wal/group_log.h"
#include "wal/recovery.h"

namespace ringraft::wal {

struct SegmentBatches {
  Seq first_seq;
  std::vector<uint64_t> batch_offsets;  // of seq first_seq + i

  // One past the last batch recorded in this segment.
  Seq end_seq() const { return Seq(first_seq.value() + batch_offsets.size()); }
};

// Where one batch lies.
struct BatchPlace {
  Seq segment_first_seq;
  uint64_t offset = 0;
};

class WalIndex {
 public:
  // Recovery's located visitor: applies one record found on disk. The first record that does not
  // fit the log built so far is remembered and reported by recovered().
  void on_recovered(Seq seq, const Record& record, const RecordLocation& location);
  const std::optional<Error>& recovery_error() const { return recovery_error_; }

  // The WAL's appends (in the order it encodes them).
  bool accepts_entries(GroupId group, LogIndex first_index) const;
  void on_entries(GroupId group, Term term, const Extent& extent);
  void on_truncate(GroupId group, LogIndex from_index, Seq seq);
  void on_snapshot(GroupId group, LogIndex index, Term term, Seq seq);
  void on_hard_state(GroupId group, Seq seq);

  // The WAL's writes: a segment starts; batch `seq` goes to `offset` of the newest segment.
  void on_segment(Seq first_seq);
  void on_batch(Seq seq, uint64_t offset);
  std::optional<BatchPlace> find_batch(Seq seq) const;
  const std::deque<SegmentBatches>& segments() const { return segments_; }
  // Forgets the oldest segment (released by compaction).
  void drop_oldest_segment();

  const GroupLog* group(GroupId group) const;
  const std::map<GroupId, GroupLog>& groups() const { return groups_; }
  // The oldest batch any group still needs, or nothing when no group needs any.
  std::optional<Seq> pin_seq() const;
  void check_invariants() const;

 private:
  GroupLog& group_log(GroupId group) { return groups_[group]; }

  std::map<GroupId, GroupLog> groups_;
  std::deque<SegmentBatches> segments_;
  std::optional<Error> recovery_error_;
};

}  // namespace ringraft::wal
