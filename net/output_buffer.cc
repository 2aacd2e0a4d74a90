#include "net/output_buffer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "common/assert.h"
#include "common/crc32c.h"
#include "net/frame.h"
#include "net/wire.h"

namespace ringraft::net {
namespace {

constexpr size_t round_up(size_t bytes, size_t alignment) {
  return (bytes + alignment - 1) / alignment * alignment;
}

}  // namespace

void OutputBuffer::Side::clear() {
  segment_count = 0;
  end_bytes = 0;
  frame_bytes = 0;
  frames = 0;
}

void OutputBuffer::Side::add(size_t offset, size_t bytes) {
  RR_ASSERT(offset >= end_bytes && offset + bytes <= buffer.capacity_bytes());
  if (segment_count > 0 && offset == end_bytes) {
    segments[segment_count - 1].iov_len += bytes;  // behind the last frame: same segment
  } else {
    RR_ASSERT(segment_count < kSegmentsMax);
    segments[segment_count].iov_base = buffer.data() + offset;
    segments[segment_count].iov_len = bytes;
    segment_count++;
  }
  end_bytes = offset + bytes;
  frame_bytes += bytes;
  frames++;
}

OutputBuffer::OutputBuffer(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes),
      pending_{AlignedBuffer(capacity_bytes)},
      flight_{AlignedBuffer(capacity_bytes)} {
  RR_ASSERT(capacity_bytes > kFrameHeaderBytes);
}

bool OutputBuffer::try_append_frame(ConstByteSpan flatbuffer) {
  RR_ASSERT(!flatbuffer.empty());
  RR_ASSERT_MSG(!reserved(), "a frame is being built in place");
  if (frame_bytes(flatbuffer.size()) > capacity_bytes_ - pending_.end_bytes) return false;
  const size_t written =
      encode_frame(flatbuffer, pending_.buffer.span().subspan(pending_.end_bytes));
  RR_ASSERT(written == frame_bytes(flatbuffer.size()));
  pending_.add(pending_.end_bytes, written);
  return true;
}

ByteSpan OutputBuffer::reserve_frame(size_t flatbuffer_bytes_max) {
  RR_ASSERT_MSG(!reserved(), "one frame built in place at a time");
  RR_ASSERT(flatbuffer_bytes_max > 0);
  // The region's start and end are 8-byte aligned: a FlatBufferBuilder aligns its scalars
  // relative to the end of its buffer.
  const size_t begin = round_up(pending_.end_bytes + kFrameHeaderBytes, kWireAlignBytes);
  const size_t region_bytes = round_up(flatbuffer_bytes_max, kWireAlignBytes);
  if (begin > capacity_bytes_ || region_bytes > capacity_bytes_ - begin) return {};
  reservation_ = pending_.buffer.span().subspan(begin, region_bytes);
  return reservation_;
}

void OutputBuffer::cancel_reservation() {
  reservation_ = {};
}

bool OutputBuffer::commit_frame(ConstByteSpan flatbuffer) {
  return commit_frame(flatbuffer, KnownCrcSpan{});
}

bool OutputBuffer::commit_frame(ConstByteSpan flatbuffer, const KnownCrcSpan& known) {
  RR_ASSERT_MSG(reserved(), "commit_frame() without reserve_frame()");
  RR_ASSERT(!flatbuffer.empty() && flatbuffer.size() <= std::numeric_limits<uint32_t>::max());
  const ByteSpan region = std::exchange(reservation_, ByteSpan());
  const std::byte* region_end = region.data() + region.size();
  const bool built_in_place =
      flatbuffer.data() >= region.data() && flatbuffer.data() + flatbuffer.size() == region_end;
  if (!built_in_place) return try_append_frame(flatbuffer);

  // Where the known part lies, as an offset: the move over a gap below changes addresses.
  size_t known_offset = 0;
  if (known.size_bytes > 0) {
    RR_ASSERT_MSG(known.data >= flatbuffer.data() &&
                      known.data + known.size_bytes <= flatbuffer.data() + flatbuffer.size(),
                  "a KnownCrcSpan must lie inside the FlatBuffer it is framed with");
    known_offset = static_cast<size_t>(known.data - flatbuffer.data());
  }
  std::byte* const base = pending_.buffer.data();
  size_t header_offset = static_cast<size_t>(flatbuffer.data() - base) - kFrameHeaderBytes;
  RR_ASSERT(header_offset >= pending_.end_bytes);
  const bool has_gap = header_offset != pending_.end_bytes;
  if (has_gap &&
      (flatbuffer.size() <= kMoveOverGapBytesMax || pending_.segment_count == kSegmentsMax)) {
    // Small, or out of segments: one move instead of one more iovec.
    header_offset = pending_.end_bytes;
    std::memmove(base + header_offset + kFrameHeaderBytes, flatbuffer.data(), flatbuffer.size());
    flatbuffer = ConstByteSpan(base + header_offset + kFrameHeaderBytes, flatbuffer.size());
  }
  const auto length_bytes = static_cast<uint32_t>(flatbuffer.size());
  uint32_t crc = 0;
  if (known.size_bytes == 0) {
    crc = crc32c(flatbuffer);
  } else {
    // crc(head ++ known ++ tail) without a pass over the known part.
    const size_t tail_offset = known_offset + known.size_bytes;
    const uint32_t head_crc = crc32c(flatbuffer.first(known_offset));
    const uint32_t tail_crc = crc32c(flatbuffer.subspan(tail_offset));
    crc = crc32c_combine(crc32c_combine(head_crc, known.crc, known.size_bytes), tail_crc,
                         flatbuffer.size() - tail_offset);
  }
  std::memcpy(base + header_offset, &length_bytes, sizeof(length_bytes));
  std::memcpy(base + header_offset + 4, &crc, sizeof(crc));
  pending_.add(header_offset, frame_bytes(flatbuffer.size()));
  return true;
}

std::span<const iovec> OutputBuffer::begin_send() {
  RR_ASSERT_MSG(!sending(), "one send in flight per peer");
  RR_ASSERT_MSG(!reserved(), "a frame is being built in place");
  RR_ASSERT(pending_.frame_bytes > 0);
  std::swap(pending_, flight_);
  pending_.clear();
  flight_sent_bytes_ = 0;
  flight_first_unsent_ = 0;
  return unsent();
}

bool OutputBuffer::advance_send(size_t bytes) {
  RR_ASSERT(sending());
  RR_ASSERT(bytes <= unsent_bytes());
  flight_sent_bytes_ += bytes;
  if (flight_sent_bytes_ == flight_.frame_bytes) {
    flight_.clear();
    flight_sent_bytes_ = 0;
    flight_first_unsent_ = 0;
    return true;
  }
  // A short send: trim the segments it covered, so unsent() starts where the kernel stopped.
  while (bytes > 0) {
    iovec& segment = flight_.segments[flight_first_unsent_];
    const size_t taken = std::min(bytes, segment.iov_len);
    segment.iov_base = static_cast<std::byte*>(segment.iov_base) + taken;
    segment.iov_len -= taken;
    bytes -= taken;
    if (segment.iov_len == 0) flight_first_unsent_++;
  }
  return false;
}

std::span<const iovec> OutputBuffer::unsent() const {
  return std::span<const iovec>(flight_.segments.data() + flight_first_unsent_,
                                flight_.segment_count - flight_first_unsent_);
}

uint64_t OutputBuffer::drop_all() {
  const uint64_t dropped = pending_.frames + flight_.frames;
  pending_.clear();
  flight_.clear();
  flight_sent_bytes_ = 0;
  flight_first_unsent_ = 0;
  reservation_ = {};
  return dropped;
}

void OutputBuffer::check_invariants() const {
  for (const Side* side : {&pending_, &flight_}) {
    RR_ASSERT(side->end_bytes <= capacity_bytes_);
    RR_ASSERT(side->frame_bytes <= side->end_bytes);
    RR_ASSERT(side->segment_count <= kSegmentsMax);
    RR_ASSERT((side->frame_bytes == 0) == (side->frames == 0));
  }
  RR_ASSERT(flight_sent_bytes_ <= flight_.frame_bytes);
  RR_ASSERT(flight_first_unsent_ <= flight_.segment_count);
}

}  // namespace ringraft::net
