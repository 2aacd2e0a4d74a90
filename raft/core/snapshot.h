// Snapshots: what a compaction point is, and the pieces an InstallSnapshot transfer moves.
//
// The caller owns snapshot bytes; the core only names them. The leader's caller keeps its
// latest snapshot (the one given to Core::compact) readable until the next compact, and fills
// each outgoing kSnapshot message with bytes [snapshot_offset, snapshot_offset +
// snapshot_chunk_bytes) of it; the follower's caller writes the chunks it is handed in
// Ready::snapshot_chunks and, on Ready::snapshot, restores its state machine from the file.
// The whole snapshot is never in the core's memory: one chunk travels per message, and one
// chunk per follower is in flight (a lost chunk is resent from the last acknowledged offset
// after the next heartbeat answer).
#pragma once

#include <cstdint>
#include <vector>

#include "common/types.h"
#include "raft/core/entry.h"

namespace ringraft::raft {

struct SnapshotMeta {
  LogIndex index;  // the last entry the snapshot covers
  Term term;       // that entry's term
  uint64_t size_bytes = 0;
  std::vector<NodeId> voters;  // the configuration as of `index`
  std::vector<NodeId> learners{};
  bool operator==(const SnapshotMeta&) const = default;
};

// A follower's piece of an incoming snapshot: write `data` at `offset` of the snapshot file
// for (meta.index, meta.term). Offset 0 starts a new file (drop any partial one).
struct SnapshotChunk {
  SnapshotMeta meta;
  uint64_t offset = 0;
  Payload data;
};

}  // namespace ringraft::raft
