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
// when it is built (once per connection), never grown. It holds at most one frame: feed() copies
// no further than the end of the frame being assembled (the header first, then the length it
// names), so every buffered frame starts at the buffer's 8-byte aligned start and nothing is
// ever moved to align it.
//
// Copies: a frame that lies whole in one received chunk is verified and handed over where it
// lies (next_in_place(): no copy); only a frame that straddles chunks is copied, once, into the
// decoder. On the send side a caller either builds the Message in the peer's output buffer
// (net/message_builder.h: no copy) or hands a finished one to send(), which copies it once.
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
  uint64_t frames_in_place = 0;  // of those, verified where they arrived (not copied)
  // Frames whose rest the Connection began to receive straight into the decoder (large frames:
  // no copy out of the receive buffers; counted when the receive starts, so a frame cut short
  // or refused counts too), and the bytes it received that way.
  uint64_t frames_received_direct = 0;
  uint64_t bytes_received_direct = 0;
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

  // Copies a prefix of `chunk` into the buffer, no further than the end of the frame being
  // assembled, and returns its size (0 while a complete frame waits for next()). Use:
  //   while (!chunk.empty()) {
  //     chunk = chunk.subspan(decoder.feed(chunk));
  //     while (true) { auto frame = decoder.next(); ...stop on error or nullopt... }
  //   }
  // After next() has returned nullopt, feed() of a non-empty chunk always takes at least one
  // byte. A failed decoder takes everything and keeps nothing.
  size_t feed(ConstByteSpan chunk);

  // The frame at the start of `bytes`, verified where it lies, when the decoder holds nothing,
  // the frame lies whole in `bytes` and its FlatBuffer is 8-byte aligned there; then
  // *consumed_bytes is its size and the frame points into `bytes` (valid as long as they are).
  // nullopt (nothing consumed) when one of those does not hold: feed() the bytes instead. An
  // error, as from next(), when the frame is bad; the decoder is then failed.
  Result<std::optional<DecodedFrame>> next_in_place(ConstByteSpan bytes, size_t* consumed_bytes);

  // The next frame of a received chunk, taking in place what lies whole in it and copying only
  // what straddles chunks: `*unconsumed` is what is left of the chunk and shrinks past every
  // byte used. nullopt when the chunk is used up and the decoder needs the next one. An error as
  // from next() (then *unconsumed is emptied). The frame is valid while both the chunk and the
  // decoder are untouched.
  Result<std::optional<DecodedFrame>> poll(ConstByteSpan* unconsumed);

  // The next complete, verified frame; nullopt when more bytes are needed; an error
  // (kInvalidInput, context naming the reason and stream offset) when the stream is bad. After
  // an error the decoder stays failed and returns that error again.
  Result<std::optional<DecodedFrame>> next();

  // The missing rest of the frame being assembled, for a caller that receives it straight from
  // the socket instead of feeding chunks: the rest of the header while it is incomplete, then
  // the rest of the body it announces (empty when that length is above frame_bytes_max, or the
  // decoder failed). So never past the frame's end, never more than the buffer allocated at
  // construction, and the header is in before any body byte is asked for. Write a prefix of it,
  // then commit_received(); next() checks the frame as if it had been fed. Writing there, like
  // feed(), ends the validity of the frame next() returned last.
  ByteSpan receive_space();
  // The first `received_bytes` of receive_space() now hold bytes of the stream: they count as
  // fed (the body's CRC is extended over them here).
  void commit_received(size_t received_bytes);

  // The peer closed the stream: an error if part of a frame is still buffered (kTruncated).
  Result<void> finish();

  // Forgets everything (buffered bytes and failure) for a new stream; keeps the buffer.
  void reset();

  std::optional<FrameError> failure() const { return failure_; }
  size_t buffered_bytes() const { return buffered_bytes_; }
  size_t capacity_bytes() const { return buffer_.capacity_bytes(); }
  uint64_t stream_offset() const { return stream_offset_; }
  void check_invariants() const;

 private:
  Error fail(FrameError error, uint64_t offset, uint64_t detail);
  // Checks the frame whose FlatBuffer starts at `flatbuffer_begin` (`computed_crc` is the CRC of
  // its bytes, `crc` the header's); on success counts it and advances stream_offset_ (the
  // caller consumes its bytes).
  Result<std::optional<DecodedFrame>> verify(const std::byte* flatbuffer_begin,
                                             uint32_t length_bytes, uint32_t crc,
                                             uint32_t computed_crc);
  // Bytes feed() may still take for the frame being assembled.
  size_t wanted_bytes() const;

  FrameLimits limits_;
  FrameCounters* counters_;
  AlignedBuffer buffer_;
  size_t buffered_bytes_ = 0;   // of the frame being assembled, from buffer_[0]
  uint32_t body_crc_ = 0;       // CRC32C of the body bytes fed so far
  uint64_t stream_offset_ = 0;  // stream offset of buffer_[0]
  std::optional<FrameError> failure_;
  uint64_t failure_offset_ = 0;
  uint64_t failure_detail_ = 0;
};

}  // namespace ringraft::net
