#include "common/bytes.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "common/assert.h"

namespace ringraft {

AlignedBuffer::AlignedBuffer(size_t capacity_bytes, size_t alignment) {
  RR_ASSERT(alignment > 0 && (alignment & (alignment - 1)) == 0);
  // aligned_alloc wants the size to be a multiple of the alignment.
  const size_t rounded_bytes = (capacity_bytes + alignment - 1) / alignment * alignment;
  data_ = static_cast<std::byte*>(
      std::aligned_alloc(alignment, rounded_bytes ? rounded_bytes : alignment));
  if (data_ == nullptr) throw std::bad_alloc();
  capacity_bytes_ = capacity_bytes;
}

AlignedBuffer::~AlignedBuffer() {
  std::free(data_);
}

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      capacity_bytes_(std::exchange(other.capacity_bytes_, 0)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    capacity_bytes_ = std::exchange(other.capacity_bytes_, 0);
  }
  return *this;
}

}  // namespace ringraft
