// Segment files: the fixed-size, preallocated files the WAL's batches live in.
//
// A segment is named by the sequence number of the first batch it holds, zero-padded to 20
// digits so that names sort in sequence order (`00000000000000000001.wal`). It is created at
// its full size with fallocate and never changes size afterwards, so an fdatasync after a write
// covers everything needed to read the write back; creating it also fsyncs the file (its size)
// and the directory (its name), so a segment that exists after a crash has its full size.
//
// Creating and opening go through the reactor's I/O seam (ops::openat, ops::fallocate,
// ops::fsync); nothing here is on the per-append path.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/types.h"
#include "reactor/io.h"
#include "reactor/socket.h"
#include "reactor/task.h"

namespace ringraft::wal {

inline constexpr uint64_t kSegmentBytesDefault = uint64_t{64} << 20;
inline constexpr std::string_view kSegmentSuffix = ".wal";

// "00000000000000000001.wal" for Seq(1).
std::string segment_file_name(Seq first_seq);
// The first sequence number of a segment file name, or nothing if `name` is not one.
std::optional<Seq> parse_segment_file_name(std::string_view name);

struct Segment {
  FileDescriptor fd;
  Seq first_seq;
  uint64_t segment_bytes = 0;
  uint64_t write_offset_bytes = 0;  // where the next batch goes; <= segment_bytes
  std::string path;                 // for messages

  uint64_t free_bytes() const { return segment_bytes - write_offset_bytes; }
};

// Where a WAL continues writing, as recovery found it (see recovery.h). A fresh WAL has no
// segment yet and starts at sequence 1.
struct WalPosition {
  Seq next_seq{1};                       // the sequence number of the next batch
  std::optional<Seq> segment_first_seq;  // the last segment, to continue writing in
  uint64_t segment_bytes = 0;            // that segment's size
  uint64_t write_offset_bytes = 0;       // end of its last valid batch
};

// Opens `directory` for fsyncs and openat (O_DIRECTORY).
Task<Result<FileDescriptor>> open_directory(Io& io, const std::string& directory);

// Creates segment `first_seq` in the directory (it must not exist), preallocates
// `segment_bytes`, and makes both durable (file fsync, directory fsync).
Task<Result<Segment>> create_segment(Io& io, int directory_fd, const std::string& directory,
                                     Seq first_seq, uint64_t segment_bytes);

// The next segment is prepared ahead of time under this name (no seq yet: its first seq is only
// known at the roll), so that a roll renames a full-size file instead of waiting for fallocate
// and a file fsync. Recovery ignores the name; Wal::open deletes a leftover.
inline constexpr std::string_view kPreparedSegmentName = "next-segment.wal.prepared";

// Creates kPreparedSegmentName (it must not exist) at `segment_bytes` and fsyncs it. Its name
// becomes durable only with name_prepared_segment's directory fsync.
Task<Result<Segment>> prepare_segment(Io& io, int directory_fd, const std::string& directory,
                                      uint64_t segment_bytes);

// What a new prepared segment holds before its first batch (WalOptions::segment_fill).
enum class SegmentFill : uint8_t {
  // Written zeros: fallocate, then zeros written over the whole file (kZeroFillChunkBytes per
  // write, one at a time into the page cache, from one static zero buffer), then the one fsync
  // it had anyway, which writes them back in bulk. An
  // fdatasync after a batch written there has no unwritten extent to convert (ext4, XFS: that
  // conversion is metadata I/O in every fdatasync), at the price of writing the segment twice.
  kZeroes,
  // fallocate only (unwritten extents): quick to create, slower to sync into.
  kAllocateOnly,
};
inline constexpr size_t kZeroFillChunkBytes = size_t{1} << 20;

// Writes zeros over [from, to) of `segment` (1 MiB writes from one static, block-aligned zero
// buffer, so O_DIRECT segments too when both ends are block-aligned); the caller syncs.
Task<Result<void>> write_zeros(Io& io, const Segment& segment, uint64_t from, uint64_t to);

// The same, filled as `fill` says.
Task<Result<Segment>> prepare_segment(Io& io, int directory_fd, const std::string& directory,
                                      uint64_t segment_bytes, SegmentFill fill);

// Spare segments: released segments kept for reuse instead of deleted (wal.h "Compaction"),
// named by a bound on what they still hold: every batch in spare `stale_below` has a seq below
// it ("spare-00000000000000000042.wal.spare"). Recovery ignores the name. A spare may become
// a segment only at a seq >= its bound, so its stale batches can never pass for the log's.
inline constexpr std::string_view kSpareSegmentPrefix = "spare-";
inline constexpr std::string_view kSpareSegmentSuffix = ".wal.spare";
std::string spare_segment_file_name(Seq stale_below);
std::optional<Seq> parse_spare_segment_file_name(std::string_view name);

// Renames segment `first_seq` to spare `stale_below` (never over an existing file). The
// caller fsyncs the directory. A plain system call, once per released segment.
Result<void> make_spare_segment(int directory_fd, const std::string& directory, Seq first_seq,
                                Seq stale_below);
// Renames spare `stale_below` to kPreparedSegmentName and opens it; its size must be
// `segment_bytes` (kInvalidInput otherwise: the caller deletes it). Its content stays: stale
// batches, all below the bound. No fsync: it was durable at full size since its creation, and
// its new name becomes durable with name_prepared_segment's directory fsync.
Task<Result<Segment>> prepare_from_spare(Io& io, int directory_fd, const std::string& directory,
                                         Seq stale_below, uint64_t segment_bytes);
// Renames a prepared segment to segment `first_seq` (never over an existing file: EEXIST) and
// fsyncs the directory. The rename is a plain system call (no rename in the I/O seam; once per
// segment).
Task<Result<void>> name_prepared_segment(Io& io, int directory_fd, const std::string& directory,
                                         Segment& segment, Seq first_seq);

// Reopens `segment` by its path with O_RDWR | `open_flags` (O_DIRECT, O_DSYNC) and closes the
// descriptor it had; its position is unchanged. Segments are created and fallocated without
// these flags and reopened with them, so a filesystem that refuses O_DIRECT (EINVAL here)
// leaves nothing half-made: that refusal is kUnsupported, naming the directory.
Task<Result<void>> reopen_segment(Io& io, Segment& segment, int open_flags);

// Opens an existing segment for writing at `write_offset_bytes`.
Task<Result<Segment>> open_segment(Io& io, int directory_fd, const std::string& directory,
                                   Seq first_seq, uint64_t segment_bytes,
                                   uint64_t write_offset_bytes);

}  // namespace ringraft::wal
