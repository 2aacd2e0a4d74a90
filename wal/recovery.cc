#include "wal/recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "common/assert.h"
#include "common/log.h"
#include "reactor/ops.h"
#include "wal/recovery_scan.h"

namespace ringraft::wal {

namespace {

constexpr size_t kReadChunkBytes = size_t{16} << 20;
constexpr size_t kZeroChunkBytes = size_t{64} << 10;

struct SegmentFile {
  Seq first_seq;
  std::string path;
};

Result<std::vector<SegmentFile>> list_segments(const std::string& directory) {
  DIR* listing = ::opendir(directory.c_str());
  if (listing == nullptr) {
    return Error::from_errno(errno, fmt::format("listing WAL directory {}", directory));
  }
  std::vector<SegmentFile> segments;
  while (const dirent* entry = ::readdir(listing)) {
    if (std::optional<Seq> first = parse_segment_file_name(entry->d_name)) {
      segments.push_back(SegmentFile{*first, directory + "/" + entry->d_name});
    }
  }
  ::closedir(listing);
  std::sort(segments.begin(), segments.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_seq < b.first_seq; });
  return segments;
}

// Reads the whole file into `into` (resized to the file's size).
Task<Result<void>> read_segment(Io& io, int fd, const RecoveryOptions& options,
                                const std::string& path, std::vector<std::byte>& into) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) co_return Error::from_errno(errno, "fstat of " + path);
  const auto file_bytes = static_cast<uint64_t>(status.st_size);
  if (file_bytes > options.segment_bytes_limit) {
    co_return Error(ErrorCode::kInvalidInput,
                    fmt::format("WAL segment {} is {} bytes, over the limit of {}", path,
                                file_bytes, options.segment_bytes_limit));
  }
  into.resize(file_bytes);
  for (uint64_t offset = 0; offset < file_bytes; offset += kReadChunkBytes) {
    const size_t chunk_bytes = std::min<uint64_t>(kReadChunkBytes, file_bytes - offset);
    const IoResult read =
        co_await ops::read_exact(io, fd, ByteSpan(into).subspan(offset, chunk_bytes), offset);
    if (!read.ok()) {
      co_return Error::from_errno(read.error(), fmt::format("reading {} at {}", path, offset));
    }
    if (read.bytes() != chunk_bytes) {
      co_return Error::from_errno(EIO, fmt::format("{} shrank while being read", path));
    }
  }
  co_return Result<void>{};
}

// Zeroes [from, tail_zero_end) (recovery_scan.h) and makes it durable; with read_only, only
// counts. Returns the bytes zeroed (or that would be).
Task<Result<uint64_t>> zero_tail(Io& io, int fd, bool read_only, ConstByteSpan bytes, uint64_t from,
                                 Seq segment_first_seq, const std::string& path) {
  const uint64_t end = tail_zero_end(bytes, from, segment_first_seq);
  if (read_only || end == from) co_return end - from;
  const std::vector<std::byte> zeros(kZeroChunkBytes);
  for (uint64_t offset = from; offset < end; offset += kZeroChunkBytes) {
    const size_t chunk_bytes = std::min<uint64_t>(kZeroChunkBytes, end - offset);
    const IoResult wrote =
        co_await ops::write_all(io, fd, ConstByteSpan(zeros).first(chunk_bytes), offset);
    if (!wrote.ok()) {
      co_return Error::from_errno(wrote.error(), fmt::format("zeroing the tail of {}", path));
    }
  }
  const IoResult synced = co_await ops::fdatasync(io, fd);
  if (!synced.ok()) co_return Error::from_errno(synced.error(), "fdatasync of " + path);
  co_return end - from;
}

// Removes segments[from...] (a repair) and fsyncs the directory.
Result<void> remove_segments(int directory_fd, const std::vector<SegmentFile>& segments,
                             size_t from, RepairReport* repair) {
  for (size_t i = from; i < segments.size(); i++) {
    struct stat status {};
    const std::string name = segment_file_name(segments[i].first_seq);
    if (::fstatat(directory_fd, name.c_str(), &status, 0) == 0) {
      repair->bytes_removed += static_cast<uint64_t>(status.st_size);
    }
    if (::unlinkat(directory_fd, name.c_str(), 0) != 0) {
      return Error::from_errno(errno, "removing WAL segment " + segments[i].path);
    }
    repair->segments_removed.push_back(segments[i].path);
  }
  if (from < segments.size() && ::fsync(directory_fd) != 0) {
    return Error::from_errno(errno, "fsync of the WAL directory after removing segments");
  }
  return {};
}

