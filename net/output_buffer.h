// OutputBuffer: the bounded queue of frames waiting to go to one peer.
//
// Two fixed buffers of capacity_bytes each, allocated once: `pending` collects the frames that
// send() encodes during a loop turn (the message's one copy), `in flight` is what the kernel is
// sending. A flush swaps them, so the turn's frames leave in one send while the next turn's
// collect behind it; nothing is moved or grown. Full behaviour: a frame that does not fit in
// pending is refused (the caller gets kFull) and nothing is queued.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace ringraft::net {

class OutputBuffer {
 public:
  explicit OutputBuffer(size_t capacity_bytes);

  // Frames `flatbuffer` at the end of pending. False (nothing written) when it does not fit.
  bool try_append_frame(ConstByteSpan flatbuffer);

  // Moves pending into flight; returns the bytes to send. Requires !sending() and pending.
  ConstByteSpan begin_send();
  // The kernel took `bytes` more of the in-flight bytes. True when all of them are sent.
  bool advance_send(size_t bytes);
  // What is still to send of the in-flight bytes.
  ConstByteSpan unsent() const;

  // Forgets everything queued and in flight (the connection ended); returns the frames dropped.
  uint64_t drop_all();

  bool sending() const { return flight_bytes_ != 0; }
  size_t pending_bytes() const { return pending_bytes_; }
  uint64_t pending_frames() const { return pending_frames_; }
  uint64_t flight_frames() const { return flight_frames_; }
  size_t capacity_bytes() const { return capacity_bytes_; }
  void check_invariants() const;

 private:
  size_t capacity_bytes_;
  AlignedBuffer pending_;
  AlignedBuffer flight_;
  size_t pending_bytes_ = 0;
  uint64_t pending_frames_ = 0;
  size_t flight_bytes_ = 0;
  size_t flight_sent_bytes_ = 0;
  uint64_t flight_frames_ = 0;
};

}  // namespace ringraft::net
