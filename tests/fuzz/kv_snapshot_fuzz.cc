// libFuzzer target: kv::read_snapshot, the reader of snapshot bytes from disk or a peer.
//
// Input: byte 0 picks the mode, the rest is the snapshot stream.
//   bit 0 set:   the harness first rewrites the trailer with the right CRC32C, so mutations
//                reach the header and record checks behind the checksum.
//   bits 1-7:    the source hands out at most (bits + 1) bytes per read.
// A store that restores must write a snapshot that restores to the same store. Refusing is
// fine; a crash, an allocation beyond the limits, or UB is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/assert.h"
#include "common/crc32c.h"
#include "tools/kv/kv_snapshot.h"

namespace {

using namespace ringraft;
using namespace ringraft::kv;

void fix_crc(std::vector<std::byte>& bytes) {
  if (bytes.size() < 4) return;
  const uint32_t crc = crc32c(ConstByteSpan(bytes).first(bytes.size() - 4));
  for (size_t i = 0; i < 4; ++i) {
    bytes[bytes.size() - 4 + i] = std::byte(static_cast<uint8_t>(crc >> (8 * i)));
  }
}

KvLimits small_limits() {
  KvLimits limits;
  limits.keys_max = 1024;
  limits.data_bytes_max = 1 << 20;
  limits.value_bytes_max = 64 * 1024;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto* begin = reinterpret_cast<const std::byte*>(data + 1);
  std::vector<std::byte> bytes(begin, begin + (size - 1));
  if ((data[0] & 1) != 0) fix_crc(bytes);
  KvStore store(small_limits());
  SpanSnapshotSource source(bytes, (size_t{data[0]} >> 1) + 1);
  if (!read_snapshot(source, store).ok()) return 0;
  store.check_invariants();
  VectorSnapshotSink sink;
  RR_ASSERT(write_snapshot(store, sink).ok());
  KvStore again(small_limits());
  SpanSnapshotSource written(sink.bytes());
  RR_ASSERT(read_snapshot(written, again).ok());
  RR_ASSERT(again.key_count() == store.key_count() && again.data_bytes() == store.data_bytes());
  store.for_each([&](std::string_view key, const std::string& value) {
    const std::string* copy = again.find(key);
    RR_ASSERT(copy != nullptr && *copy == value);
  });
  return 0;
}