// Makes the last segment ready for the writer: zeroes what follows its last valid batch (a torn
// tail, or with repair everything from the corruption on), restores its size, and sets the
// position. With read_only nothing is written.
Task<Result<void>> settle_last_segment(Io& io, int fd, const RecoveryOptions& options,
                                       const SegmentFile& segment, ConstByteSpan bytes,
                                       const SegmentScan& scan, Seq next_seq,
                                       RecoveryReport& report) {
  Result<uint64_t> zeroed = co_await zero_tail(io, fd, options.read_only, bytes, scan.end_offset,
                                               segment.first_seq, segment.path);
  if (!zeroed.ok()) co_return zeroed.error();
  const std::string reason = scan.stop_reason.empty() ? "zeroed header" : scan.stop_reason;
  if (scan.corruption) {
    report.repair.path = segment.path;
    report.repair.offset = scan.end_offset;
    report.repair.bytes_zeroed = zeroed.value();
    report.repair.reason = reason;
  } else if (zeroed.value() > 0) {
    if (!options.read_only) {
      RR_LOG_WARN("WAL {}: torn tail at offset {} ({}) zeroed, {} bytes; continuing at seq {}",
                  segment.path, scan.end_offset, reason, zeroed.value(), next_seq.value());
    }
    report.torn_tail_path = segment.path;
    report.torn_tail_offset = scan.end_offset;
    report.torn_tail_bytes = zeroed.value();
    report.torn_tail_reason = reason;
  }
  uint64_t segment_bytes = bytes.size();
  if (segment_bytes < options.segment_bytes && !options.read_only) {
    // A crash while the segment was being created (or a shortened file): restore its size so
    // the writer's fdatasync-only protocol holds.
    const IoResult extended = co_await ops::fallocate(io, fd, 0, 0, options.segment_bytes);
    if (!extended.ok()) {
      co_return Error::from_errno(extended.error(), "extending WAL segment " + segment.path);
    }
    const IoResult synced = co_await ops::fsync(io, fd);
    if (!synced.ok()) co_return Error::from_errno(synced.error(), "fsync of " + segment.path);
    segment_bytes = options.segment_bytes;
  }
  report.position = WalPosition{.next_seq = next_seq,
                                .segment_first_seq = segment.first_seq,
                                .segment_bytes = segment_bytes,
                                .write_offset_bytes = scan.end_offset};
  co_return Result<void>{};
}

void log_repair(const RepairReport& repair) {
  RR_LOG_WARN(
      "WAL repair: cut {} at offset {} ({}), {} bytes zeroed; removed {} later segments "
      "({} bytes){}{}",
      repair.path, repair.offset, repair.reason, repair.bytes_zeroed,
      repair.segments_removed.size(), repair.bytes_removed,
      repair.segments_removed.empty() ? "" : ": ", fmt::join(repair.segments_removed, ", "));
}

// A repair of a missing or misnamed segment (or of an older segment whose last batches are
// bad): it and every later one go; the segment before it becomes the last one, continued after
// its last valid batch.
Result<RecoveryReport> repair_from_segment(int directory_fd,
                                           const std::vector<SegmentFile>& segments, size_t from,
                                           const Error& found, Seq next_seq,
                                           RecoveryReport& report) {
  RR_ASSERT(from > 0 && !report.segments.empty());
  const SegmentRecovery& previous = report.segments.back();
  report.repair.path = previous.path;
  report.repair.offset = previous.end_offset;
  report.repair.reason = found.context();
  Result<void> removed = remove_segments(directory_fd, segments, from, &report.repair);
  if (!removed.ok()) return removed.error();
  report.position = WalPosition{.next_seq = next_seq,
                                .segment_first_seq = previous.first_seq,
                                .segment_bytes = previous.file_bytes,
                                .write_offset_bytes = previous.end_offset};
  log_repair(report.repair);
  return std::move(report);
}

