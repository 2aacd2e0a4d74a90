// The WAL's on-disk unit: a checksummed batch of records, and its encoder and decoder.
//
// One batch is what one group commit writes (one write, one fdatasync). Layout, little-endian,
// fixed-width, every field naturally aligned:
//
//   batch header (24 bytes)
//     magic u32          kBatchMagic
//     batch_bytes u32    header + records, without the trailing padding
//     seq u64            the batch's sequence number (one per batch, consecutive per WAL)
//     crc u32            CRC32C of every byte in [0, batch_bytes) except this field
//     record_count u32
//   records, each 8-byte aligned:
//     kind u32, record_bytes u32 (header + fields + padding, a multiple of 8), then by kind:
//     entries        group u64, term u64, first_index u64, count u32,
//                    count x entry length u32, then the concatenated payload bytes
//     hard state     group u64, term u64, vote u64, commit u64
//     snapshot mark  group u64, index u64, term u64
//     truncate       group u64, from_index u64
//   only in batches padded to a block (O_DIRECT segments, wal.h): one padding record after
//   the counted ones, kind kPaddingRecordKind, record_bytes reaching the block boundary, zero
//   body; it is not counted in record_count and RecordCursor never shows it
//   zero padding up to the next multiple of 8 (kBatchAlignBytes): the next batch starts there.
//
// The padding record keeps recovery exact under O_DIRECT: a padded batch's length still says
// where the next batch starts, so zeros after a batch keep meaning "end of the log", whatever
// the block size (which recovery never needs to know).
//
// The CRC covers the sequence number and the length as well as the records (a flipped seq bit
// must not go unnoticed); padding is not covered but must be zero. Entry payloads are the
// caller's pre-encoded block, copied as-is, never re-encoded.
//
// Invariants: the encoder never writes past the buffer it was given (full is a `false`, not a
// grow); the decoder reads only inside the span it was given, whatever the bytes, and accepts
// a batch only if every length, count, kind, bound, padding byte and the CRC check out.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "common/bytes.h"
#include "common/result.h"
#include "common/types.h"

namespace ringraft::wal {

inline constexpr uint32_t kBatchMagic = 0x4c415752;  // "RWAL" read as little-endian bytes
inline constexpr size_t kBatchHeaderBytes = 24;
inline constexpr size_t kBatchAlignBytes = 8;
inline constexpr size_t kRecordHeaderBytes = 8;
// The fixed part of an entries record after the record header (group, term, first index, count).
inline constexpr size_t kEntriesFixedBytes = 28;
// The kind of the padding record (see above): not a RecordKind, since no reader ever sees one.
inline constexpr uint32_t kPaddingRecordKind = 255;

enum class RecordKind : uint32_t {
  kEntries = 1,
  kHardState = 2,
  kSnapshotMark = 3,
  kTruncate = 4,
};

const char* record_kind_name(RecordKind kind);

// One decoded record, pointing into the batch bytes it came from. Fields not used by a kind are
// zero: entries use group, term, index (first index), entry_count, entry_lengths, payload;
// hard state uses group, term, vote, commit; snapshot mark uses group, index, term; truncate
// uses group, index (the first index removed).
struct Record {
  RecordKind kind = RecordKind::kEntries;
  GroupId group;
  Term term;
  LogIndex index;
  NodeId vote;
  LogIndex commit;
  uint32_t entry_count = 0;
  ConstByteSpan entry_lengths;  // entry_count little-endian u32s
  ConstByteSpan payload;        // the concatenated entry payloads

