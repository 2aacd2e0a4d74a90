// Wal's read side: read_entries (from the EntryCache, else from the record's batch on disk),
// term lookup, and what each group holds back. See wal.h "Reads".
#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "reactor/ops.h"
#include "wal/wal.h"

namespace ringraft::wal {

namespace {

// The first read of a batch on disk; a longer batch takes a second read for the rest.
constexpr size_t kFirstReadBytes = size_t{64} << 10;
// Re-lookups after the log changed under a disk read, before returning what was read so far.
constexpr uint32_t kChangedRetriesMax = 4;

uint32_t length_at(ConstByteSpan lengths, uint32_t entry) {
  uint32_t length = 0;
  std::memcpy(&length, lengths.data() + size_t{entry} * 4, sizeof(length));
  return length;
}

// What read_entries gathers before building the EntryBatch's block.
struct Gathered {
  std::vector<uint32_t> lengths;
  std::vector<std::byte> payload;
  uint64_t bytes_max = 0;
};

// Appends entries [from, from + count) of one record (its u32 lengths and payloads) while they
// fit bytes_max (the first entry always does). Returns how many were appended.
uint32_t gather(ConstByteSpan lengths, ConstByteSpan payload, uint32_t from, uint32_t count,
                Gathered& out) {
  RR_ASSERT(lengths.size() >= size_t{from + count} * 4);
  size_t offset = 0;
  for (uint32_t i = 0; i < from; i++) offset += length_at(lengths, i);
  uint32_t appended = 0;
  for (; appended < count; appended++) {
    const uint32_t length = length_at(lengths, from + appended);
    if (!out.lengths.empty() && out.payload.size() + length > out.bytes_max) break;
    RR_ASSERT(offset + length <= payload.size());
    out.lengths.push_back(length);
    out.payload.insert(out.payload.end(), payload.begin() + static_cast<ptrdiff_t>(offset),
                       payload.begin() + static_cast<ptrdiff_t>(offset + length));
    offset += length;
  }
  return appended;
}

// Adds the terms of [first, last] to `runs`, one run per change of term.
void add_term_runs(const GroupLog& log, LogIndex first, LogIndex last, std::vector<TermRun>& runs) {
  const std::optional<Term> first_term = log.term_at(first);
  RR_ASSERT(first_term.has_value());
  if (runs.empty() || runs.back().term != *first_term) runs.push_back(TermRun{first, *first_term});
  for (const TermRun& run : log.term_runs()) {
    if (run.first_index <= first || run.first_index > last) continue;
    if (runs.back().term != run.term) runs.push_back(run);
  }
}

// Finds the extent's record in a batch read back and appends its entries [from, from + wanted).
Result<uint32_t> gather_from_batch(const DecodedBatch& decoded, GroupId group, const Extent& extent,
                                   uint32_t from, uint32_t wanted, const BatchPlace& place,
                                   Gathered& out) {
  RecordCursor cursor(decoded);
  Record record;
  bool found = decoded.seq == extent.seq;
  for (uint32_t ordinal = 0; found && ordinal <= extent.record_ordinal; ordinal++) {
    found = cursor.next(&record);
  }
  if (!found || record.kind != RecordKind::kEntries || record.group != group ||
      record.index != extent.first_index || record.entry_count < from + wanted) {
    return Error(
        ErrorCode::kInvalidInput,
        fmt::format("WAL segment {} batch at offset {} (seq {}): record {} is not the "
                    "entries of group {} at index {} that the index says it is",
                    segment_file_name(place.segment_first_seq), place.offset, decoded.seq.value(),
                    extent.record_ordinal, group.value(), extent.first_index.value()));
  }
  return gather(record.entry_lengths, record.payload, from, wanted, out);
}

Error compacted(GroupId group, LogIndex index, LogIndex first_index) {
  return Error(ErrorCode::kNotFound,
               fmt::format("group {}: index {} is compacted (the log starts at {}); send a "
                           "snapshot instead",
                           group.value(), index.value(), first_index.value()));
}

}  // namespace

std::optional<Term> Wal::term_at(GroupId group, LogIndex index) const {
  const GroupLog* log = index_.group(group);
  if (log == nullptr) return index.value() == 0 ? std::optional<Term>(Term(0)) : std::nullopt;
  return log->term_at(index);
}

LogIndex Wal::first_index(GroupId group) const {
  const GroupLog* log = index_.group(group);
  return log == nullptr ? LogIndex(0) : log->first_index();
}

LogIndex Wal::last_index(GroupId group) const {
  const GroupLog* log = index_.group(group);
  return log == nullptr ? LogIndex(0) : log->last_index();
}

GroupPinned Wal::group_pinned(GroupId group) const {
  const GroupLog* log = index_.group(group);
  const std::optional<Seq> pin = log == nullptr ? std::nullopt : log->pin_seq();
  GroupPinned pinned;
  if (!pin) return pinned;
  const auto& segments = index_.segments();
  // Closed segments holding batches at or after the pin: all but the current one.
  for (size_t i = 0; i + 1 < segments.size(); i++) {
    if (segments[i + 1].first_seq > *pin) pinned.segments++;
  }
  pinned.bytes = pinned.segments * options_.segment_bytes;
  return pinned;
}

Task<Result<void>> Wal::read_batch(int fd, const BatchPlace& place, std::vector<std::byte>& bytes,
                                   DecodedBatch* decoded) {
  const std::string path =
      fmt::format("{}/{}", options_.directory, segment_file_name(place.segment_first_seq));
  const size_t first_bytes = std::min<size_t>(kFirstReadBytes, options_.batch_bytes_max);
  if (bytes.size() < first_bytes) bytes.resize(first_bytes);
  const IoResult head =
      co_await ops::read_exact(io_, fd, ByteSpan(bytes).first(first_bytes), place.offset);
  if (!head.ok()) {
    co_return Error::from_errno(head.error(),
                                fmt::format("reading back {} at offset {}", path, place.offset));
  }
  size_t have_bytes = head.bytes();
  uint32_t batch_bytes = 0;
  if (have_bytes >= kBatchHeaderBytes) std::memcpy(&batch_bytes, bytes.data() + 4, 4);
  const size_t padded_bytes = align_batch_bytes(batch_bytes);
  if (padded_bytes > have_bytes && padded_bytes <= options_.segment_bytes) {
    if (bytes.size() < padded_bytes) bytes.resize(padded_bytes);
    const IoResult rest = co_await ops::read_exact(
        io_, fd, ByteSpan(bytes).subspan(have_bytes, padded_bytes - have_bytes),
        place.offset + have_bytes);
    if (!rest.ok()) {
      co_return Error::from_errno(rest.error(),
                                  fmt::format("reading back {} at offset {}", path, place.offset));
    }
    have_bytes += rest.bytes();
  }
  Result<DecodedBatch> batch = decode_batch(ConstByteSpan(bytes).first(have_bytes), place.offset);
  if (!batch.ok()) {
    co_return Error(
        ErrorCode::kInvalidInput,
        fmt::format("{} no longer checks out when read back: {}", path, batch.error().context()));
  }
  *decoded = batch.value();
  co_return Result<void>{};
}

// What one read_entries call carries between its steps: the range, what was gathered so far,
// and the segment it is reading back (one descriptor and one buffer, reused across batches).
struct Wal::EntryRead {
  GroupId group;
  LogIndex next;         // the first index not read yet
  LogIndex last;         // the last index wanted
  uint32_t changed = 0;  // times the log moved under a disk read
  Gathered gathered;
  std::vector<TermRun> term_runs;
  std::vector<std::byte> disk_bytes;
  FileDescriptor segment_fd;
  Seq segment_fd_seq;
};

Task<Result<EntryBatch>> Wal::read_entries(GroupId group, LogIndex first, LogIndex last_max,
                                           uint64_t bytes_max) {
  struct InFlight {
    uint32_t& count;
    explicit InFlight(uint32_t& c) : count(++c) {}
    ~InFlight() { count--; }
  } in_flight(reads_in_flight_);
  const GroupLog* log = index_.group(group);
  if (log == nullptr) {
    co_return Error(ErrorCode::kNotFound, fmt::format("group {} has no log in WAL {}",
                                                      group.value(), options_.directory));
  }
  if (first < log->first_index()) co_return compacted(group, first, log->first_index());
  EntryRead read;
  read.group = group;
  read.next = first;
  read.last = std::min(last_max, log->last_index());
  read.gathered.bytes_max = bytes_max;
  while (read.next <= read.last && read.changed <= kChangedRetriesMax) {
    const Result<ReadStep> step = co_await read_step(read);
    if (!step.ok()) co_return step.error();
    if (step.value() == ReadStep::kStop) break;
  }
  if (read.gathered.lengths.empty() && first <= read.last) {
    log = index_.group(group);
    if (first < log->first_index()) co_return compacted(group, first, log->first_index());
  }
  co_return entry_batch(group, first, read);
}

// One step: copies what it can of the extent holding read.next (from the cache, or from its
// batch on disk once that is durable) and moves read.next past what it copied.
Task<Result<Wal::ReadStep>> Wal::read_step(EntryRead& read) {
  // Looked up again on every step: the log may have moved while a read was suspended.
  const GroupLog* log = index_.group(read.group);
  if (read.next < log->first_index() || read.next > log->last_index()) co_return ReadStep::kStop;
  const Extent extent = *log->extents_from(read.next).first;
  const auto from = static_cast<uint32_t>(read.next.value() - extent.first_index.value());
  const auto wanted = static_cast<uint32_t>(std::min(extent.last_index(), read.last).value() -
                                            read.next.value() + 1);
  uint32_t copied = 0;
  if (cache_.contains(extent.cache_position)) {
    const EntryCache::View view = cache_.view(extent.cache_position);
    copied = gather(view.lengths, view.payload, from, wanted, read.gathered);
    stats_.entries_read_from_cache += copied;
  } else if (extent.seq > durable_seq_) {
    // Evicted before its batch reached the disk: read it from there once it has.
    const Result<Seq> durable = co_await wait_durable(extent.seq);
    if (!durable.ok()) co_return durable.error();
    co_return ReadStep::kMore;
  } else {
    const Result<ReadStep> from_disk = co_await read_from_disk(read, extent, from, wanted, &copied);
    if (!from_disk.ok() || copied == 0) co_return from_disk;
  }
  if (copied == 0) co_return ReadStep::kStop;
  log = index_.group(read.group);
  const LogIndex copied_last(read.next.value() + copied - 1);
  add_term_runs(*log, read.next, copied_last, read.term_runs);
  read.next = LogIndex(copied_last.value() + 1);
  co_return copied < wanted ? ReadStep::kStop : ReadStep::kMore;  // short: bytes_max reached
}

// Reads the extent's batch back from its segment and copies entries [from, from + wanted) of
// its record into *copied. kMore with nothing copied: the log changed meanwhile, look again;
// kStop: the segment was released meanwhile.
Task<Result<Wal::ReadStep>> Wal::read_from_disk(EntryRead& read, const Extent& extent,
                                                uint32_t from, uint32_t wanted, uint32_t* copied) {
  *copied = 0;
  const std::optional<BatchPlace> place = index_.find_batch(extent.seq);
  if (!place) co_return ReadStep::kStop;
  if (!read.segment_fd.valid() || read.segment_fd_seq != place->segment_first_seq) {
    const std::string name = segment_file_name(place->segment_first_seq);
    const IoResult opened =
        co_await ops::openat(io_, directory_.get(), name.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (!opened.ok() && opened.error() == ENOENT) co_return ReadStep::kStop;
    if (!opened.ok()) {
      co_return Error::from_errno(opened.error(),
                                  fmt::format("opening {}/{}", options_.directory, name));
    }
    read.segment_fd.reset(opened.value);
    read.segment_fd_seq = place->segment_first_seq;
  }
  DecodedBatch decoded;
  Result<void> batch =
      co_await read_batch(read.segment_fd.get(), *place, read.disk_bytes, &decoded);
  if (!batch.ok()) co_return batch.error();
  const GroupLog* log = index_.group(read.group);
  if (read.next < log->first_index() || read.next > log->last_index()) co_return ReadStep::kStop;
  const Extent& now = *log->extents_from(read.next).first;
  if (now.seq != extent.seq || now.record_ordinal != extent.record_ordinal) {
    read.changed++;  // overwritten while reading: look the index up again
    co_return ReadStep::kMore;
  }
  Result<uint32_t> gathered =
      gather_from_batch(decoded, read.group, extent, from, wanted, *place, read.gathered);
  if (!gathered.ok()) co_return gathered.error();
  *copied = gathered.value();
  stats_.batches_read_from_disk++;
  stats_.entries_read_from_disk += *copied;
  co_return *copied == 0 ? ReadStep::kStop : ReadStep::kMore;
}

// The EntryBatch of what a read gathered: one block (lengths, then payloads) and term runs.
EntryBatch Wal::entry_batch(GroupId group, LogIndex first, EntryRead& read) {
  EntryBatch batch;
  batch.group = group;
  batch.first_index = first;
  batch.term_runs = std::move(read.term_runs);
  const Gathered& gathered = read.gathered;
  batch.entry_count = static_cast<uint32_t>(gathered.lengths.size());
  batch.block.resize(gathered.lengths.size() * 4 + gathered.payload.size());
  if (!gathered.lengths.empty()) {
    std::memcpy(batch.block.data(), gathered.lengths.data(), gathered.lengths.size() * 4);
    std::memcpy(batch.block.data() + gathered.lengths.size() * 4, gathered.payload.data(),
                gathered.payload.size());
  }
  return batch;
}

}  // namespace ringraft::wal
