// SmallBytes: an immutable byte string that keeps up to kInlineBytes inside itself and only
// longer ones on the heap.
//
// Why: a proposal's result travels from the state machine's apply to the proposer after the
// engine's reusable results buffer has moved on, so it is copied once. Most results are short
// (a key-value SET's "+OK\r\n"); a std::vector there was one allocation and one free per
// committed entry on the leader's hot path.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <memory>

#include "common/bytes.h"

namespace ringraft {

class SmallBytes {
 public:
  static constexpr size_t kInlineBytes = 40;

  SmallBytes() = default;
  explicit SmallBytes(ConstByteSpan bytes) { assign(bytes); }
  SmallBytes(const SmallBytes& other) { assign(other.span()); }
  SmallBytes& operator=(const SmallBytes& other) {
    if (this != &other) assign(other.span());
    return *this;
  }
  SmallBytes(SmallBytes&& other) noexcept { take(other); }
  SmallBytes& operator=(SmallBytes&& other) noexcept {
    if (this != &other) take(other);
    return *this;
  }
  ~SmallBytes() = default;

  const std::byte* data() const { return heap_ ? heap_.get() : inline_.data(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::byte* begin() const { return data(); }
  const std::byte* end() const { return data() + size_; }
  ConstByteSpan span() const { return ConstByteSpan(data(), size_); }
  bool on_heap() const { return heap_ != nullptr; }

 private:
  void assign(ConstByteSpan bytes) {
    size_ = bytes.size();
    if (size_ <= kInlineBytes) {
      heap_.reset();
      if (size_ != 0) std::memcpy(inline_.data(), bytes.data(), size_);
    } else {
      heap_ = std::make_unique_for_overwrite<std::byte[]>(size_);
      std::memcpy(heap_.get(), bytes.data(), size_);
    }
  }
  void take(SmallBytes& other) {
    size_ = other.size_;
    heap_ = std::move(other.heap_);
    if (!heap_ && size_ != 0) std::memcpy(inline_.data(), other.inline_.data(), size_);
    other.size_ = 0;
  }

  size_t size_ = 0;
  std::unique_ptr<std::byte[]> heap_;  // when size_ > kInlineBytes
  std::array<std::byte, kInlineBytes> inline_;
};

}  // namespace ringraft