Task<Result<RecoveryReport>> recover_located(Io& io, const RecoveryOptions& options,
                                             const LocatedRecordVisitor& visitor) {
  RR_ASSERT(options.fsyncs_in_flight_max >= 1);
  RR_ASSERT_MSG(!(options.read_only && options.repair), "a repair writes");
  Result<std::vector<SegmentFile>> listed = list_segments(options.directory);
  if (!listed.ok()) co_return listed.error();
  const std::vector<SegmentFile>& segments = listed.value();
  RecoveryReport report;
  if (segments.empty()) co_return report;
  Result<FileDescriptor> directory = co_await open_directory(io, options.directory);
  if (!directory.ok()) co_return directory.error();
  const int open_flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  Seq expected_seq = segments.front().first_seq;
  std::vector<std::byte> bytes;  // one segment at a time, reused
  std::string previous_stop;     // why the previous segment's scan stopped
  for (size_t i = 0; i < segments.size(); i++) {
    const SegmentFile& segment = segments[i];
    if (segment.first_seq != expected_seq) {
      Error missing =
          corruption_error(segment.path, 0,
                           fmt::format("the segment starts at seq {} but the log before it "
                                       "ends before seq {} (missing or extra batches)",
                                       segment.first_seq.value(), expected_seq.value()));
      if (i > 0 && !previous_stop.empty()) {
        // The older segment's last batches are bad: name where its valid data ends.
        const SegmentRecovery& previous = report.segments.back();
        missing = corruption_error(
            previous.path, previous.end_offset,
            fmt::format("{} in a segment older than the last one (the next segment, {}, starts "
                        "at seq {})",
                        previous_stop, segment.path, segment.first_seq.value()));
      }
      if (!options.repair) co_return missing;
      co_return repair_from_segment(directory.value().get(), segments, i, missing, expected_seq,
                                    report);
    }
    const std::string name = segment_file_name(segment.first_seq);
    const IoResult fd =
        co_await ops::openat(io, directory.value().get(), name.c_str(), open_flags, 0);
    if (!fd.ok()) co_return Error::from_errno(fd.error(), "opening " + segment.path);
    FileDescriptor file(fd.value);
    Result<void> read = co_await read_segment(io, file.get(), options, segment.path, bytes);
    if (!read.ok()) co_return read.error();
    const bool last = i + 1 == segments.size();
    const SegmentScan scan =
        scan_segment(bytes, segment.path, segment.first_seq, last, options.fsyncs_in_flight_max,
                     &expected_seq, &report, visitor);
    previous_stop = scan.stop_reason;
    report.segments_scanned++;
    report.segments.push_back(SegmentRecovery{.path = segment.path,
                                              .first_seq = segment.first_seq,
                                              .file_bytes = bytes.size(),
                                              .batches = scan.batches,
                                              .end_offset = scan.end_offset});
    if (scan.corruption && !options.repair) co_return *scan.corruption;
    if (!last && !scan.corruption) continue;
    if (scan.corruption) {
      // The cut: this segment becomes the last one; everything after it goes.
      Result<void> removed =
          remove_segments(directory.value().get(), segments, i + 1, &report.repair);
      if (!removed.ok()) co_return removed.error();
    }
    Result<void> settled = co_await settle_last_segment(io, file.get(), options, segment, bytes,
                                                        scan, expected_seq, report);
    if (!settled.ok()) co_return settled.error();
    if (scan.corruption) log_repair(report.repair);
    break;
  }
  co_return report;
}

}  // namespace

Task<Result<RecoveryReport>> recover(Io& io, const RecoveryOptions& options,
                                     const RecordVisitor& visitor) {
  const LocatedRecordVisitor located = [&visitor](Seq seq, const Record& record,
                                                  const RecordLocation&) {
    if (visitor) visitor(seq, record);
  };
  co_return co_await recover_located(io, options, located);
}

Task<Result<RecoveryReport>> recover(Io& io, const RecoveryOptions& options,
                                     const LocatedRecordVisitor& visitor) {
  co_return co_await recover_located(io, options, visitor);
}

}  // namespace ringraft::wal
