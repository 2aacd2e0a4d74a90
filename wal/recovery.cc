#include "wal/recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

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
                           "from its peers (move the WAL directory aside and rejoin)",
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

// What the scan of all segments so far has established.
struct ScanState {
  Seq expected_seq;  // the next batch's sequence number
  RecoveryReport* report = nullptr;
  const RecordVisitor* visitor = nullptr;
  const LocatedRecordVisitor* located_visitor = nullptr;  // either this or visitor, or neither
  Seq segment_first_seq;                                  // of the segment being scanned
};

Result<void> apply_record(const Record& record, ScanState& state, const std::string& path,
                          uint64_t batch_offset) {
  GroupRecovery& group = state.report->groups[record.group];
  // Only entries or a snapshot mark give a group a log position to be contiguous with: after
  // compaction (wal.h) a group's oldest surviving record may be a hard state or a truncate,
  // followed by entries that continue a log whose start was released.
  const bool known = group.entries_recovered > 0 || group.has_snapshot;
  switch (record.kind) {
    case RecordKind::kEntries: {
      if (record.entry_count == 0) break;
      if (known && record.index.value() > group.last_index.value() + 1) {
        return corruption(
            path, batch_offset,
            fmt::format("group {}: entries start at index {} but its log ends at {}",
                        record.group.value(), record.index.value(), group.last_index.value()));
      }
      group.last_index = LogIndex(record.index.value() + record.entry_count - 1);
      group.entries_recovered += record.entry_count;
      break;
    }
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
  return {};
}

// Applies the valid batches at the start of `bytes` and returns where they end. `stop_reason`
// says why the scan stopped there (empty: end of file or a zeroed header).
Result<uint64_t> scan_valid_prefix(ConstByteSpan bytes, const std::string& path, ScanState& state,
                                   std::string* stop_reason) {
  uint64_t offset = 0;
  while (bytes.size() - offset >= kBatchHeaderBytes &&
         !all_zero(bytes.subspan(offset, kBatchHeaderBytes))) {
    Result<DecodedBatch> decoded = decode_batch(bytes.subspan(offset), offset);
    if (!decoded.ok()) {
      *stop_reason = decoded.error().context();
      return offset;
    }
    if (decoded.value().seq != state.expected_seq) {
      *stop_reason = fmt::format("WAL batch at offset {} has seq {} where {} was expected", offset,
                                 decoded.value().seq.value(), state.expected_seq.value());
      return offset;
    }
    RecordCursor cursor(decoded.value());
    Record record;
    for (uint32_t ordinal = 0; cursor.next(&record); ordinal++) {
      if (Result<void> applied = apply_record(record, state, path, offset); !applied.ok()) {
        return applied.error();
      }
      if (state.visitor != nullptr && *state.visitor) {
        (*state.visitor)(decoded.value().seq, record);
      }
      if (state.located_visitor != nullptr && *state.located_visitor) {
        const RecordLocation location{.segment_first_seq = state.segment_first_seq,
                                      .batch_offset = offset,
                                      .record_ordinal = ordinal};
        (*state.located_visitor)(decoded.value().seq, record, location);
      }
      state.report->records_recovered++;
    }
    state.report->batches_recovered++;
    state.expected_seq = Seq(state.expected_seq.value() + 1);
    offset += decoded.value().padded_batch_bytes;
  }
  stop_reason->clear();
  return offset;
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

// Zeroes [from, end of the last non-zero byte) and makes it durable. Returns the bytes zeroed.
Task<Result<uint64_t>> zero_tail(Io& io, int fd, ConstByteSpan bytes, uint64_t from,
                                 const std::string& path) {
  uint64_t end = bytes.size();
  while (end > from && bytes[end - 1] == std::byte{0}) end--;
  const std::vector<std::byte> zeros(kZeroChunkBytes);
  for (uint64_t offset = from; offset < end; offset += kZeroChunkBytes) {
    const size_t chunk_bytes = std::min<uint64_t>(kZeroChunkBytes, end - offset);
    const IoResult wrote =
        co_await ops::write_all(io, fd, ConstByteSpan(zeros).first(chunk_bytes), offset);
    if (!wrote.ok()) {
      co_return Error::from_errno(wrote.error(), fmt::format("zeroing the torn tail of {}", path));
    }
  }
  const IoResult synced = co_await ops::fdatasync(io, fd);
  if (!synced.ok()) co_return Error::from_errno(synced.error(), "fdatasync of " + path);
  co_return end - from;
}

// Scans one segment (already read into `bytes`), applies its batches and handles its tail.
Task<Result<void>> recover_segment(Io& io, int fd, const RecoveryOptions& options,
                                   const SegmentFile& segment, bool last, ConstByteSpan bytes,
                                   ScanState& state) {
  std::string stop_reason;
  Result<uint64_t> scanned = scan_valid_prefix(bytes, segment.path, state, &stop_reason);
  if (!scanned.ok()) co_return scanned.error();
  const uint64_t end_offset = scanned.value();
  // Batches that may follow a torn one without being corruption (see recovery.h).
  const uint64_t unacknowledged = last ? options.fsyncs_in_flight_max - 1 : 0;
  const Seq tolerated_max(state.expected_seq.value() + unacknowledged);
  auto later = find_later_batch(bytes, end_offset, state.expected_seq, state.expected_seq);
  if (!later)
    later = find_later_batch(bytes, end_offset, Seq(tolerated_max.value() + 1), Seq(UINT64_MAX));
  if (later) {
    co_return corruption(segment.path, end_offset,
                         fmt::format("{}; yet a valid batch (seq {}) follows at offset {}",
                                     stop_reason.empty() ? "zeroed batch header" : stop_reason,
                                     later->second.value(), later->first));
  }
  const bool tail_zero = all_zero(bytes.subspan(end_offset));
  if (!last && !tail_zero) {
    co_return corruption(
        segment.path, end_offset,
        fmt::format("{} in a segment older than the last one",
                    stop_reason.empty() ? "garbage after the last batch" : stop_reason));
  }
  if (!last) co_return Result<void>{};
  RecoveryReport& report = *state.report;
  if (!tail_zero) {
    Result<uint64_t> zeroed = co_await zero_tail(io, fd, bytes, end_offset, segment.path);
    if (!zeroed.ok()) co_return zeroed.error();
    RR_LOG_WARN("WAL {}: torn tail at offset {} ({}) zeroed, {} bytes; continuing at seq {}",
                segment.path, end_offset, stop_reason.empty() ? "zeroed header" : stop_reason,
                zeroed.value(), state.expected_seq.value());
    report.torn_tail_path = segment.path;
    report.torn_tail_offset = end_offset;
    report.torn_tail_bytes = zeroed.value();
  }
  uint64_t segment_bytes = bytes.size();
  if (segment_bytes < options.segment_bytes) {
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
  report.position = WalPosition{.next_seq = state.expected_seq,
                                .segment_first_seq = segment.first_seq,
                                .segment_bytes = segment_bytes,
                                .write_offset_bytes = end_offset};
  co_return Result<void>{};
}

Task<Result<RecoveryReport>> recover_with(Io& io, const RecoveryOptions& options,
                                          const RecordVisitor* visitor,
                                          const LocatedRecordVisitor* located_visitor) {
  RR_ASSERT(options.fsyncs_in_flight_max >= 1);
  Result<std::vector<SegmentFile>> listed = list_segments(options.directory);
  if (!listed.ok()) co_return listed.error();
  const std::vector<SegmentFile>& segments = listed.value();
  RecoveryReport report;
  if (segments.empty()) co_return report;
  Result<FileDescriptor> directory = co_await open_directory(io, options.directory);
  if (!directory.ok()) co_return directory.error();
  ScanState state;
  state.expected_seq = segments.front().first_seq;
  state.report = &report;
  state.visitor = visitor;
  state.located_visitor = located_visitor;
  std::vector<std::byte> bytes;  // one segment at a time, reused
  for (size_t i = 0; i < segments.size(); i++) {
    const SegmentFile& segment = segments[i];
    state.segment_first_seq = segment.first_seq;
    if (segment.first_seq != state.expected_seq) {
      co_return corruption(segment.path, 0,
                           fmt::format("the segment starts at seq {} but the log before it ends "
                                       "before seq {} (missing or extra batches)",
                                       segment.first_seq.value(), state.expected_seq.value()));
    }
    const std::string name = segment_file_name(segment.first_seq);
    const IoResult fd =
        co_await ops::openat(io, directory.value().get(), name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (!fd.ok()) co_return Error::from_errno(fd.error(), "opening " + segment.path);
    FileDescriptor file(fd.value);
    Result<void> read = co_await read_segment(io, file.get(), options, segment.path, bytes);
    if (!read.ok()) co_return read.error();
    Result<void> recovered = co_await recover_segment(io, file.get(), options, segment,
                                                      i + 1 == segments.size(), bytes, state);
    if (!recovered.ok()) co_return recovered.error();
    report.segments_scanned++;
  }
  co_return report;
}

}  // namespace

Task<Result<RecoveryReport>> recover(Io& io, const RecoveryOptions& options,
                                     const RecordVisitor& visitor) {
  co_return co_await recover_with(io, options, &visitor, nullptr);
}

Task<Result<RecoveryReport>> recover(Io& io, const RecoveryOptions& options,
                                     const LocatedRecordVisitor& visitor) {
  co_return co_await recover_with(io, options, nullptr, &visitor);
}

}  // namespace ringraft::wal
