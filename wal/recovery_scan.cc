#include "wal/recovery_scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "common/assert.h"

namespace ringraft::wal {

Error corruption_error(const std::string& path, uint64_t offset, const std::string& what) {
  return Error(ErrorCode::kInvalidInput,
               fmt::format("WAL corruption in {} at offset {}: {}. This is not a torn write at "
                           "the end of the log, so acknowledged data may be damaged; refusing to "
                           "open. Keep the directory for inspection and rebuild this replica "
                           "from its peers (move the WAL directory aside and rejoin), or, "
                           "accepting the loss of everything from this offset on, truncate the "
                           "log here with the repair option (`ringraft wal verify DIR --repair`)",
                           path, offset, what));
}

namespace {

bool all_zero(ConstByteSpan bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

// Checks that applying the records of `batch` in order leaves no gap in any group's log
// (entries must start at or before the group's last index + 1), without applying them: a batch
// is applied whole or not at all, so a repair can cut before it. Only entries or a snapshot mark
// give a group a log position to be contiguous with: after compaction (wal.h) a group's oldest
// surviving record may be a hard state or a truncate, followed by entries that continue a log
// whose start was released.
Result<void> check_batch_records(const DecodedBatch& batch, const RecoveryReport& report,
                                 const std::string& path, uint64_t batch_offset) {
  // The last index of the groups this batch gave a position to so far.
  std::map<GroupId, LogIndex> positioned;
  RecordCursor cursor(batch);
  Record record;
  while (cursor.next(&record)) {
    std::optional<LogIndex> last;
    if (const auto found = positioned.find(record.group); found != positioned.end()) {
      last = found->second;
    } else if (const auto known = report.groups.find(record.group);
               known != report.groups.end() &&
               (known->second.entries_recovered > 0 || known->second.has_snapshot)) {
      last = known->second.last_index;
    }
    if (record.kind == RecordKind::kEntries && record.entry_count > 0) {
      if (last && record.index.value() > last->value() + 1) {
        return corruption_error(
            path, batch_offset,
            fmt::format("group {}: entries start at index {} but its log ends at {}",
                        record.group.value(), record.index.value(), last->value()));
      }
      positioned[record.group] = LogIndex(record.index.value() + record.entry_count - 1);
    } else if (record.kind == RecordKind::kSnapshotMark) {
      positioned[record.group] = std::max(last.value_or(LogIndex(0)), record.index);
    } else if (record.kind == RecordKind::kTruncate && last) {
      if (record.index.value() > 0 && record.index <= *last) {
        positioned[record.group] = LogIndex(record.index.value() - 1);
      }
    }
  }
  return {};
}

// Applies one record to its group's summary (check_batch_records accepted its batch).
void apply_record(const Record& record, RecoveryReport& report) {
  GroupRecovery& group = report.groups[record.group];
  switch (record.kind) {
    case RecordKind::kEntries:
      if (record.entry_count == 0) break;
      group.last_index = LogIndex(record.index.value() + record.entry_count - 1);
      group.entries_recovered += record.entry_count;
      break;
    case RecordKind::kHardState:
      group.has_hard_state = true;
      group.hard_state_term = record.term;
      group.hard_state_vote = record.vote;
      group.hard_state_commit = record.commit;
      break;
    case RecordKind::kSnapshotMark:
      group.has_snapshot = true;
      group.snapshot_index = record.index;
      group.snapshot_term = record.term;
      group.last_index = std::max(group.last_index, record.index);
      break;
    case RecordKind::kTruncate:
      if (record.index.value() > 0 && record.index <= group.last_index) {
        group.last_index = LogIndex(record.index.value() - 1);
      }
      group.truncations_applied++;
      break;
  }
}

// Applies the valid batches at the start of `bytes` into `scan` (end_offset, batches,
// stop_reason; corruption when a batch leaves a gap in a group's log).
void scan_valid_prefix(ConstByteSpan bytes, const std::string& path, Seq segment_first_seq,
                       Seq* expected_seq, RecoveryReport* report,
                       const LocatedRecordVisitor& visitor, SegmentScan* scan) {
  uint64_t offset = 0;
  while (bytes.size() - offset >= kBatchHeaderBytes &&
         !all_zero(bytes.subspan(offset, kBatchHeaderBytes))) {
    Result<DecodedBatch> decoded = decode_batch(bytes.subspan(offset), offset);
    if (!decoded.ok()) {
      scan->stop_reason = decoded.error().context();
      break;
    }
    const DecodedBatch& batch = decoded.value();
    if (batch.seq < segment_first_seq) {
      scan->stop_reason =
          fmt::format("stale WAL batch (seq {}) at offset {}, from before the segment was recycled",
                      batch.seq.value(), offset);
      break;
    }
    if (batch.seq != *expected_seq) {
      scan->stop_reason = fmt::format("WAL batch at offset {} has seq {} where {} was expected",
                                      offset, batch.seq.value(), expected_seq->value());
      break;
    }
    if (Result<void> checked = check_batch_records(batch, *report, path, offset); !checked.ok()) {
      scan->stop_reason = checked.error().context();
      scan->corruption = checked.error();
      break;
    }
    RecordCursor cursor(batch);
    Record record;
    for (uint32_t ordinal = 0; cursor.next(&record); ordinal++) {
      apply_record(record, *report);
      if (visitor) {
        visitor(batch.seq, record,
                RecordLocation{.segment_first_seq = segment_first_seq,
                               .batch_offset = offset,
                               .record_ordinal = ordinal});
      }
      report->records_recovered++;
    }
    report->batches_recovered++;
    scan->batches++;
    *expected_seq = Seq(expected_seq->value() + 1);
    offset += batch.padded_batch_bytes;
  }
  scan->end_offset = offset;
}

// The first valid batch at or after `from` whose seq lies in [seq_min, seq_max], if any.
std::optional<std::pair<uint64_t, Seq>> find_later_batch(ConstByteSpan bytes, uint64_t from,
                                                         Seq seq_min, Seq seq_max) {
  for (std::optional<FoundBatch> found = next_valid_batch(bytes, from); found;
       found = next_valid_batch(bytes, found->offset + kBatchAlignBytes)) {
    const Seq seq = found->batch.seq;
    if (seq >= seq_min && seq <= seq_max) return std::pair{found->offset, seq};
  }
  return std::nullopt;
}

}  // namespace

SegmentScan scan_segment(ConstByteSpan bytes, const std::string& path, Seq segment_first_seq,
                         bool last, uint32_t fsyncs_in_flight_max, Seq* expected_seq,
                         RecoveryReport* report, const LocatedRecordVisitor& visitor) {
  RR_ASSERT(fsyncs_in_flight_max >= 1);
  SegmentScan scan;
  scan_valid_prefix(bytes, path, segment_first_seq, expected_seq, report, visitor, &scan);
  if (scan.corruption) return scan;
  const uint64_t end_offset = scan.end_offset;
  const std::string& stop_reason = scan.stop_reason;
  // Batches that may follow a torn one without being corruption (see recovery.h).
  const uint64_t unacknowledged = last ? fsyncs_in_flight_max - 1 : 0;
  const Seq tolerated_max(expected_seq->value() + unacknowledged);
  auto later = find_later_batch(bytes, end_offset, *expected_seq, *expected_seq);
  if (!later)
    later = find_later_batch(bytes, end_offset, Seq(tolerated_max.value() + 1), Seq(UINT64_MAX));
  if (later) {
    scan.corruption =
        corruption_error(path, end_offset,
                         fmt::format("{}; yet a valid batch (seq {}) follows at offset {}",
                                     stop_reason.empty() ? "zeroed batch header" : stop_reason,
                                     later->second.value(), later->first));
    return scan;
  }
  scan.tail_zero = all_zero(bytes.subspan(end_offset));
  // An older segment's tail may hold stale batches and the remains of older ones: not checked
  // here; recover() checks that the next segment starts at *expected_seq.
  return scan;
}

uint64_t tail_zero_end(ConstByteSpan bytes, uint64_t from, Seq segment_first_seq) {
  uint64_t first_stale = bytes.size();
  uint64_t written_end = from;
  for (std::optional<FoundBatch> found = next_valid_batch(bytes, from); found;
       found = next_valid_batch(bytes, found->offset + kBatchAlignBytes)) {
    if (found->batch.seq < segment_first_seq) {
      first_stale = std::min(first_stale, found->offset);
    } else {
      written_end = std::max(written_end, found->offset + found->batch.padded_batch_bytes);
    }
  }
  uint64_t debris_end = first_stale;
  while (debris_end > from && bytes[debris_end - 1] == std::byte{0}) debris_end--;
  return std::min<uint64_t>(std::max(debris_end, written_end), bytes.size());
}

}  // namespace ringraft::wal
