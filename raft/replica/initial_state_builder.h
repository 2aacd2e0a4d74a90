// InitialStateBuilder: turns the WAL records recovery replays into each group's
// raft::InitialState (the last hard state, the snapshot it starts from and the log after it),
// the way recovery itself reads them (wal/recovery.h): entries at index i replace everything
// from i on, a truncate cuts the log, a hard state replaces the previous one, a snapshot mark
// beyond the last entry starts the log after it (a follower installed a leader's snapshot).
//
// A mark below the last entry keeps the entries after the previous start: they are what a
// restart replays when the newest snapshot file turned out damaged and an older one is used.
// take() then joins each group's log to its newest valid snapshot file (wal/snapshot_file.h):
// the entries at or below the file's index go (the restored state machine holds them), and a
// log that starts after index + 1 (compacted past the file: the newer file it needs is gone)
// is refused with an error naming both.
#pragma once

#include <map>
#include <optional>

#include "common/result.h"
#include "common/types.h"
#include "raft/core/core.h"
#include "wal/batch_format.h"
#include "wal/snapshot_file.h"

namespace ringraft::replica {

class InitialStateBuilder {
 public:
  // For wal::recover's visitor. The first bad record is remembered and reported by take().
  void visit(Seq seq, const wal::Record& record);
  // Every group's state (groups absent from the WAL and from `snapshots` are absent here), or
  // the first error. `snapshots`: the newest valid snapshot file per group (load_snapshots).
  Result<std::map<GroupId, raft::InitialState>> take(
      const std::map<GroupId, wal::SnapshotInfo>& snapshots = {});

 private:
  struct GroupLog {
    raft::InitialState state;
    LogIndex first_index{1};  // the index of state.entries[0] (where the next entries start)
    LogIndex mark;            // the latest snapshot mark (0: none)
    bool has_entries = false;
  };
  void visit_entries(Seq seq, const wal::Record& record, GroupLog& log);
  Result<void> join_snapshot(GroupId group, GroupLog& log, const wal::SnapshotInfo* snapshot);

  std::map<GroupId, GroupLog> groups_;
  std::optional<Error> error_;
  std::vector<raft::PayloadRef> payloads_scratch_;  // one record's payloads
};

}  // namespace ringraft::replica
