// libFuzzer target: wal::scan_segment, recovery's reader of a whole segment file (the decision
// between a clean end, a torn tail and corruption, and the per-group summary).
//
// Input: byte 0 picks the mode, the rest is the segment file's bytes.
//   bit 0:     the segment is the last one (a torn tail is tolerated) or an older one
//   bits 1-2:  fsyncs_in_flight_max - 1 (unacknowledged batches tolerated after a torn one)
//   bit 3:     the harness first writes the correct CRC into every 8-aligned header that has
//              the magic and an in-range length, so mutations reach the checks behind the CRC
// The scan runs twice over the bytes (the second time as the next, last segment, continuing
// the first scan's summary), as recover() does for consecutive segments. Whatever the bytes: no
// crash, no read outside the input, and the scan's results stay inside it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/crc32c.h"
#include "wal/recovery_scan.h"

namespace {

using ringraft::ConstByteSpan;
namespace wal = ringraft::wal;

void fix_crcs(std::vector<std::byte>& bytes) {
  for (size_t offset = 0; offset + wal::kBatchHeaderBytes <= bytes.size();
       offset += wal::kBatchAlignBytes) {
    uint32_t magic = 0;
    uint32_t batch_bytes = 0;
    std::memcpy(&magic, bytes.data() + offset, 4);
    std::memcpy(&batch_bytes, bytes.data() + offset + 4, 4);
    if (magic != wal::kBatchMagic || batch_bytes < wal::kBatchHeaderBytes ||
        batch_bytes > bytes.size() - offset) {
      continue;
    }
    const ConstByteSpan batch(bytes.data() + offset, batch_bytes);
    const uint32_t crc =
        ringraft::crc32c_extend(ringraft::crc32c(batch.first(16)), batch.subspan(20));
    std::memcpy(bytes.data() + offset + 16, &crc, 4);
  }
}

// The seq of the first batch header, so that mutated sequence numbers still line up.
ringraft::Seq first_seq(const std::vector<std::byte>& bytes) {
  uint64_t seq = 1;
  if (bytes.size() >= wal::kBatchHeaderBytes) std::memcpy(&seq, bytes.data() + 8, 8);
  return ringraft::Seq(seq);
}

void check(bool holds) {
  if (!holds) __builtin_trap();
}

void check_scan(const wal::SegmentScan& scan, size_t size_bytes) {
  check(scan.end_offset <= size_bytes);
  check(scan.end_offset % wal::kBatchAlignBytes == 0);
  check(scan.batches <= size_bytes / wal::kBatchHeaderBytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const auto* begin = reinterpret_cast<const std::byte*>(data + 1);
  std::vector<std::byte> bytes(begin, begin + (size - 1));
  if ((mode & 8) != 0) fix_crcs(bytes);
  const bool last = (mode & 1) != 0;
  const uint32_t fsyncs_in_flight_max = 1 + ((mode >> 1) & 3);

  wal::RecoveryReport report;
  ringraft::Seq expected_seq = first_seq(bytes);
  uint64_t records_shown = 0;
  const wal::LocatedRecordVisitor visitor = [&](ringraft::Seq seq, const wal::Record& record,
                                                const wal::RecordLocation&) {
    check(seq == expected_seq);  // records are shown before the scan moves past their batch
    records_shown += record.entry_count + 1;
  };
  const wal::SegmentScan first =
      wal::scan_segment(bytes, "fuzz.wal", ringraft::Seq(1), last, fsyncs_in_flight_max,
                        &expected_seq, &report, visitor);
  check_scan(first, bytes.size());
  check(report.batches_recovered == first.batches);
  // The same bytes again as the next (last) segment: the summary carries over.
  const wal::SegmentScan second =
      wal::scan_segment(bytes, "fuzz.wal", ringraft::Seq(1), true, fsyncs_in_flight_max,
                        &expected_seq, &report, visitor);
  check_scan(second, bytes.size());
  check(report.batches_recovered == first.batches + second.batches);
  return 0;
}
