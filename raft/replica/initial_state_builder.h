// InitialStateBuilder: turns the WAL records recovery replays into each group's
// raft::InitialState (the last hard state and the log), the way recovery itself reads them
// (wal/recovery.h): entries at index i replace everything from i on, a truncate cuts the log,
// a hard state replaces the previous one. Snapshot marks are refused (not in this slice).
#pragma once

#include <map>
#include <optional>

#include "common/result.h"
#include "common/types.h"
#include "raft/core/core.h"
#include "wal/batch_format.h"

namespace ringraft::replica {

class InitialStateBuilder {
 public:
  // For wal::recover's visitor. The first bad record is remembered and reported by take().
  void visit(Seq seq, const wal::Record& record);
  // Every group's state (groups absent from the WAL are absent here), or the first error.
  Result<std::map<GroupId, raft::InitialState>> take();

 private:
  void visit_entries(Seq seq, const wal::Record& record, raft::InitialState& state);

  std::map<GroupId, raft::InitialState> groups_;
  std::optional<Error> error_;
  std::vector<raft::PayloadRef> payloads_scratch_;  // one record's payloads
};

}  // namespace ringraft::replica
