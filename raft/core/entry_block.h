// EntryBlock and PayloadRef: the bytes of a batch of entries live in one immutable,
// reference-counted allocation, and each entry refers to its slice of it.
//
// Why: an entry is proposed once but sits in the log, in a Ready for persisting, in an Append
// per follower and in committed_entries for applying. With a byte vector per entry each of
// those is an allocation and a copy; with a shared block each is a counter increment, and a
// batch of any size costs one allocation (DESIGN "Encode once").
//
// Rules:
// - A block's bytes never change once a PayloadRef refers to it (build it with
//   EntryBlockBuilder, then share it).
// - The reference count is not atomic: a block and every PayloadRef to it stay on one thread
//   (one shard). Bytes cross shards and nodes as encoded messages, never as PayloadRefs.
// - A PayloadRef keeps its whole block alive: a log that holds one entry of a batch holds the
//   batch's bytes (compaction frees them once every entry of the block is gone).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "common/bytes.h"

namespace ringraft::raft {

class PayloadRef;

// One allocation: this header, then size_bytes_ bytes.
class EntryBlock {
 public:
  // A block of `size_bytes` uninitialized bytes, one reference held by the caller.
  static EntryBlock* create(size_t size_bytes);

  std::byte* bytes() { return reinterpret_cast<std::byte*>(this + 1); }
  const std::byte* bytes() const { return reinterpret_cast<const std::byte*>(this + 1); }
  size_t size_bytes() const { return size_bytes_; }
  uint32_t references() const { return references_; }

  void retain() {
    RR_ASSERT(references_ > 0);
    ++references_;
  }
  void release() {
    RR_ASSERT(references_ > 0);
    if (--references_ == 0) destroy();
  }

 private:
  explicit EntryBlock(size_t size_bytes) : size_bytes_(size_bytes) {}
  void destroy();

  size_t size_bytes_;
  uint32_t references_ = 1;
};
static_assert(sizeof(EntryBlock) % 8 == 0, "the bytes after the header stay 8-aligned");

// An entry's payload: `size` bytes at `offset` in a shared block (or nothing: an empty
// payload holds no block). Reads like a byte container: data(), size(), begin()/end(), a
// span. Copying it shares the block; it never copies bytes, except the converting
// constructor from a byte vector (tests and cold paths), which makes a block of its own.
class PayloadRef {
 public:
  PayloadRef() = default;
  // Refers to [offset, offset + size_bytes) of `block`, taking one more reference to it.
  PayloadRef(EntryBlock* block, size_t offset, size_t size_bytes);
  // A block of its own holding a copy of `bytes` (one allocation; not for the hot path).
  PayloadRef(const std::vector<std::byte>& bytes);  // NOLINT(google-explicit-constructor)
  static PayloadRef copy_of(ConstByteSpan bytes);

  PayloadRef(const PayloadRef& other)
      : block_(other.block_), offset_(other.offset_), size_(other.size_) {
    if (block_ != nullptr) block_->retain();
  }
  PayloadRef(PayloadRef&& other) noexcept
      : block_(std::exchange(other.block_, nullptr)),
        offset_(std::exchange(other.offset_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  PayloadRef& operator=(const PayloadRef& other) {
    PayloadRef copy(other);
    swap(copy);
    return *this;
  }
  PayloadRef& operator=(PayloadRef&& other) noexcept {
    PayloadRef moved(std::move(other));
    swap(moved);
    return *this;
  }
  ~PayloadRef() {
    if (block_ != nullptr) block_->release();
  }

  const std::byte* data() const { return block_ == nullptr ? kEmpty : block_->bytes() + offset_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::byte* begin() const { return data(); }
  const std::byte* end() const { return data() + size_; }
  ConstByteSpan span() const { return ConstByteSpan(data(), size_); }
  operator ConstByteSpan() const { return span(); }  // NOLINT(google-explicit-constructor)

  // The block this payload lives in (nullptr when empty): entries of one batch share it.
  const EntryBlock* block() const { return block_; }

  void swap(PayloadRef& other) noexcept {
    std::swap(block_, other.block_);
    std::swap(offset_, other.offset_);
    std::swap(size_, other.size_);
  }

  // Equal bytes (not the same block): what log matching and tests compare.
  friend bool operator==(const PayloadRef& a, const PayloadRef& b);

 private:
  // data() of an empty payload: a valid pointer, so that memcpy(dst, data(), 0) is defined.
  static constexpr std::byte kEmpty[1] = {};

  EntryBlock* block_ = nullptr;
  uint32_t offset_ = 0;
  uint32_t size_ = 0;
};

// Builds one block from many payloads: add() each, then take() the PayloadRefs. Sized up front
// when the caller knows the total (reserve), else it grows by doubling (one copy per growth).
class EntryBlockBuilder {
 public:
  EntryBlockBuilder() = default;
  EntryBlockBuilder(const EntryBlockBuilder&) = delete;
  EntryBlockBuilder& operator=(const EntryBlockBuilder&) = delete;
  ~EntryBlockBuilder();

  void reserve(size_t entry_count, size_t size_bytes);
  // Appends a payload; returns where its bytes go, to be filled by the caller.
  std::byte* add(size_t size_bytes);
  void add(ConstByteSpan bytes);
  size_t entry_count() const { return sizes_.size(); }
  size_t size_bytes() const { return used_bytes_; }

  // The payloads added since the last take(), in order, all in one block; the builder starts
  // over empty (its next add() makes a new block: a shared block never changes).
  void take(std::vector<PayloadRef>& out);

 private:
  EntryBlock* block_ = nullptr;
  size_t used_bytes_ = 0;
  std::vector<uint32_t> sizes_;
};

}  // namespace ringraft::raft
