#include "net/output_buffer.h"

#include <utility>

#include "common/assert.h"
#include "net/frame.h"

namespace ringraft::net {

OutputBuffer::OutputBuffer(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes), pending_(capacity_bytes), flight_(capacity_bytes) {
  RR_ASSERT(capacity_bytes > kFrameHeaderBytes);
}

bool OutputBuffer::try_append_frame(ConstByteSpan flatbuffer) {
  RR_ASSERT(!flatbuffer.empty());
  if (frame_bytes(flatbuffer.size()) > capacity_bytes_ - pending_bytes_) return false;
  const size_t written = encode_frame(flatbuffer, pending_.span().subspan(pending_bytes_));
  RR_ASSERT(written == frame_bytes(flatbuffer.size()));
  pending_bytes_ += written;
  pending_frames_++;
  RR_ASSERT(pending_bytes_ <= capacity_bytes_);
  return true;
}

ConstByteSpan OutputBuffer::begin_send() {
  RR_ASSERT_MSG(!sending(), "one send in flight per peer");
  RR_ASSERT(pending_bytes_ > 0);
  std::swap(pending_, flight_);
  flight_bytes_ = std::exchange(pending_bytes_, 0);
  flight_frames_ = std::exchange(pending_frames_, 0);
  flight_sent_bytes_ = 0;
  return unsent();
}

bool OutputBuffer::advance_send(size_t bytes) {
  RR_ASSERT(sending());
  RR_ASSERT(bytes <= flight_bytes_ - flight_sent_bytes_);
  flight_sent_bytes_ += bytes;
  if (flight_sent_bytes_ < flight_bytes_) return false;
  flight_bytes_ = 0;
  flight_sent_bytes_ = 0;
  flight_frames_ = 0;
  return true;
}

ConstByteSpan OutputBuffer::unsent() const {
  return flight_.span().subspan(flight_sent_bytes_, flight_bytes_ - flight_sent_bytes_);
}

uint64_t OutputBuffer::drop_all() {
  const uint64_t dropped = pending_frames_ + flight_frames_;
  pending_bytes_ = 0;
  pending_frames_ = 0;
  flight_bytes_ = 0;
  flight_sent_bytes_ = 0;
  flight_frames_ = 0;
  return dropped;
}

void OutputBuffer::check_invariants() const {
  RR_ASSERT(pending_bytes_ <= capacity_bytes_);
  RR_ASSERT(flight_bytes_ <= capacity_bytes_);
  RR_ASSERT(flight_sent_bytes_ <= flight_bytes_);
  RR_ASSERT((pending_bytes_ == 0) == (pending_frames_ == 0));
  RR_ASSERT((flight_bytes_ == 0) == (flight_frames_ == 0));
}

}  // namespace ringraft::net
