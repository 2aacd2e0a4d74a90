// OutputBuffer: the bounded queue of frames waiting to go to one peer.
//
// Two fixed buffers of capacity_bytes each, allocated once: `pending` collects the frames of a
// loop turn, `in flight` is what the kernel is sending. A flush swaps them, so the turn's frames
// leave in one sendmsg while the next turn's collect behind it; nothing is moved or grown. Full
// behaviour: a frame that does not fit in pending is refused (the caller gets kFull) and
// nothing is queued.
//
// A frame gets into pending one of two ways:
//  - try_append_frame() copies a finished FlatBuffer behind the last frame (the one copy);
//  - reserve_frame() hands out a region of pending in which the caller builds the FlatBuffer
//    (a FlatBufferBuilder over it, see net/message_builder.h), and commit_frame() frames it
//    where it was built: no copy. A builder fills its region from the end down, so a message
//    smaller than its reservation leaves a gap before its header. Small frames are moved down
//    over the gap (cheaper than one more iovec); large ones start a new segment, one iovec of
//    the sendmsg, up to kSegmentsMax per buffer (then they are moved too).
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/bytes.h"

namespace ringraft::net {

// A part of a FlatBuffer being framed whose CRC32C the caller already has (an entry block and
// the CRC the WAL computed over it): the frame's CRC then reads only the bytes around it and
// combines (crc32c_combine). A wrong `crc` is not caught here: the receiver refuses the frame
// (kBadCrc) and closes the connection. Empty (size_bytes 0): no such part.
struct KnownCrcSpan {
  const std::byte* data = nullptr;
  size_t size_bytes = 0;
  uint32_t crc = 0;
};

class OutputBuffer {
 public:
  // Contiguous runs of frames in one buffer: the iovecs of its sendmsg.
  static constexpr size_t kSegmentsMax = 16;
  // A frame built in place this small is moved over its gap instead of taking a segment.
  static constexpr size_t kMoveOverGapBytesMax = 4096;

  explicit OutputBuffer(size_t capacity_bytes);

  // Frames `flatbuffer` at the end of pending. False (nothing written) when it does not fit.
  bool try_append_frame(ConstByteSpan flatbuffer);

  // Reserves room at the end of pending for a frame whose FlatBuffer takes at most
  // `flatbuffer_bytes_max` bytes, and returns the region for the FlatBuffer: its end is 8-byte
  // aligned; empty when it does not fit (nothing reserved). Until commit_frame() or
  // cancel_reservation(), nothing else may be appended.
  ByteSpan reserve_frame(size_t flatbuffer_bytes_max);
  // Frames the FlatBuffer built for the reservation. In place when `flatbuffer` ends at the end
  // of the reserved region (a builder over it), else copied like try_append_frame() (a builder
  // that outgrew the region); false when a copy does not fit (nothing queued).
  bool commit_frame(ConstByteSpan flatbuffer);
  // The same, with `known` lying inside `flatbuffer`: a frame built in place takes its CRC from
  // known.crc and one pass over the rest only (a copied one ignores `known`).
  bool commit_frame(ConstByteSpan flatbuffer, const KnownCrcSpan& known);
  void cancel_reservation();
  bool reserved() const { return !reservation_.empty(); }

  // Moves pending into flight; returns the iovecs to send. Requires !sending() and pending.
  std::span<const iovec> begin_send();
  // The kernel took `bytes` more of the in-flight bytes. True when all of them are sent.
  bool advance_send(size_t bytes);
  // What is still to send of the in-flight bytes.
  std::span<const iovec> unsent() const;
  size_t unsent_bytes() const { return flight_.frame_bytes - flight_sent_bytes_; }

  // Forgets everything queued and in flight (the connection ended); returns the frames dropped.
  uint64_t drop_all();

  bool sending() const { return flight_.frame_bytes != 0; }
  size_t pending_bytes() const { return pending_.frame_bytes; }
  uint64_t pending_frames() const { return pending_.frames; }
  uint64_t flight_frames() const { return flight_.frames; }
  size_t capacity_bytes() const { return capacity_bytes_; }
  void check_invariants() const;

 private:
  struct Side {
    AlignedBuffer buffer;  // iovecs point into it; they move with it on a swap
    std::array<iovec, kSegmentsMax> segments{};
    size_t segment_count = 0;
    size_t end_bytes = 0;    // used, gaps included
    size_t frame_bytes = 0;  // in the segments
    uint64_t frames = 0;

    void clear();
    // Counts `bytes` of frames written at [offset, offset + bytes) of the buffer.
    void add(size_t offset, size_t bytes);
  };

  size_t capacity_bytes_;
  Side pending_;
  Side flight_;
  size_t flight_sent_bytes_ = 0;
  size_t flight_first_unsent_ = 0;  // the segment the next send starts in
  ByteSpan reservation_;            // the region handed out by reserve_frame()
};

}  // namespace ringraft::net