  uint32_t entry_length_bytes(uint32_t entry) const;
};

inline constexpr size_t align_batch_bytes(size_t size_bytes) {
  return (size_bytes + kBatchAlignBytes - 1) / kBatchAlignBytes * kBatchAlignBytes;
}

// Bytes an entries record takes in a batch (with its padding).
size_t entries_record_bytes(size_t entry_count, size_t payload_bytes);
inline constexpr size_t kHardStateRecordBytes = kRecordHeaderBytes + 32;
inline constexpr size_t kSnapshotMarkRecordBytes = kRecordHeaderBytes + 24;
inline constexpr size_t kTruncateRecordBytes = kRecordHeaderBytes + 16;

// Builds one batch in a caller-provided buffer. Usage: begin(seq), add_*() until one returns
// false (full: nothing of that record was written), finish() for the bytes to write. The
// buffer's capacity is the bound; the encoder never allocates. With `block_bytes` above
// kBatchAlignBytes (a power of two dividing the buffer's size), finish() pads the batch to a
// multiple of it with a padding record, so that it can be written with O_DIRECT.
class BatchEncoder {
 public:
  BatchEncoder() = default;
  explicit BatchEncoder(ByteSpan buffer, size_t block_bytes = kBatchAlignBytes);

  void begin(Seq seq);
  bool add_entries(GroupId group, Term term, LogIndex first_index,
                   std::span<const uint32_t> entry_lengths, ConstByteSpan payload);
  bool add_hard_state(GroupId group, Term term, NodeId vote, LogIndex commit);
  bool add_snapshot_mark(GroupId group, LogIndex index, Term term);
  bool add_truncate(GroupId group, LogIndex from_index);
  // Writes the header and CRC, zeroes the padding; the returned span is the whole padded batch.
  // The encoder must be begun again before the next batch.
  ConstByteSpan finish();

  bool begun() const { return begun_; }
  Seq seq() const { return seq_; }
  uint32_t record_count() const { return record_count_; }
  bool empty() const { return record_count_ == 0; }
  // Padded size the batch would have if finished now (to block_bytes).
  size_t batch_bytes() const;
  size_t capacity_bytes() const { return buffer_.size(); }
  // Bytes of records that still fit (what fits() compares with).
  size_t free_bytes() const { return buffer_.size() - align_batch_bytes(used_bytes_); }
  // Whether a record of `record_bytes` still fits (with the batch's final padding).
  bool fits(size_t record_bytes) const;

 private:
  std::byte* reserve(size_t record_bytes, RecordKind kind);

  ByteSpan buffer_;
  size_t block_bytes_ = kBatchAlignBytes;
  size_t used_bytes_ = 0;
  Seq seq_;
  uint32_t record_count_ = 0;
  bool begun_ = false;
};

// A batch the decoder accepted. `records` spans the record bytes.
struct DecodedBatch {
  Seq seq;
  uint32_t record_count = 0;
  size_t batch_bytes = 0;         // the header's length, without padding
  size_t padded_batch_bytes = 0;  // where the next batch starts, relative to this one
  ConstByteSpan records;
};

// Decodes and fully validates the batch that starts at bytes[0]. `file_offset` is only used in
// error messages (the batch's offset in its file). Errors are kInvalidInput and name the
// offset of the bad field.
Result<DecodedBatch> decode_batch(ConstByteSpan bytes, uint64_t file_offset = 0);

// The first valid batch at or after `from`, looking at every kBatchAlignBytes step, with its
// offset; nothing if none lies whole in `bytes`. For scans past the end of the valid log
// (debris, stale batches of a recycled segment, batches after a torn one): most offsets fail
// the magic check at once, and only candidates pay for decode_batch.
struct FoundBatch {
  uint64_t offset = 0;
  DecodedBatch batch;
};
std::optional<FoundBatch> next_valid_batch(ConstByteSpan bytes, uint64_t from);

// Walks the records of a batch that decode_batch accepted.
class RecordCursor {
 public:
  explicit RecordCursor(const DecodedBatch& batch)
      : rest_(batch.records), left_(batch.record_count) {}
  // The next record, or false at the end.
  bool next(Record* record);

 private:
  ConstByteSpan rest_;
  uint32_t left_;
};

}  // namespace ringraft::wal
