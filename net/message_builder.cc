#include "net/message_builder.h"

#include <cstring>

#include "common/assert.h"
#include "net/wire.h"

namespace ringraft::net {

void InPlaceBuilder::RegionAllocator::set_region(ByteSpan region) {
  RR_ASSERT(reinterpret_cast<uintptr_t>(region.data()) % kWireAlignBytes == 0);
  RR_ASSERT(region.size() % kWireAlignBytes == 0 && !region.empty());
  region_begin_ = reinterpret_cast<uint8_t*>(region.data());
  region_bytes_ = region.size();
  outgrew_ = false;
}

bool InPlaceBuilder::RegionAllocator::in_region(const uint8_t* memory) const {
  return memory >= region_begin_ && memory < region_begin_ + region_bytes_;
}

// The builder's buffer is [result, result + size): its end is the region's end.
uint8_t* InPlaceBuilder::RegionAllocator::allocate(size_t size_bytes) {
  if (size_bytes <= region_bytes_) return region_begin_ + region_bytes_ - size_bytes;
  outgrew_ = true;  // the caller's bound was wrong: heap memory, one copy at commit
  return new uint8_t[size_bytes];
}

void InPlaceBuilder::RegionAllocator::deallocate(uint8_t* memory, size_t /*size_bytes*/) {
  if (!in_region(memory)) delete[] memory;
}

uint8_t* InPlaceBuilder::RegionAllocator::reallocate_downward(uint8_t* old_memory,
                                                              size_t old_size_bytes,
                                                              size_t new_size_bytes,
                                                              size_t in_use_back_bytes,
                                                              size_t in_use_front_bytes) {
  if (in_region(old_memory) && new_size_bytes <= region_bytes_) {
    // Both buffers end at the region's end: the message (the back) is already in place; only
    // the scratch area at the front moves down.
    uint8_t* new_memory = region_begin_ + region_bytes_ - new_size_bytes;
    std::memmove(new_memory, old_memory, in_use_front_bytes);
    return new_memory;
  }
  return flatbuffers::Allocator::reallocate_downward(old_memory, old_size_bytes, new_size_bytes,
                                                     in_use_back_bytes, in_use_front_bytes);
}

flatbuffers::FlatBufferBuilder& InPlaceBuilder::start(ByteSpan region) {
  RR_ASSERT_MSG(!building(), "InPlaceBuilder::start() twice without end()");
  allocator_.set_region(region);
  // The builder's first allocation takes the whole region, so it never grows while the
  // message fits (growth would overshoot the region and fall back to the heap needlessly).
  builder_.emplace(region.size(), &allocator_, false, kWireAlignBytes);
  return *builder_;
}

ConstByteSpan InPlaceBuilder::finished() const {
  RR_ASSERT(building());
  return ConstByteSpan(reinterpret_cast<const std::byte*>(builder_->GetBufferPointer()),
                       builder_->GetSize());
}

void InPlaceBuilder::end() {
  builder_.reset();
}

}  // namespace ringraft::net
