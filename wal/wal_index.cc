#include "wal/wal_index.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/assert.h"

namespace ringraft::wal {

void WalIndex::on_recovered(Seq seq, const Record& record, const RecordLocation& location) {
  if (segments_.empty() || segments_.back().first_seq != location.segment_first_seq) {
    on_segment(location.segment_first_seq);
  }
  if (segments_.back().end_seq() <= seq) on_batch(seq, location.batch_offset);
  if (recovery_error_) return;
  switch (record.kind) {
    case RecordKind::kEntries: {
      if (record.entry_count == 0) return;
      if (!accepts_entries(record.group, record.index)) {
        const GroupLog& log = groups_[record.group];
        recovery_error_.emplace(
            ErrorCode::kInvalidInput,
            fmt::format("WAL batch seq {} at offset {} of segment {}: group {} entries at index {} "
                        "do not continue its log (first index {}, last index {})",
                        seq.value(), location.batch_offset, location.segment_first_seq.value(),
                        record.group.value(), record.index.value(), log.first_index().value(),
                        log.last_index().value()));
        return;
      }
      Extent extent;
      extent.first_index = record.index;
      extent.entry_count = record.entry_count;
      extent.record_ordinal = location.record_ordinal;
      extent.seq = seq;
      on_entries(record.group, record.term, extent);
      return;
    }
    case RecordKind::kHardState:
      on_hard_state(record.group, seq);
      return;
    case RecordKind::kSnapshotMark: {
      // An older mark after a newer one: keep the newer snapshot (the WAL refuses to write one).
      const GroupLog& log = groups_[record.group];
      if (record.index < log.snapshot_index()) return;
      on_snapshot(record.group, record.index, record.term, seq);
      return;
    }
    case RecordKind::kTruncate:
      on_truncate(record.group, record.index, seq);
      return;
  }
}

bool WalIndex::accepts_entries(GroupId group, LogIndex first_index) const {
  const auto found = groups_.find(group);
  if (found == groups_.end()) return first_index.value() > 0;
  return found->second.accepts(first_index);
}

void WalIndex::on_entries(GroupId group, Term term, const Extent& extent) {
  group_log(group).append(extent, term);
}

void WalIndex::on_truncate(GroupId group, LogIndex from_index, Seq seq) {
  group_log(group).truncate(from_index, seq);
}

void WalIndex::on_snapshot(GroupId group, LogIndex index, Term term, Seq seq) {
  group_log(group).snapshot(index, term, seq);
}

void WalIndex::on_hard_state(GroupId group, Seq seq) {
  group_log(group).hard_state(seq);
}

void WalIndex::on_segment(Seq first_seq) {
  RR_ASSERT(segments_.empty() || segments_.back().end_seq() <= first_seq);
  segments_.push_back(SegmentBatches{.first_seq = first_seq, .batch_offsets = {}});
}

void WalIndex::on_batch(Seq seq, uint64_t offset) {
  RR_ASSERT(!segments_.empty());
  SegmentBatches& segment = segments_.back();
  RR_ASSERT(seq >= segment.end_seq());
  // A batch without records (never written by the WAL, but legal on disk) leaves a hole that
  // no read asks for; fill it with the next offset.
  while (segment.end_seq() <= seq) segment.batch_offsets.push_back(offset);
}

std::optional<BatchPlace> WalIndex::find_batch(Seq seq) const {
  auto after =
      std::upper_bound(segments_.begin(), segments_.end(), seq,
                       [](Seq s, const SegmentBatches& segment) { return s < segment.first_seq; });
  if (after == segments_.begin()) return std::nullopt;
  const SegmentBatches& segment = *std::prev(after);
  if (seq >= segment.end_seq()) return std::nullopt;
  return BatchPlace{segment.first_seq,
                    segment.batch_offsets[seq.value() - segment.first_seq.value()]};
}

void WalIndex::drop_oldest_segment() {
  RR_ASSERT(segments_.size() > 1);
  segments_.pop_front();
}

const GroupLog* WalIndex::group(GroupId group) const {
  const auto found = groups_.find(group);
  return found == groups_.end() ? nullptr : &found->second;
}

std::optional<Seq> WalIndex::pin_seq() const {
  std::optional<Seq> pin;
  for (const auto& [id, log] : groups_) {
    const std::optional<Seq> group_pin = log.pin_seq();
    if (group_pin && (!pin || *group_pin < *pin)) pin = group_pin;
  }
  return pin;
}

void WalIndex::check_invariants() const {
  for (size_t i = 1; i < segments_.size(); i++) {
    RR_ASSERT(segments_[i - 1].end_seq() <= segments_[i].first_seq);
  }
  for (const auto& [id, log] : groups_) log.check_invariants();
}

}  // namespace ringraft::wal
