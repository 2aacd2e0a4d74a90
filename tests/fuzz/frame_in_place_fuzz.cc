// libFuzzer target: the decoder's in-place path (FrameDecoder::poll over received chunks)
// against its copying path (feed/next) on the same untrusted stream.
//
// Input: as in frame_fuzz.cc (and its seed corpus), byte 0 picks the mode and the chunk size,
// the rest is the payload. Bit 0 set: the payload is one FlatBuffer, framed with a correct CRC
// so that mutations reach the verifier. Bits 1-7, v: chunks of v + 1 bytes for v < 64 (odd
// sizes misalign the chunks after them, small ones split every frame), else (v - 63) x 16 bytes
// (16..1024: frames lie whole in them and take the in-place path).
// Each chunk is copied into an 8-byte aligned buffer, as a provided receive buffer is. Both
// paths must accept the same frames in the same order and fail for the same reason; every
// frame the in-place path accepts is read field by field (ASan sees reads outside the chunk).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/bytes.h"
#include "net/frame.h"
#include "tests/net/wire_samples.h"

namespace {

using ringraft::AlignedBuffer;
using ringraft::ConstByteSpan;
using ringraft::net::FrameCounters;
using ringraft::net::FrameDecoder;
using ringraft::net::FrameLimits;

using Frames = std::vector<std::vector<std::byte>>;

constexpr uint32_t kFrameBytesMax = 64u << 10;
constexpr size_t kChunkBytesMax = 1024;

void poll_stream(FrameDecoder& decoder, ConstByteSpan stream, size_t chunk_bytes, Frames* frames) {
  static AlignedBuffer chunk_buffer(kChunkBytesMax, ringraft::net::kWireAlignBytes);
  while (!stream.empty()) {
    const size_t take_bytes = std::min(chunk_bytes, stream.size());
    std::memcpy(chunk_buffer.data(), stream.data(), take_bytes);
    stream = stream.subspan(take_bytes);
    ConstByteSpan unconsumed(chunk_buffer.data(), take_bytes);
    while (true) {
      auto frame = decoder.poll(&unconsumed);
      if (!frame.ok()) return;
      if (!frame.value().has_value()) break;
      (void)ringraft::net::testing::read_every_field(*frame.value()->message);
      const ConstByteSpan bytes = frame.value()->flatbuffer;
      frames->emplace_back(bytes.begin(), bytes.end());
    }
    if (!unconsumed.empty()) std::abort();  // poll() said it needs more but left bytes
  }
  (void)decoder.finish();
}

void feed_stream(FrameDecoder& decoder, ConstByteSpan stream, size_t chunk_bytes, Frames* frames) {
  while (!stream.empty()) {
    const size_t take_bytes = std::min(chunk_bytes, stream.size());
    if (!ringraft::net::testing::feed_and_drain(decoder, stream.first(take_bytes), frames)) return;
    stream = stream.subspan(take_bytes);
  }
  (void)decoder.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FrameCounters counters;
  static FrameDecoder in_place(FrameLimits{.frame_bytes_max = kFrameBytesMax}, &counters);
  static FrameDecoder copying(FrameLimits{.frame_bytes_max = kFrameBytesMax}, &counters);
  if (size == 0) return 0;
  in_place.reset();
  copying.reset();
  const bool frame_it = (data[0] & 1) != 0;
  const size_t chunk_code = data[0] >> 1;
  const size_t chunk_bytes = chunk_code < 64 ? chunk_code + 1 : (chunk_code - 63) * 16;
  const ConstByteSpan payload(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  std::vector<std::byte> stream(payload.begin(), payload.end());
  if (frame_it) {
    if (payload.empty() || payload.size() > kFrameBytesMax) return 0;
    stream.resize(ringraft::net::frame_bytes(payload.size()));
    ringraft::net::encode_frame(payload, stream);
  }
  Frames polled;
  Frames fed;
  poll_stream(in_place, stream, chunk_bytes, &polled);
  feed_stream(copying, stream, chunk_bytes, &fed);
  if (polled != fed || in_place.failure() != copying.failure()) std::abort();
  in_place.check_invariants();
  copying.check_invariants();
  return 0;
}
