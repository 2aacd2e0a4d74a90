#include "raft/replica/initial_state_builder.h"

#include <string>
#include <utility>

namespace ringraft::replica {

void InitialStateBuilder::visit(Seq seq, const wal::Record& record) {
  if (error_) return;
  raft::InitialState& state = groups_[record.group];
  switch (record.kind) {
    case wal::RecordKind::kEntries:
      visit_entries(seq, record, state);
      break;
    case wal::RecordKind::kHardState:
      state.hard_state = raft::HardState{record.term, record.vote, record.commit};
      break;
    case wal::RecordKind::kTruncate:
      if (record.index.value() == 0) {
        error_ = Error(ErrorCode::kInvalidInput,
                       "WAL batch " + std::to_string(seq.value()) + ": truncate from index 0");
        return;
      }
      if (record.index.value() - 1 < state.entries.size()) {
        state.entries.resize(record.index.value() - 1);
      }
      break;
    case wal::RecordKind::kSnapshotMark:
      error_ = Error(ErrorCode::kUnsupported,
                     "WAL batch " + std::to_string(seq.value()) + ": group " +
                         std::to_string(record.group.value()) +
                         " has a snapshot mark; this engine does not install snapshots yet");
      return;
  }
}

void InitialStateBuilder::visit_entries(Seq seq, const wal::Record& record,
                                        raft::InitialState& state) {
  const uint64_t first = record.index.value();
  if (first == 0 || first - 1 > state.entries.size()) {
    error_ = Error(ErrorCode::kInvalidInput, "WAL batch " + std::to_string(seq.value()) +
                                                 ": group " + std::to_string(record.group.value()) +
                                                 " entries start at index " +
                                                 std::to_string(first) + " but the log ends at " +
                                                 std::to_string(state.entries.size()) + " (a gap)");
    return;
  }
  state.entries.resize(first - 1);  // entries at i replace everything from i on
  // One block per record: its entries refer to it, as they did to the proposed batch.
  raft::EntryBlockBuilder builder;
  builder.reserve(record.entry_count, record.payload.size());
  size_t offset = 0;
  for (uint32_t i = 0; i < record.entry_count; ++i) {
    const uint32_t length_bytes = record.entry_length_bytes(i);
    builder.add(record.payload.subspan(offset, length_bytes));
    offset += length_bytes;
  }
  payloads_scratch_.clear();
  builder.take(payloads_scratch_);
  for (uint32_t i = 0; i < record.entry_count; ++i) {
    state.entries.push_back(
        raft::Entry{record.term, LogIndex{first + i}, std::move(payloads_scratch_[i])});
  }
}

Result<std::map<GroupId, raft::InitialState>> InitialStateBuilder::take() {
  if (error_) return *error_;
  for (auto& [group, state] : groups_) {
    if (state.hard_state.commit.value() > state.entries.size()) {
      // Entries are written before the hard state that commits them, so this is damage.
      return Error(ErrorCode::kInvalidInput, "WAL: group " + std::to_string(group.value()) +
                                                 " commit index " +
                                                 std::to_string(state.hard_state.commit.value()) +
                                                 " is beyond its last recovered entry " +
                                                 std::to_string(state.entries.size()));
    }
  }
  return std::move(groups_);
}

}  // namespace ringraft::replica
