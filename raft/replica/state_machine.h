// StateMachine: what an embedder implements; the engine applies committed entries to it.
//
// apply() is called on the group's shard, in log order, with every committed entry exactly
// once per process lifetime (no snapshots yet: after a restart the engine applies again from
// index 1, so an in-memory state machine rebuilds itself from the WAL). It returns one result
// per entry; a proposer receives its entry's result in ProposeResult's Committed. The bytes are
// copied out before apply() is called again, so the results buffer is the engine's to reuse.
//
// Entries with an empty payload (the empty entry each new leader commits, Raft §8) are not
// shown to the state machine: the engine refuses empty commands in propose().
#pragma once

#include <cstdint>
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

// Where a snapshot goes and where it comes from (declared for the embedding API; this slice
// neither takes nor installs snapshots, see snapshot()/restore()).
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

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies `entries` of `group` in order and pushes exactly one result per entry.
  virtual void apply(GroupId group, std::span<const CommittedEntry> entries,
                     ApplyResults& results) = 0;
  // NOT called in this slice (no snapshots yet): writes the state of `group` as of the last
  // applied entry. The default refuses.
  virtual Result<void> snapshot(GroupId group, SnapshotWriter& writer);
  // NOT called in this slice: replaces the state of `group` with a snapshot. The default
  // refuses.
  virtual Result<void> restore(GroupId group, SnapshotReader& reader);
};

}  // namespace ringraft::replica
