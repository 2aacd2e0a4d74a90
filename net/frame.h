// Frames on a peer connection: encoding one, and a streaming decoder that turns received chunks
// back into complete, verified Messages.
//
// Layout, little-endian:  length u32 | crc u32 | FlatBuffer (length bytes)
// `length` counts the FlatBuffer only; `crc` is the CRC32C of the FlatBuffer bytes. The
// FlatBuffer is a wire::Message (file identifier "RRFT", see net/wire.h).
//
// The decoder treats every byte as untrusted. For each frame it checks, in order: the length
// against FrameLimits::frame_bytes_max (before buffering the body), the CRC, the file
// identifier, the FlatBuffers Verifier (bounded depth and table count) and that the body is a
// known union member. Only then does the caller get a pointer to the Message. The first bad
// frame fails the decoder for good (the connection must close: after a bad length nothing in
// the stream can be trusted); the reason is counted in the shard's FrameErrorCounters.
//
// Bounds: the decoder owns one buffer of kFrameHeaderBytes + frame_bytes_max bytes, allocated
// when it is built (once per connection), never grown. feed() copies what fits; when the
// buffer holds a complete frame and more, feed() takes less than it was given until next()
// has consumed frames (the caller then feeds the rest: see feed()).
//
// Copies: the decoder copies each received chunk once into its buffer (the connection's recv
// buffers go back to the kernel at once) and verifies in place. On the send side an entry block
// is copied into the FlatBufferBuilder and the finished Message once more by encode_frame.
// TODO(issue 6, connections): build the Message directly in the peer's output buffer (a
// flatbuffers::Allocator over it, 8 bytes left free for the header) so the entry block is copied
// once; only speed depends on it, not correctness.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/result.h"
#include "net/wire.h"

namespace ringraft::net {

inline constexpr size_t kFrameHeaderBytes = 8;

// Why a frame was refused. Every reason closes the connection.
enum class FrameError : uint8_t {
  kTooLarge,           // length above frame_bytes_max (or the encoder's u32 field)
  kBadCrc,             // the CRC32C does not match the FlatBuffer bytes
  kWrongRoot,          // too short for a FlatBuffer, or not a Message (wrong file identifier)
  kInvalidFlatBuffer,  // the Verifier refused it (bad offsets, depth or table count)
  kUnknownBody,        // verified, but the body is NONE or a union member we don't know
  kTruncated,          // the stream ended inside a frame
};
inline constexpr size_t kFrameErrorCount = 6;
static_assert(static_cast<size_t>(FrameError::kTruncated) + 1 == kFrameErrorCount);

const char* frame_error_name(FrameError error);

struct FrameLimits {
  // Largest FlatBuffer a frame may carry; also fixes the decoder's buffer size.
  uint32_t frame_bytes_max = 8u << 20;
  // Verifier bounds: nesting of tables and vectors, and tables per frame (a Heartbeat has one
  // table per group).
  uint32_t verifier_depth_max = 16;
  uint32_t verifier_tables_max = 1u << 17;
};

// Refused frames by reason, plus frames accepted. One per shard, shared by its connections'
// decoders (single-threaded, like everything a shard owns).
struct FrameCounters {
  uint64_t frames_accepted = 0;
  std::array<uint64_t, kFrameErrorCount> errors_by_reason{};

  uint64_t errors(FrameError error) const { return errors_by_reason[static_cast<size_t>(error)]; }
};

// Bytes of a frame carrying a FlatBuffer of `flatbuffer_bytes`.
inline constexpr size_t frame_bytes(size_t flatbuffer_bytes) {
  return kFrameHeaderBytes + flatbuffer_bytes;
}

// Writes the frame for `flatbuffer` at the start of `out`. Returns the bytes written, or 0 when
// `out` is too small (nothing is written then). `flatbuffer` must be non-empty and below 4 GiB.
size_t encode_frame(ConstByteSpan flatbuffer, ByteSpan out);

// A frame the decoder accepted. Both pointers stay valid until the next feed(), next() or reset().
struct DecodedFrame {
  ConstByteSpan flatbuffer;
  const wire::Message* message = nullptr;
};

class FrameDecoder {
 public:
  // `counters` must outlive the decoder.
  FrameDecoder(const FrameLimits& limits, FrameCounters* counters);

  // Copies a prefix of `chunk` into the buffer and returns its size. Use:
  //   while (!chunk.empty()) {
  //     chunk = chunk.subspan(decoder.feed(chunk));
  //     while (true) { auto frame = decoder.next(); ...stop on error or nullopt... }
  //   }
  // After next() has returned nullopt, feed() of a non-empty chunk always takes at least one
  // byte. A failed decoder takes everything and keeps nothing.
  size_t feed(ConstByteSpan chunk);

  // The next complete, verified frame; nullopt when more bytes are needed; an error
  // (kInvalidInput, context naming the reason and stream offset) when the stream is bad. After
  // an error the decoder stays failed and returns that error again.
  Result<std::optional<DecodedFrame>> next();

  // The peer closed the stream: an error if part of a frame is still buffered (kTruncated).
  Result<void> finish();

  // Forgets everything (buffered bytes and failure) for a new stream; keeps the buffer.
  void reset();

  std::optional<FrameError> failure() const { return failure_; }
  size_t buffered_bytes() const { return write_pos_ - read_pos_; }
  size_t capacity_bytes() const { return buffer_.capacity_bytes(); }
  uint64_t stream_offset() const { return stream_offset_; }
  void check_invariants() const;

 private:
  Error fail(FrameError error, uint64_t offset, uint64_t detail);
  Result<std::optional<DecodedFrame>> verify(uint32_t length_bytes, uint32_t crc);
  void compact();

  FrameLimits limits_;
  FrameCounters* counters_;
  AlignedBuffer buffer_;
  size_t read_pos_ = 0;         // first byte not yet consumed by next()
  size_t write_pos_ = 0;        // end of the bytes fed
  uint64_t stream_offset_ = 0;  // stream offset of buffer_[read_pos_]
  std::optional<FrameError> failure_;
  uint64_t failure_offset_ = 0;
  uint64_t failure_detail_ = 0;
};

}  // namespace ringraft::net
