// libFuzzer target: the frame decoder and the FlatBuffers verifier on untrusted streams.
//
// Input: byte 0 picks the mode and the chunk size, the rest is the payload.
//   bit 0 clear: the payload is a raw stream (headers and all), fed in chunks.
//   bit 0 set:   the payload is one FlatBuffer; the harness frames it with a correct CRC, so
//                mutations reach the verifier instead of dying at the CRC check.
//   bits 1-7:    chunk size - 1 (1..128 bytes per feed), as TCP might split the stream.
// Every accepted frame is read field by field, so a read the verifier should have refused
// shows up as an ASan report. Failing cleanly is fine; crashing, leaking or UB is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/frame.h"
#include "tests/net/wire_samples.h"

namespace {

using ringraft::ConstByteSpan;
using ringraft::net::FrameCounters;
using ringraft::net::FrameDecoder;
using ringraft::net::FrameLimits;

constexpr uint32_t kFrameBytesMax = 64u << 10;

uint64_t decode_stream(FrameDecoder& decoder, ConstByteSpan stream, size_t chunk_bytes) {
  uint64_t digest = 0;
  while (!stream.empty()) {
    const size_t take_bytes = std::min(chunk_bytes, stream.size());
    ConstByteSpan chunk = stream.first(take_bytes);
    stream = stream.subspan(take_bytes);
    while (!chunk.empty()) {
      chunk = chunk.subspan(decoder.feed(chunk));
      while (true) {
        auto frame = decoder.next();
        if (!frame.ok()) return digest;
        if (!frame.value().has_value()) break;
        digest += ringraft::net::testing::read_every_field(*frame.value()->message);
      }
    }
  }
  (void)decoder.finish();
  return digest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FrameCounters counters;
  static FrameDecoder decoder(FrameLimits{.frame_bytes_max = kFrameBytesMax}, &counters);
  if (size == 0) return 0;
  decoder.reset();
  const bool frame_it = (data[0] & 1) != 0;
  const size_t chunk_bytes = (data[0] >> 1) + 1u;
  const ConstByteSpan payload(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  if (!frame_it) {
    decode_stream(decoder, payload, chunk_bytes);
  } else if (!payload.empty() && payload.size() <= kFrameBytesMax) {
    std::vector<std::byte> frame(ringraft::net::frame_bytes(payload.size()));
    ringraft::net::encode_frame(payload, frame);
    decode_stream(decoder, frame, chunk_bytes);
  }
  decoder.check_invariants();
  return 0;
}
