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

namespace ringraft::wal {

namespace {

constexpr size_t kReadChunkBytes = size_t{16} << 20;
constexpr size_t kZeroChunkBytes = size_t{64} << 10;

struct SegmentFile {
  Seq first_seq;
  std::string path;
};

Error corruption(const std::string& path, uint64_t offset, const std::string& what) {
  return Error(ErrorCode::kInvalidInput,
               fmt::format("WAL corruption in {} at offset {}: {}. This is not a torn write at "
                           "the end of the log, so acknowledged data may be damaged; refusing to "
                           "open. Keep the directory for inspection and rebuild this replica "
                           "from its peers (move the WAL directory aside and rejoin), or, "
                           "accepting the loss of everything from this offset on, truncate the "
                           "log here with the repair option (`ringraft wal verify DIR --repair`)",
                           path, offset, what));
}

bool all_zero(ConstByteSpan bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

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

// Checks that applying the records of `batch` in order leaves no gap in any group's log
// (entries after a group's first record must start at or before its last index + 1), without
// applying them: a batch is applied whole or not at all, so a repair can cut before it.
Result<void> check_batch_records(const DecodedBatch& batch, const RecoveryReport& report,
                                 const std::string& path, uint64_t batch_offset) {
  std::map<GroupId, LogIndex> touched;  // last index of the groups this batch changed so far
  RecordCursor cursor(batch);
  Record record;
  while (cursor.next(&record)) {
    auto found = touched.find(record.group);
    const auto known = report.groups.find(record.group);
    const bool seen_before = found != touched.end() || known != report.groups.end();
    LogIndex last = found != touched.end()         ? found->second
                    : known != report.groups.end() ? known->second.last_index
                                                   : LogIndex(0);
    if (record.kind == RecordKind::kEntries && record.entry_count > 0) {
      if (seen_before && record.index.value() > last.value() + 1) {
        return corruption(path, batch_offset,
                          fmt::format("group {}: entries start at index {} but its log ends at {}",
                                      record.group.value(), record.index.value(), last.value()));
      }
      last = LogIndex(record.index.value() + record.entry_count - 1);
    } else if (record.kind == RecordKind::kSnapshotMark) {
      last = std::max(last, record.index);
    } else if (record.kind == RecordKind::kTruncate) {
      if (record.index.value() > 0 && record.index <= last)
        last = LogIndex(record.index.value() - 1);
    }
    touched[record.group] = last;
  }
  return {};
}

// Applies one record to its group's summary (check_batch_records accepted its batch).
void apply_record(const Record& record, RecoveryReport& report) {
  GroupRecovery& group = report.groups[record.group];
  switch (record.kind) {
    case RecordKind::kEntries:
      if (record.entry_count == 0) break;
      group.last_index = LogIndex(record.index.value() + record.entry_count - 1);
      group.entries_recovered += record.entry_count;
      break;
    case RecordKind::kHardState:
      group.has_hard_state = true;
      group.hard_state_term = record.term;
      group.hard_state_vote = record.vote;
      group.hard_state_commit = record.commit;
      break;
    case RecordKind::kSnapshotMark:
      group.has_snapshot = true;
      group.snapshot_index = record.index;
      group.snapshot_term = record.term;
      group.last_index = std::max(group.last_index, record.index);
      break;
    case RecordKind::kTruncate:
      if (record.index.value() > 0 && record.index <= group.last_index) {
        group.last_index = LogIndex(record.index.value() - 1);
      }
      group.truncations_applied++;
      break;
  }
}

// Applies the valid batches at the start of `bytes` into `scan` (end_offset, batches,
// stop_reason; corruption when a batch leaves a gap in a group's log).
void scan_valid_prefix(ConstByteSpan bytes, const std::string& path, Seq* expected_seq,
                       RecoveryReport* report, const RecordVisitor& visitor, SegmentScan* scan) {
  uint64_t offset = 0;
  while (bytes.size() - offset >= kBatchHeaderBytes &&
         !all_zero(bytes.subspan(offset, kBatchHeaderBytes))) {
    Result<DecodedBatch> decoded = decode_batch(bytes.subspan(offset), offset);
    if (!decoded.ok()) {
      scan->stop_reason = decoded.error().context();
      break;
    }
    const DecodedBatch& batch = decoded.value();
    if (batch.seq != *expected_seq) {
      scan->stop_reason = fmt::format("WAL batch at offset {} has seq {} where {} was expected",
                                      offset, batch.seq.value(), expected_seq->value());
      break;
    }
    if (Result<void> checked = check_batch_records(batch, *report, path, offset); !checked.ok()) {
      scan->stop_reason = checked.error().context();
      scan->corruption = checked.error();
      break;
    }
    RecordCursor cursor(batch);
    Record record;
    while (cursor.next(&record)) {
      apply_record(record, *report);
      if (visitor) visitor(batch.seq, record);
      report->records_recovered++;
    }
    report->batches_recovered++;
    scan->batches++;
    *expected_seq = Seq(expected_seq->value() + 1);
    offset += batch.padded_batch_bytes;
  }
  scan->end_offset = offset;
}

// The first valid batch at or after `from` whose seq lies in [seq_min, seq_max], if any.
std::optional<std::pair<uint64_t, Seq>> find_later_batch(ConstByteSpan bytes, uint64_t from,
                                                         Seq seq_min, Seq seq_max) {
  for (uint64_t offset = from; offset + kBatchHeaderBytes <= bytes.size();
       offset += kBatchAlignBytes) {
    uint32_t magic;
    std::memcpy(&magic, bytes.data() + offset, sizeof(magic));
    if (magic != kBatchMagic) continue;
    Result<DecodedBatch> decoded = decode_batch(bytes.subspan(offset), offset);
    if (!decoded.ok()) continue;
    const Seq seq = decoded.value().seq;
    if (seq >= seq_min && seq <= seq_max) return std::pair{offset, seq};
  }
  return std::nullopt;
}

// Zeroes [from, end of the last non-zero byte) and makes it durable; with read_only, only
// counts. Returns the bytes zeroed (or that would be).
Task<Result<uint64_t>> zero_tail(Io& io, int fd, bool read_only, ConstByteSpan bytes, uint64_t from,
                                 const std::string& path) {
  uint64_t end = bytes.size();
  while (end > from && bytes[end - 1] == std::byte{0}) end--;
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
  Result<uint64_t> zeroed =
      co_await zero_tail(io, fd, options.read_only, bytes, scan.end_offset, segment.path);
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

// A repair of a missing or misnamed segment: it and every later one go; the segment before it
// (scanned clean, zero after its last batch) becomes the last one.
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

}  // namespace

SegmentScan scan_segment(ConstByteSpan bytes, const std::string& path, bool last,
                         uint32_t fsyncs_in_flight_max, Seq* expected_seq, RecoveryReport* report,
                         const RecordVisitor& visitor) {
  RR_ASSERT(fsyncs_in_flight_max >= 1);
  SegmentScan scan;
  scan_valid_prefix(bytes, path, expected_seq, report, visitor, &scan);
  if (scan.corruption) return scan;
  const uint64_t end_offset = scan.end_offset;
  const std::string& stop_reason = scan.stop_reason;
  // Batches that may follow a torn one without being corruption (see recovery.h).
  const uint64_t unacknowledged = last ? fsyncs_in_flight_max - 1 : 0;
  const Seq tolerated_max(expected_seq->value() + unacknowledged);
  auto later = find_later_batch(bytes, end_offset, *expected_seq, *expected_seq);
  if (!later)
    later = find_later_batch(bytes, end_offset, Seq(tolerated_max.value() + 1), Seq(UINT64_MAX));
  if (later) {
    scan.corruption =
        corruption(path, end_offset,
                   fmt::format("{}; yet a valid batch (seq {}) follows at offset {}",
                               stop_reason.empty() ? "zeroed batch header" : stop_reason,
                               later->second.value(), later->first));
    return scan;
  }
  scan.tail_zero = all_zero(bytes.subspan(end_offset));
  if (!last && !scan.tail_zero) {
    scan.corruption =
        corruption(path, end_offset,
                   fmt::format("{} in a segment older than the last one",
                               stop_reason.empty() ? "garbage after the last batch" : stop_reason));
  }
  return scan;
}

Task<Result<RecoveryReport>> recover(Io& io, const RecoveryOptions& options,
                                     const RecordVisitor& visitor) {
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
  for (size_t i = 0; i < segments.size(); i++) {
    const SegmentFile& segment = segments[i];
    if (segment.first_seq != expected_seq) {
      Error missing = corruption(segment.path, 0,
                                 fmt::format("the segment starts at seq {} but the log before it "
                                             "ends before seq {} (missing or extra batches)",
                                             segment.first_seq.value(), expected_seq.value()));
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
    const SegmentScan scan = scan_segment(bytes, segment.path, last, options.fsyncs_in_flight_max,
                                          &expected_seq, &report, visitor);
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

}  // namespace ringraft::wal
