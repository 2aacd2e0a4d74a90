#include "raft/replica/initial_state_builder.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace ringraft::replica {
namespace {

uint64_t last_index(const raft::InitialState& state, LogIndex first_index) {
  return first_index.value() - 1 + state.entries.size();
}

// A snapshot file's configuration passed its CRC; a well-formed one is still checked (one
// voter at least, no id 0, no id twice) before the core relies on it.
Result<void> check_membership(const wal::SnapshotMembership& membership, const std::string& path) {
  const auto bad = [&path](const std::string& what) {
    return Error(ErrorCode::kInvalidInput,
                 "snapshot " + path + ": its configuration " + what + "; refusing to start");
  };
  if (membership.voters.empty()) return bad("has no voter");
  std::vector<NodeId> ids = membership.voters;
  ids.insert(ids.end(), membership.learners.begin(), membership.learners.end());
  std::sort(ids.begin(), ids.end());
  if (ids.front() == NodeId{0}) return bad("names node 0");
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) return bad("names a node twice");
  return {};
}

}  // namespace

void InitialStateBuilder::visit(Seq seq, const wal::Record& record) {
  if (error_) return;
  GroupLog& log = groups_[record.group];
  raft::InitialState& state = log.state;
  switch (record.kind) {
    case wal::RecordKind::kEntries:
      visit_entries(seq, record, log);
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
      if (record.index <= log.first_index) {
        state.entries.clear();
      } else if (record.index.value() - log.first_index.value() < state.entries.size()) {
        state.entries.resize(record.index.value() - log.first_index.value());
      }
      break;
    case wal::RecordKind::kSnapshotMark:
      log.mark = std::max(log.mark, record.index);
      // An installed snapshot beyond the log replaces it; the log resumes after it.
      if (record.index.value() > last_index(state, log.first_index)) {
        state.entries.clear();
        log.first_index = LogIndex{record.index.value() + 1};
      }
      break;
  }
}

void InitialStateBuilder::visit_entries(Seq seq, const wal::Record& record, GroupLog& log) {
  raft::InitialState& state = log.state;
  const uint64_t first = record.index.value();
  if (!log.has_entries && log.mark.value() == 0 && first > 0) {
    // The group's oldest surviving entries: the log before them was released (compaction).
    log.first_index = record.index;
  }
  log.has_entries = true;
  if (first < log.first_index.value() || first > last_index(state, log.first_index) + 1) {
    error_ = Error(ErrorCode::kInvalidInput,
                   "WAL batch " + std::to_string(seq.value()) + ": group " +
                       std::to_string(record.group.value()) + " entries start at index " +
                       std::to_string(first) + " but the log holds [" +
                       std::to_string(log.first_index.value()) + ", " +
                       std::to_string(last_index(state, log.first_index)) + "] (a gap)");
    return;
  }
  state.entries.resize(first - log.first_index.value());  // entries at i replace i on
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

Result<void> InitialStateBuilder::join_snapshot(GroupId group, GroupLog& log,
                                                const wal::SnapshotInfo* snapshot) {
  raft::InitialState& state = log.state;
  const uint64_t snapshot_index = snapshot != nullptr ? snapshot->index.value() : 0;
  if (log.first_index.value() > snapshot_index + 1) {
    return Error(
        ErrorCode::kInvalidInput,
        "group " + std::to_string(group.value()) + ": the WAL holds the log from index " +
            std::to_string(log.first_index.value()) + " (compacted to snapshot mark " +
            std::to_string(log.mark.value()) + ") but the newest valid snapshot " +
            (snapshot != nullptr ? "file is " + snapshot->path : std::string("file is missing")) +
            ": entries " + std::to_string(snapshot_index + 1) + ".." +
            std::to_string(log.first_index.value() - 1) +
            " are lost; refusing to start (restore the group's newer snapshot file)");
  }
  if (snapshot == nullptr) return {};
  // The restored state machine holds every entry up to the snapshot's index.
  const uint64_t covered = snapshot_index + 1 - log.first_index.value();
  if (covered >= state.entries.size()) {
    state.entries.clear();
  } else {
    state.entries.erase(state.entries.begin(),
                        state.entries.begin() + static_cast<std::ptrdiff_t>(covered));
  }
  log.first_index = LogIndex{snapshot_index + 1};
  raft::SnapshotMeta meta;
  meta.index = snapshot->index;
  meta.term = snapshot->term;
  meta.size_bytes = snapshot->content_bytes;
  // The configuration as of the snapshot (the entries that set it are compacted away); none
  // in a version-1 file: the engine then takes its options' (ShardEngine::build_core).
  if (snapshot->membership.has_value()) {
    Result<void> valid = check_membership(*snapshot->membership, snapshot->path);
    if (!valid) return valid;
    meta.voters = snapshot->membership->voters;
    meta.learners = snapshot->membership->learners;
  }
  state.snapshot = std::move(meta);
  if (state.hard_state.commit < snapshot->index) state.hard_state.commit = snapshot->index;
  if (state.hard_state.term < snapshot->term) state.hard_state.term = snapshot->term;
  return {};
}

Result<std::map<GroupId, raft::InitialState>> InitialStateBuilder::take(
    const std::map<GroupId, wal::SnapshotInfo>& snapshots) {
  if (error_) return *error_;
  for (const auto& [group, info] : snapshots) groups_[group];
  std::map<GroupId, raft::InitialState> states;
  for (auto& [group, log] : groups_) {
    const auto found = snapshots.find(group);
    Result<void> joined =
        join_snapshot(group, log, found == snapshots.end() ? nullptr : &found->second);
    if (!joined) return joined.error();
    const raft::InitialState& state = log.state;
    if (state.hard_state.commit.value() > last_index(state, log.first_index)) {
      // Entries are written before the hard state that commits them, so this is damage.
      return Error(ErrorCode::kInvalidInput,
                   "WAL: group " + std::to_string(group.value()) + " commit index " +
                       std::to_string(state.hard_state.commit.value()) +
                       " is beyond its last recovered entry " +
                       std::to_string(last_index(state, log.first_index)));
    }
    states.emplace(group, std::move(log.state));
  }
  return states;
}

}  // namespace ringraft::replica
