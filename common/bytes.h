// Byte spans and an owned, aligned, fixed-capacity byte buffer.
//
// AlignedBuffer is allocated once (at start, not on the hot path) with the alignment that
// O_DIRECT and the page cache like, and never grows: its capacity is its bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringraft {

using ByteSpan = std::span<std::byte>;
using ConstByteSpan = std::span<const std::byte>;

class AlignedBuffer {
 public:
  static constexpr size_t kDefaultAlignment = 4096;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t capacity_bytes, size_t alignment = kDefaultAlignment);
  ~AlignedBuffer();
  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t capacity_bytes() const { return capacity_bytes_; }
  ByteSpan span() { return {data_, capacity_bytes_}; }
  ConstByteSpan span() const { return {data_, capacity_bytes_}; }

 private:
  std::byte* data_ = nullptr;
  size_t capacity_bytes_ = 0;
};

inline ConstByteSpan as_bytes(const void* data, size_t size_bytes) {
  return {static_cast<const std::byte*>(data), size_bytes};
}

}  // namespace ringraft
