#include "wal/batch_format.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "common/assert.h"
#include "common/crc32c.h"

namespace ringraft::wal {

// Fields are stored with memcpy in host order; the format is little-endian, and so are the
// machines we build for. A big-endian port would byte-swap in these two functions.
static_assert(std::endian::native == std::endian::little, "the WAL format is little-endian");

namespace {

constexpr size_t kOffsetMagic = 0;
constexpr size_t kOffsetBatchBytes = 4;
constexpr size_t kOffsetSeq = 8;
constexpr size_t kOffsetCrc = 16;
constexpr size_t kOffsetRecordCount = 20;

template <class T>
T load(const std::byte* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

template <class T>
void store(std::byte* at, T value) {
  std::memcpy(at, &value, sizeof(T));
}

// CRC32C of the batch without its crc field: [0, kOffsetCrc) then [kOffsetRecordCount, end).
uint32_t batch_crc(ConstByteSpan batch) {
  const uint32_t head = crc32c(batch.first(kOffsetCrc));
  return crc32c_extend(head, batch.subspan(kOffsetRecordCount));
}

bool all_zero(ConstByteSpan bytes) {
  for (std::byte b : bytes) {
    if (b != std::byte{0}) return false;
  }
  return true;
}

// Whether `rest` is exactly one padding record: its kind, a length covering all of `rest`, and
// a zero body.
bool is_padding_record(ConstByteSpan rest) {
  if (rest.size() < kRecordHeaderBytes) return false;
  return load<uint32_t>(rest.data()) == kPaddingRecordKind &&
         load<uint32_t>(rest.data() + 4) == rest.size() &&
         all_zero(rest.subspan(kRecordHeaderBytes));
}

Error bad(uint64_t offset, std::string_view what) {
  return Error(ErrorCode::kInvalidInput, fmt::format("WAL batch at offset {}: {}", offset, what));
}

// Fixed bytes after the record header, per kind; 0 for an unknown kind.
size_t fixed_field_bytes(uint32_t kind) {
  switch (static_cast<RecordKind>(kind)) {
    case RecordKind::kEntries:
      return kEntriesFixedBytes;
    case RecordKind::kHardState:
      return kHardStateRecordBytes - kRecordHeaderBytes;
    case RecordKind::kSnapshotMark:
      return kSnapshotMarkRecordBytes - kRecordHeaderBytes;
    case RecordKind::kTruncate:
      return kTruncateRecordBytes - kRecordHeaderBytes;
  }
  return 0;
}

// Parses and validates one record at the start of `rest`. `offset` is rest[0]'s offset in the
// file, for messages. Returns the record's size in bytes.
Result<size_t> parse_record(ConstByteSpan rest, uint64_t offset, Record* record) {
  if (rest.size() < kRecordHeaderBytes) return bad(offset, "record header runs past the batch");
  const uint32_t kind = load<uint32_t>(rest.data());
  const uint32_t record_bytes = load<uint32_t>(rest.data() + 4);
  const size_t fixed_bytes = fixed_field_bytes(kind);
  if (fixed_bytes == 0) return bad(offset, fmt::format("unknown record kind {}", kind));
  if (record_bytes % kBatchAlignBytes != 0 || record_bytes > rest.size() ||
      record_bytes < kRecordHeaderBytes + fixed_bytes) {
    return bad(offset, fmt::format("record length {} is invalid ({} bytes left in the batch)",
                                   record_bytes, rest.size()));
  }
  const std::byte* fields = rest.data() + kRecordHeaderBytes;
  *record = Record{};
  record->kind = static_cast<RecordKind>(kind);
  record->group = GroupId(load<uint64_t>(fields));
  size_t unpadded_bytes = kRecordHeaderBytes + fixed_bytes;
  switch (record->kind) {
    case RecordKind::kEntries: {
      record->term = Term(load<uint64_t>(fields + 8));
      record->index = LogIndex(load<uint64_t>(fields + 16));
      record->entry_count = load<uint32_t>(fields + 24);
      const uint64_t lengths_bytes = uint64_t{record->entry_count} * 4;
      if (lengths_bytes > record_bytes - unpadded_bytes) {
        return bad(offset, fmt::format("entry count {} does not fit the record of {} bytes",
                                       record->entry_count, record_bytes));
      }
      record->entry_lengths = rest.subspan(unpadded_bytes, lengths_bytes);
      unpadded_bytes += lengths_bytes;
      uint64_t payload_bytes = 0;
      for (uint32_t i = 0; i < record->entry_count; i++) {
        payload_bytes += load<uint32_t>(record->entry_lengths.data() + size_t{i} * 4);
      }
      if (payload_bytes > record_bytes - unpadded_bytes) {
        return bad(offset, fmt::format("entry payloads of {} bytes do not fit the record of {}",
                                       payload_bytes, record_bytes));
      }
      record->payload = rest.subspan(unpadded_bytes, payload_bytes);
      unpadded_bytes += payload_bytes;
      break;
    }
    case RecordKind::kHardState:
      record->term = Term(load<uint64_t>(fields + 8));
      record->vote = NodeId(load<uint64_t>(fields + 16));
      record->commit = LogIndex(load<uint64_t>(fields + 24));
      break;
    case RecordKind::kSnapshotMark:
      record->index = LogIndex(load<uint64_t>(fields + 8));
      record->term = Term(load<uint64_t>(fields + 16));
      break;
    case RecordKind::kTruncate:
      record->index = LogIndex(load<uint64_t>(fields + 8));
      break;
  }
  if (align_batch_bytes(unpadded_bytes) != record_bytes) {
    return bad(offset, fmt::format("record length {} does not match its contents ({} bytes)",
                                   record_bytes, unpadded_bytes));
  }
  if (!all_zero(rest.subspan(unpadded_bytes, record_bytes - unpadded_bytes))) {
    return bad(offset, "record padding is not zero");
  }
  return size_t{record_bytes};
}

}  // namespace

const char* record_kind_name(RecordKind kind) {
  switch (kind) {
    case RecordKind::kEntries:
      return "entries";
    case RecordKind::kHardState:
      return "hard state";
    case RecordKind::kSnapshotMark:
      return "snapshot mark";
    case RecordKind::kTruncate:
      return "truncate";
  }
  return "unknown";
}

uint32_t Record::entry_length_bytes(uint32_t entry) const {
  RR_ASSERT(kind == RecordKind::kEntries && entry < entry_count);
  return load<uint32_t>(entry_lengths.data() + size_t{entry} * 4);
}

size_t entries_record_bytes(size_t entry_count, size_t payload_bytes) {
  return align_batch_bytes(kRecordHeaderBytes + kEntriesFixedBytes + entry_count * 4 +
                           payload_bytes);
}

BatchEncoder::BatchEncoder(ByteSpan buffer, size_t block_bytes)
    : buffer_(buffer), block_bytes_(block_bytes) {
  RR_ASSERT(buffer.size() >= kBatchHeaderBytes && buffer.size() <= UINT32_MAX);
  // A whole number of blocks, so that padding the last one always fits the buffer.
  RR_ASSERT(std::has_single_bit(block_bytes) && block_bytes >= kBatchAlignBytes &&
            buffer.size() % block_bytes == 0);
}

size_t BatchEncoder::batch_bytes() const {
  return (used_bytes_ + block_bytes_ - 1) / block_bytes_ * block_bytes_;
}

void BatchEncoder::begin(Seq seq) {
  RR_ASSERT(!buffer_.empty());
  used_bytes_ = kBatchHeaderBytes;
  seq_ = seq;
  record_count_ = 0;
  begun_ = true;
}

bool BatchEncoder::fits(size_t record_bytes) const {
  RR_ASSERT(begun_ && record_bytes % kBatchAlignBytes == 0);
  return record_bytes <= free_bytes();
}

std::byte* BatchEncoder::reserve(size_t record_bytes, RecordKind kind) {
  if (!fits(record_bytes) || record_count_ == UINT32_MAX) return nullptr;
  // Records are padded, so used_bytes_ stays a multiple of 8 while records are added.
  RR_ASSERT(used_bytes_ % kBatchAlignBytes == 0);
  std::byte* at = buffer_.data() + used_bytes_;
  std::memset(at, 0, record_bytes);  // padding and unused fields are zero
  store<uint32_t>(at, static_cast<uint32_t>(kind));
  store<uint32_t>(at + 4, static_cast<uint32_t>(record_bytes));
  used_bytes_ += record_bytes;
  record_count_++;
  return at + kRecordHeaderBytes;
}

bool BatchEncoder::add_entries(GroupId group, Term term, LogIndex first_index,
                               std::span<const uint32_t> entry_lengths, ConstByteSpan payload) {
  uint64_t payload_bytes = 0;
  for (uint32_t length : entry_lengths) payload_bytes += length;
  RR_ASSERT_MSG(payload_bytes == payload.size(), "entry lengths must add up to the payload");
  if (entry_lengths.size() > UINT32_MAX || payload.size() > buffer_.size()) return false;
  std::byte* fields =
      reserve(entries_record_bytes(entry_lengths.size(), payload.size()), RecordKind::kEntries);
  if (fields == nullptr) return false;
  store<uint64_t>(fields, group.value());
  store<uint64_t>(fields + 8, term.value());
  store<uint64_t>(fields + 16, first_index.value());
  store<uint32_t>(fields + 24, static_cast<uint32_t>(entry_lengths.size()));
  std::byte* lengths_at = fields + kEntriesFixedBytes;
  if (!entry_lengths.empty())
    std::memcpy(lengths_at, entry_lengths.data(), entry_lengths.size_bytes());
  if (!payload.empty())
    std::memcpy(lengths_at + entry_lengths.size_bytes(), payload.data(), payload.size());
  return true;
}

bool BatchEncoder::add_hard_state(GroupId group, Term term, NodeId vote, LogIndex commit) {
  std::byte* fields = reserve(kHardStateRecordBytes, RecordKind::kHardState);
  if (fields == nullptr) return false;
  store<uint64_t>(fields, group.value());
  store<uint64_t>(fields + 8, term.value());
  store<uint64_t>(fields + 16, vote.value());
  store<uint64_t>(fields + 24, commit.value());
  return true;
}

bool BatchEncoder::add_snapshot_mark(GroupId group, LogIndex index, Term term) {
  std::byte* fields = reserve(kSnapshotMarkRecordBytes, RecordKind::kSnapshotMark);
  if (fields == nullptr) return false;
  store<uint64_t>(fields, group.value());
  store<uint64_t>(fields + 8, index.value());
  store<uint64_t>(fields + 16, term.value());
  return true;
}

bool BatchEncoder::add_truncate(GroupId group, LogIndex from_index) {
  std::byte* fields = reserve(kTruncateRecordBytes, RecordKind::kTruncate);
  if (fields == nullptr) return false;
  store<uint64_t>(fields, group.value());
  store<uint64_t>(fields + 8, from_index.value());
  return true;
}

ConstByteSpan BatchEncoder::finish() {
  RR_ASSERT(begun_ && used_bytes_ >= kBatchHeaderBytes);
  std::byte* batch = buffer_.data();
  const size_t padded_bytes = batch_bytes();
  RR_ASSERT(padded_bytes <= buffer_.size() && used_bytes_ % kBatchAlignBytes == 0);
  if (padded_bytes > used_bytes_) {
    // At least 8 bytes short of the block boundary (both are multiples of 8): room for the
    // padding record's header. Counted in the length and the CRC, not in record_count.
    const size_t padding_bytes = padded_bytes - used_bytes_;
    std::memset(batch + used_bytes_, 0, padding_bytes);
    store<uint32_t>(batch + used_bytes_, kPaddingRecordKind);
    store<uint32_t>(batch + used_bytes_ + 4, static_cast<uint32_t>(padding_bytes));
    used_bytes_ = padded_bytes;
  }
  store<uint32_t>(batch + kOffsetMagic, kBatchMagic);
  store<uint32_t>(batch + kOffsetBatchBytes, static_cast<uint32_t>(used_bytes_));
  store<uint64_t>(batch + kOffsetSeq, seq_.value());
  store<uint32_t>(batch + kOffsetRecordCount, record_count_);
  const ConstByteSpan written(batch, used_bytes_);
  store<uint32_t>(batch + kOffsetCrc, batch_crc(written));
  begun_ = false;
  return ConstByteSpan(batch, padded_bytes);
}

Result<DecodedBatch> decode_batch(ConstByteSpan bytes, uint64_t file_offset) {
  if (bytes.size() < kBatchHeaderBytes) return bad(file_offset, "header runs past the end");
  const uint32_t magic = load<uint32_t>(bytes.data() + kOffsetMagic);
  if (magic != kBatchMagic) return bad(file_offset, fmt::format("bad magic {:#010x}", magic));
  const uint32_t batch_bytes = load<uint32_t>(bytes.data() + kOffsetBatchBytes);
  if (batch_bytes < kBatchHeaderBytes || align_batch_bytes(batch_bytes) > bytes.size()) {
    return bad(file_offset,
               fmt::format("length {} is invalid ({} bytes available)", batch_bytes, bytes.size()));
  }
  const ConstByteSpan batch = bytes.first(batch_bytes);
  const uint32_t stored_crc = load<uint32_t>(batch.data() + kOffsetCrc);
  const uint32_t computed_crc = batch_crc(batch);
  if (stored_crc != computed_crc) {
    return bad(file_offset, fmt::format("CRC mismatch (stored {:#010x}, computed {:#010x})",
                                        stored_crc, computed_crc));
  }
  const size_t padded_bytes = align_batch_bytes(batch_bytes);
  if (!all_zero(bytes.subspan(batch_bytes, padded_bytes - batch_bytes))) {
    return bad(file_offset, "batch padding is not zero");
  }
  DecodedBatch decoded;
  decoded.seq = Seq(load<uint64_t>(batch.data() + kOffsetSeq));
  decoded.record_count = load<uint32_t>(batch.data() + kOffsetRecordCount);
  decoded.batch_bytes = batch_bytes;
  decoded.padded_batch_bytes = padded_bytes;
  decoded.records = batch.subspan(kBatchHeaderBytes);
  // A correct CRC over wrong structure is still rejected: every record is checked here, so a
  // RecordCursor over an accepted batch cannot fail.
  ConstByteSpan rest = decoded.records;
  for (uint32_t i = 0; i < decoded.record_count; i++) {
    const uint64_t record_offset = file_offset + (batch_bytes - rest.size());
    Record record;
    Result<size_t> parsed = parse_record(rest, record_offset, &record);
    if (!parsed.ok()) return parsed.error();
    rest = rest.subspan(parsed.value());
  }
  if (!rest.empty() && !is_padding_record(rest)) {
    return bad(file_offset, fmt::format("{} bytes after the last of {} records", rest.size(),
                                        decoded.record_count));
  }
  return decoded;
}

bool RecordCursor::next(Record* record) {
  if (left_ == 0) return false;  // what may be left is the padding record

  Result<size_t> parsed = parse_record(rest_, 0, record);
  RR_ASSERT_MSG(parsed.ok(), "RecordCursor over a batch that decode_batch did not accept");
  rest_ = rest_.subspan(parsed.value());
  left_--;
  return true;
}

std::optional<FoundBatch> next_valid_batch(ConstByteSpan bytes, uint64_t from) {
  for (uint64_t offset = from; offset + kBatchHeaderBytes <= bytes.size();
       offset += kBatchAlignBytes) {
    uint32_t magic;
    std::memcpy(&magic, bytes.data() + offset, sizeof(magic));
    if (magic != kBatchMagic) continue;
    Result<DecodedBatch> decoded = decode_batch(bytes.subspan(offset), offset);
    if (decoded.ok()) return FoundBatch{offset, decoded.value()};
  }
  return std::nullopt;
}

}  // namespace ringraft::wal
