// Snapshot files: a group's state machine image at (index, term), written once, read at restart
// or to send to a follower, beside the WAL's segments.
//
// File `snapshot-<group>-<index>.snap` (both zero-padded to 20 digits so names sort by index):
//
//   header (64 bytes, little-endian)
//     magic u32 kSnapshotMagic, version u32, group u64, index u64, term u64,
//     content_bytes u64, content_crc u32 (CRC32C of the content), header_crc u32 (CRC32C of the
//     header's bytes before it), zero padding to 64
//   configuration (version 2 only): voter_count u32, learner_count u32, the voters' then the
//     learners' ids u64 each, section_crc u32 (CRC32C of the section's bytes before it)
//   content (content_bytes, streamed by the state machine)
//
// The configuration is the group's voters and learners as of `index`: the log entries that
// set it are compacted away with the snapshot, so a restart takes it from here (then from the
// membership entries the log holds after `index`). A version-1 file (written before the
// configuration was recorded) still loads: SnapshotInfo::membership is empty, and the caller
// falls back on the configuration it was started with. A writer given no configuration writes
// version 1.
//
// Writing (SnapshotWriter): the content streams into `<name>.tmp` at offset 64, its CRC
// computed on the way; finish() writes the header, fsyncs the file, renames it to its final
// name and fsyncs the directory. Only then is the snapshot durable, and only then are the
// group's older snapshot files deleted (another directory fsync): there is always one valid
// snapshot on disk. The caller appends the WAL's snapshot mark after finish() returns, so a mark
// never names a snapshot that a crash could take away (wal.h, Compaction).
//
// Loading (load_snapshots): per group, the newest file whose header and content check out; a
// newer file that does not (torn, truncated, bit rot) is skipped with a log line naming it and
// the next older valid one is used. Leftover .tmp files (a crash mid-write) are deleted.
//
// File I/O goes through the seam (ops::openat/write/read/fsync); listing, rename and unlink are
// plain system calls (no io_uring operation in the seam; a few per snapshot, never per entry).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/types.h"
#include "reactor/io.h"
#include "reactor/socket.h"
#include "reactor/task.h"

namespace ringraft::wal {

inline constexpr uint32_t kSnapshotMagic = 0x504e5352;       // "RSNP" read as little-endian bytes
inline constexpr uint32_t kSnapshotVersion = 2;              // with the configuration
inline constexpr uint32_t kSnapshotVersionNoMembership = 1;  // without; still loads
inline constexpr size_t kSnapshotHeaderBytes = 64;
// Bound on voters + learners in a file's configuration: a larger count is a damaged file.
inline constexpr size_t kSnapshotMembersMax = 1024;

// A group's configuration as of a snapshot's index (raft::Membership's ids, without raft/).
struct SnapshotMembership {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners{};
  bool operator==(const SnapshotMembership&) const = default;
};

struct SnapshotInfo {
  GroupId group;
  LogIndex index;
  Term term;
  uint64_t content_bytes = 0;
  std::string path;
  // Where the content starts in the file (after the configuration of a version-2 file).
  uint64_t content_offset_bytes = kSnapshotHeaderBytes;
  // The configuration as of `index`; empty for a version-1 file.
  std::optional<SnapshotMembership> membership{};
};

// "snapshot-00000000000000000007-00000000000000000100.snap" for group 7 at index 100.
std::string snapshot_file_name(GroupId group, LogIndex index);
// The group and index of a snapshot file name, or nothing if `name` is not one.
std::optional<std::pair<GroupId, LogIndex>> parse_snapshot_file_name(std::string_view name);

class SnapshotWriter {
 public:
  // Creates the temporary file. `directory` and `io` must outlive the writer. With a
  // `membership` (at most kSnapshotMembersMax ids) the file is version 2, without version 1.
  static Task<Result<std::unique_ptr<SnapshotWriter>>> create(
      Io& io, const std::string& directory, GroupId group, LogIndex index, Term term,
      std::optional<SnapshotMembership> membership = std::nullopt);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends one chunk of content (any size; written as it comes, never buffered whole).
  Task<Result<void>> append(ConstByteSpan chunk);
  // Makes the snapshot durable under its final name, then deletes the group's older ones.
  Task<Result<SnapshotInfo>> finish();
  // Deletes the temporary file (a snapshot given up). A writer destroyed without finish() or
  // abort() leaves the .tmp file for the next load_snapshots to delete.
  Task<void> abort();

  uint64_t content_bytes() const { return content_bytes_; }

 private:
  SnapshotWriter(Io& io, const std::string& directory, FileDescriptor directory_fd,
                 FileDescriptor fd, SnapshotInfo info);
  Result<void> remove_older() const;

  Io& io_;
  std::string directory_;
  FileDescriptor directory_fd_;
  FileDescriptor fd_;
  SnapshotInfo info_;
  uint64_t content_bytes_ = 0;
  uint32_t content_crc_ = 0;
  bool done_ = false;
};

// The newest valid snapshot of every group in `directory` (see the header comment).
Task<Result<std::map<GroupId, SnapshotInfo>>> load_snapshots(Io& io, const std::string& directory);

// Reads a snapshot's content back (after load_snapshots vouched for it), chunk by chunk.
class SnapshotReader {
 public:
  static Task<Result<SnapshotReader>> open(Io& io, const SnapshotInfo& info);
  // Reads up to into.size() bytes of content; 0 at the end.
  Task<Result<size_t>> read(ByteSpan into);
  uint64_t offset_bytes() const { return offset_bytes_; }

 private:
  SnapshotReader(Io& io, FileDescriptor fd, uint64_t content_offset_bytes, uint64_t content_bytes)
      : io_(&io),
        fd_(std::move(fd)),
        content_offset_bytes_(content_offset_bytes),
        content_bytes_(content_bytes) {}

  Io* io_;
  FileDescriptor fd_;
  uint64_t content_offset_bytes_ = kSnapshotHeaderBytes;
  uint64_t content_bytes_ = 0;
  uint64_t offset_bytes_ = 0;
};

}  // namespace ringraft::wal
