#include "raft/core/entry_block.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>

namespace ringraft::raft {

EntryBlock* EntryBlock::create(size_t size_bytes) {
  void* memory = ::operator new(sizeof(EntryBlock) + size_bytes);
  return new (memory) EntryBlock(size_bytes);
}

void EntryBlock::destroy() {
  this->~EntryBlock();
  ::operator delete(static_cast<void*>(this));
}

PayloadRef::PayloadRef(EntryBlock* block, size_t offset, size_t size_bytes)
    : block_(size_bytes == 0 ? nullptr : block),
      offset_(static_cast<uint32_t>(offset)),
      size_(static_cast<uint32_t>(size_bytes)) {
  if (block_ == nullptr) {
    offset_ = 0;
    return;
  }
  RR_ASSERT_MSG(offset + size_bytes <= block->size_bytes(), "payload outside its block");
  RR_ASSERT_MSG(block->size_bytes() <= std::numeric_limits<uint32_t>::max(),
                "entry block over 4 GiB");
  block_->retain();
}

PayloadRef::PayloadRef(const std::vector<std::byte>& bytes) : PayloadRef(copy_of(bytes)) {}

PayloadRef PayloadRef::copy_of(ConstByteSpan bytes) {
  if (bytes.empty()) return PayloadRef();
  EntryBlock* block = EntryBlock::create(bytes.size());
  std::memcpy(block->bytes(), bytes.data(), bytes.size());
  PayloadRef payload(block, 0, bytes.size());
  block->release();  // the payload holds the only reference now
  return payload;
}

bool operator==(const PayloadRef& a, const PayloadRef& b) {
  if (a.size_ != b.size_) return false;
  if (a.block_ == b.block_ && a.offset_ == b.offset_) return true;
  return std::memcmp(a.data(), b.data(), a.size_) == 0;
}

EntryBlockBuilder::~EntryBlockBuilder() {
  if (block_ != nullptr) block_->release();
}

void EntryBlockBuilder::reserve(size_t entry_count, size_t size_bytes) {
  sizes_.reserve(sizes_.size() + entry_count);
  const size_t needed_bytes = used_bytes_ + size_bytes;
  if (block_ != nullptr && block_->size_bytes() >= needed_bytes) return;
  EntryBlock* grown = EntryBlock::create(needed_bytes);
  if (block_ != nullptr) {
    if (used_bytes_ > 0) std::memcpy(grown->bytes(), block_->bytes(), used_bytes_);
    block_->release();
  }
  block_ = grown;
}

std::byte* EntryBlockBuilder::add(size_t size_bytes) {
  RR_ASSERT_MSG(size_bytes <= std::numeric_limits<uint32_t>::max(), "payload over 4 GiB");
  const size_t capacity_bytes = block_ == nullptr ? 0 : block_->size_bytes();
  if (used_bytes_ + size_bytes > capacity_bytes) {
    // Doubling keeps the copies of a growing block linear in its final size.
    reserve(0, std::max(used_bytes_ + size_bytes, 2 * capacity_bytes) - used_bytes_);
  }
  sizes_.push_back(static_cast<uint32_t>(size_bytes));
  if (block_ == nullptr) return nullptr;  // only empty payloads so far: nothing to write
  std::byte* at = block_->bytes() + used_bytes_;
  used_bytes_ += size_bytes;
  return at;
}

void EntryBlockBuilder::add(ConstByteSpan bytes) {
  std::byte* at = add(bytes.size());
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
}

void EntryBlockBuilder::take(std::vector<PayloadRef>& out) {
  out.reserve(out.size() + sizes_.size());
  size_t offset = 0;
  for (uint32_t size_bytes : sizes_) {
    out.emplace_back(block_, offset, size_bytes);
    offset += size_bytes;
  }
  if (block_ != nullptr) block_->release();
  block_ = nullptr;
  used_bytes_ = 0;
  sizes_.clear();
}

}  // namespace ringraft::raft
