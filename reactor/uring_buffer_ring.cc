#include "reactor/uring_buffer_ring.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "reactor/uring.h"

namespace ringraft {

UringBufferRing::UringBufferRing(Uring& uring, uint16_t group_id, uint32_t count,
                                 uint32_t bytes_each)
    : uring_(uring),
      group_id_(group_id),
      count_(count),
      bytes_each_(bytes_each),
      ring_memory_(count * sizeof(io_uring_buf)),
      buffers_(static_cast<size_t>(count) * bytes_each) {
  ring_ = reinterpret_cast<io_uring_buf_ring*>(ring_memory_.data());
}

Result<std::unique_ptr<UringBufferRing>> UringBufferRing::create(Uring& uring, uint16_t group_id,
                                                                 uint32_t count,
                                                                 uint32_t bytes_each) {
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0 || bytes_each == 0) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("buffer ring of {} x {} bytes: count must be a power of two in "
                             "[1, 32768] and size non-zero",
                             count, bytes_each));
  }
  std::unique_ptr<UringBufferRing> group(new UringBufferRing(uring, group_id, count, bytes_each));
  io_uring_buf_reg registration{};
  registration.ring_addr = reinterpret_cast<uint64_t>(group->ring_);
  registration.ring_entries = count;
  registration.bgid = group_id;
  const int result = io_uring_register_buf_ring(uring.raw_ring(), &registration, 0);
  if (result < 0) {
    return Error::from_errno(-result, "io_uring_register_buf_ring (needs Linux 5.19 or newer)");
  }
  group->registered_ = true;
  uring.buffer_groups_live_++;
  io_uring_buf_ring_init(group->ring_);
  const int mask = io_uring_buf_ring_mask(count);
  for (uint32_t id = 0; id < count; id++) {
    io_uring_buf_ring_add(group->ring_,
                          group->buffers_.data() + static_cast<size_t>(id) * bytes_each, bytes_each,
                          static_cast<uint16_t>(id), mask, static_cast<int>(id));
  }
  io_uring_buf_ring_advance(group->ring_, static_cast<int>(count));
  return group;
}

UringBufferRing::~UringBufferRing() {
  if (!registered_) return;
  io_uring_unregister_buf_ring(uring_.raw_ring(), group_id_);
  uring_.buffer_groups_live_--;
}

ByteSpan UringBufferRing::buffer(uint16_t buffer_id) {
  RR_ASSERT(buffer_id < count_);
  return {buffers_.data() + static_cast<size_t>(buffer_id) * bytes_each_, bytes_each_};
}

void UringBufferRing::recycle(uint16_t buffer_id) {
  RR_ASSERT(buffer_id < count_);
  io_uring_buf_ring_add(ring_, buffers_.data() + static_cast<size_t>(buffer_id) * bytes_each_,
                        bytes_each_, buffer_id, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(ring_, 1);
}

}  // namespace ringraft
