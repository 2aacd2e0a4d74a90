// The scan of one segment's bytes, without I/O: the part of recovery (recovery.h) that reads
// untrusted disk bytes, separate so that a fuzzer can drive it alone (tests/fuzz/
// wal_recovery_fuzz.cc) and so that recover() keeps only the I/O and the decisions about files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "common/types.h"
#include "wal/recovery.h"

namespace ringraft::wal {

// The scan of one segment's bytes, without I/O: what recover() decides for that segment.
struct SegmentScan {
  uint64_t end_offset = 0;  // end of the last valid batch applied
  uint64_t batches = 0;     // batches applied
  std::string stop_reason;  // why the scan stopped at end_offset (empty: end or zeroed header)
  bool tail_zero = true;    // only zeros after end_offset
  // Set when the segment is corrupt at end_offset (a repair cuts there); batches before it were
  // applied, nothing at or after it was.
  std::optional<Error> corruption;
};

// A segment may be recycled (wal.h "Compaction"): behind its batches it then holds stale ones
// from its previous life, valid but with seqs below `segment_first_seq`. The scan stops at one
// as at a zeroed header (its seq is not the next one), it is never taken as valid data after a
// bad batch, and in an older segment the bytes after the last batch are not checked at all:
// what proves an older segment whole is that the next segment starts at the next seq.
//
// Scans `bytes`, the whole of segment `path` (`last`: the newest segment; `segment_first_seq`:
// its name, for the records' locations), applying its valid batches to `report` and `visitor`
// from `*expected_seq` on, which it advances. Reads only inside `bytes`, whatever they hold
// (fuzzed: tests/fuzz/wal_recovery_fuzz.cc).
SegmentScan scan_segment(ConstByteSpan bytes, const std::string& path, Seq segment_first_seq,
                         bool last, uint32_t fsyncs_in_flight_max, Seq* expected_seq,
                         RecoveryReport* report, const LocatedRecordVisitor& visitor);

// Where recovery's zeroing of the last segment's tail (from `end_offset`, where the writer
// continues) ends: past every valid batch after it with a seq >= `segment_first_seq` (a torn
// batch's successors, written but never acknowledged, or everything after a repair's cut), and
// past the last non-zero byte before the first stale batch (a torn batch; in a segment never
// recycled, the last non-zero byte of the file). Stale batches and what follows the first of
// them stay: their seqs are below any the log will use again.
uint64_t tail_zero_end(ConstByteSpan bytes, uint64_t end_offset, Seq segment_first_seq);

// The error recovery refuses corruption with: names the file, the offset, what was found, and
// the way out (rebuild from peers, or cut the log with the repair option).
Error corruption_error(const std::string& path, uint64_t offset, const std::string& what);

}  // namespace ringraft::wal
