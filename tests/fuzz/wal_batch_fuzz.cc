// libFuzzer target: wal::decode_batch, the WAL's decoder of untrusted disk bytes.
//
// Input: byte 0 picks the mode, the rest is the bytes at a batch's start.
//   bit 0 clear: decoded as they are.
//   bit 0 set:   the harness first writes the correct CRC for the length the header claims (when
//                that length is in range), so mutations reach the record checks behind the CRC.
// Every accepted batch is walked record by record and every entry length and payload byte is
// read. Refusing is fine; crashing, reading outside the input or UB is a finding.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/crc32c.h"
#include "wal/batch_format.h"

namespace {

using ringraft::ConstByteSpan;

// Mirrors the format's CRC: every byte of the batch except the crc field at [16, 20).
void fix_crc(std::vector<std::byte>& bytes) {
  if (bytes.size() < ringraft::wal::kBatchHeaderBytes) return;
  uint32_t batch_bytes = 0;
  std::memcpy(&batch_bytes, bytes.data() + 4, 4);
  if (batch_bytes < ringraft::wal::kBatchHeaderBytes || batch_bytes > bytes.size()) return;
  const ConstByteSpan batch(bytes.data(), batch_bytes);
  const uint32_t crc =
      ringraft::crc32c_extend(ringraft::crc32c(batch.first(16)), batch.subspan(20));
  std::memcpy(bytes.data() + 16, &crc, 4);
}

uint64_t walk(const ringraft::wal::DecodedBatch& batch) {
  uint64_t digest = batch.seq.value() + batch.record_count;
  ringraft::wal::RecordCursor cursor(batch);
  ringraft::wal::Record record;
  while (cursor.next(&record)) {
    digest += record.group.value() + record.term.value() + record.index.value() +
              record.vote.value() + record.commit.value();
    for (uint32_t entry = 0; entry < record.entry_count; ++entry) {
      digest += record.entry_length_bytes(entry);
    }
    for (std::byte byte : record.payload) digest += static_cast<uint8_t>(byte);
  }
  return digest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto* begin = reinterpret_cast<const std::byte*>(data + 1);
  std::vector<std::byte> bytes(begin, begin + (size - 1));
  if ((data[0] & 1) != 0) fix_crc(bytes);
  const auto decoded = ringraft::wal::decode_batch(bytes, /*file_offset=*/0);
  if (decoded.ok()) walk(decoded.value());
  return 0;
}
