// UringBufferRing: a provided-buffer ring (IORING_REGISTER_PBUF_RING) for multishot receives.
//
// The kernel picks a free buffer from the ring for each received chunk and reports its id in the
// completion; the receiver hands it back with recycle() once it has consumed the bytes, which
// appends it to the ring (a store and a release barrier, no syscall). When every buffer is held
// by receivers the kernel ends the multishot receive with -ENOBUFS: that is the back-pressure.
#pragma once

#include <liburing.h>

#include <memory>

#include "common/bytes.h"
#include "common/result.h"
#include "reactor/io.h"

namespace ringraft {

class Uring;

class UringBufferRing final : public BufferGroup {
 public:
  static Result<std::unique_ptr<UringBufferRing>> create(Uring& uring, uint16_t group_id,
                                                         uint32_t count, uint32_t bytes_each);
  ~UringBufferRing() override;

  uint16_t group_id() const override { return group_id_; }
  uint32_t buffer_count() const override { return count_; }
  uint32_t buffer_bytes() const override { return bytes_each_; }
  ByteSpan buffer(uint16_t buffer_id) override;
  void recycle(uint16_t buffer_id) override;

 private:
  UringBufferRing(Uring& uring, uint16_t group_id, uint32_t count, uint32_t bytes_each);

  Uring& uring_;
  const uint16_t group_id_;
  const uint32_t count_;
  const uint32_t bytes_each_;
  AlignedBuffer ring_memory_;
  AlignedBuffer buffers_;
  io_uring_buf_ring* ring_ = nullptr;
  bool registered_ = false;
};

}  // namespace ringraft
