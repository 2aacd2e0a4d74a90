// StateMachine: what an embedder implements; the engine applies committed entries to it.
//
// apply() is called on the group's shard, in log order, with every committed entry exactly
// once per process lifetime. After a restart the engine restore()s the group's newest snapshot
// (if any) and applies again only the entries after it, so an in-memory state machine rebuilds
// itself from its snapshot and the WAL. It returns one result
// per entry; a proposer receives its entry's result in ProposeResult's Committed. The bytes are
// copied out before apply() is called again, so the results buffer is the engine's to reuse.
//
// Entries with an empty payload (the empty entry each new leader commits, Raft §8) are not
// shown to the state machine: the engine refuses empty commands in propose().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/assert.h"
#include "common/bytes.h"
#include "common/result.h"
#include "common/types.h"

namespace ringraft::replica {

struct CommittedEntry {
  LogIndex index;
  Term term;
  ConstByteSpan payload;  // valid during apply() only
};

// One result per applied entry, packed in one reused buffer (no allocation once warm).
class ApplyResults {
 public:
  void clear() {
    bytes_.clear();
    ends_.clear();
  }
  void push(ConstByteSpan result) {
    bytes_.insert(bytes_.end(), result.begin(), result.end());
    ends_.push_back(bytes_.size());
  }
  size_t count() const { return ends_.size(); }
  ConstByteSpan at(size_t i) const {
    RR_ASSERT(i < ends_.size());
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return ConstByteSpan(bytes_).subspan(begin, ends_[i] - begin);
  }

 private:
  std::vector<std::byte> bytes_;
  std::vector<size_t> ends_;
};

// Where a snapshot goes and where it comes from. The engine keeps the image in memory between
// the state machine and the snapshot file (raft/replica/snapshot_image.h).
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;
  virtual Result<void> write(ConstByteSpan bytes) = 0;
};
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  // Bytes read into `into`; 0 at the end.
  virtual Result<size_t> read(ByteSpan into) = 0;
};

// A snapshot written in steps (StateMachine::snapshot_view): the state as of the moment the view
// was taken, written over several turns while the state machine goes on applying. The engine
// calls write_some() on the shard, once per turn, until it returns true, then destroys the view
// there. Dropping a view early (the engine closing) must be harmless.
class SnapshotView {
 public:
  virtual ~SnapshotView() = default;
  // Writes the next part of the image, about `bytes_max` bytes or more; true once all of it is
  // written.
  virtual Result<bool> write_some(SnapshotWriter& writer, size_t bytes_max) = 0;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies `entries` of `group` in order and pushes exactly one result per entry.
  virtual void apply(GroupId group, std::span<const CommittedEntry> entries,
                     ApplyResults& results) = 0;
  // Writes the state of `group` as of the last applied entry, at once (the engine calls it on
  // the shard between two applies: the image is consistent; the engine writes the file in the
  // background). Called by ShardEngine::snapshot_now and by the automatic trigger
  // (EngineOptions::snapshot_entries / snapshot_log_bytes). The default refuses with
  // kUnsupported, which turns the automatic trigger off for the group.
  virtual Result<void> snapshot(GroupId group, SnapshotWriter& writer);
  // Preferred over snapshot() when it returns a view: the state of `group` as of the last
  // applied entry, captured now (cheaply: copy-on-write, a version, a frozen copy) and written in
  // steps between the engine's turns, so that a large state does not stall the shard. Called
  // where snapshot() would be. The default returns null: snapshot() writes the image at once.
  virtual std::unique_ptr<SnapshotView> snapshot_view(GroupId group);
  // Replaces the state of `group` with a snapshot: at open (the newest valid snapshot file),
  // and on a follower that receives its leader's snapshot. An error at open fails the open; on
  // a follower it stops the shard (as a WAL failure does). The default refuses.
  virtual Result<void> restore(GroupId group, SnapshotReader& reader);
};

}  // namespace ringraft::replica
