// InPlaceBuilder: a FlatBufferBuilder whose memory is a region of a peer's output buffer, so a
// Message is built where it will be sent from and is never copied after it is finished.
//
// A FlatBufferBuilder writes from the end of its buffer down. Its allocator here hands out the
// tail of the region (the builder's buffer always ends where the region ends); when the
// builder grows, only its small scratch area (vtable offsets, at the front) moves, the message
// bytes stay where they are. A message that outgrows the region falls back to heap memory
// (counted by the caller; the message is then copied once, as with Transport::send): size the
// region from what the message carries plus kMessageOverheadBytes.
//
//   ByteSpan region = output.reserve_frame(bytes_max);      // see OutputBuffer
//   flatbuffers::FlatBufferBuilder& builder = in_place.start(region);
//   ... begin_message(builder); ...; finish_message(builder, from, to, body);
//   output.commit_frame(in_place.finished());  in_place.end();
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"

namespace ringraft::net {

// Room for a Message's fields, tables and vtables around its byte vectors: enough for every
// message in net/schema/raft.fbs except a Heartbeat or ReadIndex carrying many groups.
inline constexpr size_t kMessageOverheadBytes = 512;

class InPlaceBuilder {
 public:
  InPlaceBuilder() = default;
  InPlaceBuilder(const InPlaceBuilder&) = delete;
  InPlaceBuilder& operator=(const InPlaceBuilder&) = delete;

  // A fresh builder over `region` (8-byte aligned, a multiple of 8 bytes). Valid until end().
  flatbuffers::FlatBufferBuilder& start(ByteSpan region);
  // The finished FlatBuffer: inside the region, ending at its end, unless outgrew().
  ConstByteSpan finished() const;
  bool outgrew() const { return allocator_.outgrew(); }
  // Drops the builder (and its heap memory if it outgrew the region).
  void end();
  bool building() const { return builder_.has_value(); }

 private:
  class RegionAllocator final : public flatbuffers::Allocator {
   public:
    void set_region(ByteSpan region);
    bool outgrew() const { return outgrew_; }
    uint8_t* allocate(size_t size_bytes) override;
    void deallocate(uint8_t* memory, size_t size_bytes) override;
    uint8_t* reallocate_downward(uint8_t* old_memory, size_t old_size_bytes, size_t new_size_bytes,
                                 size_t in_use_back_bytes, size_t in_use_front_bytes) override;

   private:
    bool in_region(const uint8_t* memory) const;
    uint8_t* region_begin_ = nullptr;
    size_t region_bytes_ = 0;
    bool outgrew_ = false;
  };

  RegionAllocator allocator_;
  std::optional<flatbuffers::FlatBufferBuilder> builder_;
};

}  // namespace ringraft::net
