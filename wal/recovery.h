// Recovery: reads a WAL directory back at start-up, decides what is a crash and what is
// corruption, and says where the writer continues.
//
// Segments are scanned in sequence order; every batch is fully verified (batch_format.h) and
// batch sequence numbers must be consecutive across the whole WAL. The scan of a segment stops
// at the first batch that is not valid (or a zeroed header). What follows decides:
//
// - Nothing valid follows, in the LAST segment: a torn or zeroed tail, the normal result of a
//   crash mid-write. The tail is zeroed from the last valid batch on (and fdatasynced), logged,
//   and the writer continues there. In a recycled segment (wal.h "Compaction") the zeroing
//   stops at the first stale batch (recovery_scan.h tail_zero_end).
// - Nothing valid follows, in an OLDER segment, and the next segment starts at the next seq:
//   the segment was closed early because the next batch did not fit. Normal, whatever the
//   bytes after its last batch (zeros, or a recycled segment's stale batches).
// - Anything else is corruption and recovery refuses with an error naming the file, the offset
//   and what to do: a bad batch followed by a valid batch (a stale batch, its seq below the
//   segment's first, is not one), or a bad batch in an older segment, which shows as a next
//   segment starting past the older one's last valid batch (the writer starts a segment only
//   after every batch of the older one is durable, wal.h).
//   One exception: with fsyncs_in_flight_max = N > 1, up to N - 1 batches after a torn one may
//   have reached the disk without being acknowledged; in the last segment those are discarded
//   with the torn tail (they were never reported durable).
//
// Two options change what is done about it (the scan itself is the same):
// - read_only: nothing is written (files are opened read-only). A torn tail is reported as what
//   would be zeroed; a short last segment is not extended. For inspection (`ringraft wal verify`).
// - repair: corruption is no longer refused; the log is truncated at the first bad batch instead:
//   that segment is zeroed from there, every later segment is removed (directory fsynced), and
//   what was dropped is logged and reported. Everything after the cut is lost, acknowledged or
//   not, so this is an operator's decision (`ringraft wal verify DIR --repair`), never a default.
//
// Per group, records are applied in log order: entries set last_index to their last index (an
// append at index i replaces everything from i on, as in Raft), truncate(from) cuts last_index
// to from - 1, a snapshot mark raises last_index to the snapshot's index; a hard state replaces
// the previous one. Entries that leave a gap after a group's first record are corruption.
//
// Reads go through the I/O seam; listing the directory and fstat are plain system calls
// (start-up only, no io_uring operation exists for them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "reactor/io.h"
#include "reactor/task.h"
#include "wal/batch_format.h"
#include "wal/segment.h"

namespace ringraft::wal {

struct RecoveryOptions {
  std::string directory;
  // The writer's segment size: a last segment found shorter (a crash during its creation) is
  // extended back to it.
  uint64_t segment_bytes = kSegmentBytesDefault;
  // The writer's WalOptions::fsyncs_in_flight_max (see the header comment).
  uint32_t fsyncs_in_flight_max = 1;
  // Files larger than this are refused rather than read into memory.
  uint64_t segment_bytes_limit = uint64_t{1} << 30;
  // Inspect only: never write (see the header comment). Excludes repair.
  bool read_only = false;
  // Truncate the log at corruption instead of refusing (see the header comment).
  bool repair = false;
};

struct GroupRecovery {
  LogIndex last_index;  // 0: no entries and no snapshot
  bool has_hard_state = false;
  Term hard_state_term;
  NodeId hard_state_vote;
  LogIndex hard_state_commit;
  bool has_snapshot = false;
  LogIndex snapshot_index;
  Term snapshot_term;
  uint64_t entries_recovered = 0;  // entries read, including ones later truncated
  uint64_t truncations_applied = 0;
};

// One scanned segment, as the scan found it (before any repair removed it).
struct SegmentRecovery {
  std::string path;
  Seq first_seq;
  uint64_t file_bytes = 0;
  uint64_t batches = 0;
  uint64_t end_offset = 0;  // end of its last valid batch
};

// What a repair dropped: empty path when nothing was.
struct RepairReport {
  std::string path;                           // the segment cut
  uint64_t offset = 0;                        // where it was cut
  uint64_t bytes_zeroed = 0;                  // in that segment
  std::string reason;                         // the corruption found there
  std::vector<std::string> segments_removed;  // later segments, deleted
  uint64_t bytes_removed = 0;                 // their file sizes
};

struct RecoveryReport {
  WalPosition position;  // where Wal::open continues
  std::map<GroupId, GroupRecovery> groups;
  uint64_t segments_scanned = 0;
  uint64_t batches_recovered = 0;
  uint64_t records_recovered = 0;
  // A torn tail that was zeroed: its file and offset (empty path when there was none).
  std::string torn_tail_path;
  uint64_t torn_tail_offset = 0;
  uint64_t torn_tail_bytes = 0;  // bytes zeroed (read_only: bytes that would be zeroed)
  std::string torn_tail_reason;  // why the scan stopped there
  // Every segment scanned, in order.
  std::vector<SegmentRecovery> segments;
  // With repair: what was cut.
  RepairReport repair;
};

// Called for every record of every verified batch, in order. When recovery then fails, the
// caller discards what it was shown.
using RecordVisitor = std::function<void(Seq seq, const Record& record)>;

// Where a record was found: its segment, its batch's offset in that segment, the record's ordinal
// in the batch. Together with the batch's seq this is enough to read the record back later.
struct RecordLocation {
  Seq segment_first_seq;
  uint64_t batch_offset = 0;
  uint32_t record_ordinal = 0;
};
using LocatedRecordVisitor =
    std::function<void(Seq seq, const Record& record, const RecordLocation& location)>;

// `options` and `visitor` are held by reference: await the task in the expression that calls
// recover() (as every caller does), or keep both alive until it finishes.
Task<Result<RecoveryReport>> recover(Io& io, const RecoveryOptions& options,
                                     const RecordVisitor& visitor = {});
// The same, showing each record's location as well (for the WAL's read index).
Task<Result<RecoveryReport>> recover(Io& io, const RecoveryOptions& options,
                                     const LocatedRecordVisitor& visitor);

}  // namespace ringraft::wal
