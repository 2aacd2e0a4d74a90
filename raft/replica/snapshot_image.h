// Snapshot images: the bytes a StateMachine writes for one group, between it and the snapshot
// files of wal/snapshot_file.h.
//
// A state machine's snapshot calls are synchronous (an embedder's state machine knows nothing of
// the reactor), so the engine takes the image in memory: either snapshot() serialises it at
// once, on the shard, between two turns, or (StateMachine::snapshot_view) a view captured at once
// writes it in steps of kSnapshotStepBytes, one per turn, while the shard serves; the file is then
// written, fsynced and renamed by io_uring operations while the engine keeps serving (no turn
// waits for the file). Restoring reads the file through the reactor into memory, then hands it
// to restore(). The image is therefore bounded by the state machine's size, held once during a
// snapshot (streaming it to the file as it is written would lift that: not done yet).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/types.h"
#include "raft/replica/state_machine.h"
#include "reactor/io.h"
#include "reactor/task.h"
#include "wal/snapshot_file.h"

namespace ringraft::replica {

// Collects what a state machine writes.
class ImageWriter final : public SnapshotWriter {
 public:
  Result<void> write(ConstByteSpan bytes) override;
  const std::vector<std::byte>& bytes() const { return bytes_; }
  // Room for an image of about this size: growing a vector of tens of MiB by doubling copies
  // it again and faults in fresh pages at every step, all on the shard between two turns.
  void reserve(size_t bytes) { bytes_.reserve(bytes); }

 private:
  std::vector<std::byte> bytes_;
};

// Hands an image to a state machine, in reads of any size.
class ImageReader final : public SnapshotReader {
 public:
  explicit ImageReader(ConstByteSpan bytes) : bytes_(bytes) {}
  Result<size_t> read(ByteSpan into) override;

 private:
  ConstByteSpan bytes_;
  size_t offset_ = 0;
};

// Writes `image` as the snapshot file of (group, index, term) in `directory`, with the
// group's configuration as of `index`: in pieces of kImageWriteBytes, then fsync, rename and
// directory fsync (wal::SnapshotWriter::finish).
inline constexpr size_t kImageWriteBytes = size_t{1} << 20;
Task<Result<wal::SnapshotInfo>> write_image_file(Io& io, const std::string& directory,
                                                 GroupId group, LogIndex index, Term term,
                                                 std::optional<wal::SnapshotMembership> membership,
                                                 ConstByteSpan image);
// The whole content of a snapshot file that load_snapshots (or finish) vouched for.
Task<Result<std::vector<std::byte>>> read_image_file(Io& io, const wal::SnapshotInfo& info);
// Content bytes [offset, offset + bytes) of a snapshot file: one chunk for a follower.
Task<Result<std::vector<std::byte>>> read_image_range(Io& io, wal::SnapshotInfo info,
                                                      uint64_t offset, uint64_t bytes);

}  // namespace ringraft::replica
