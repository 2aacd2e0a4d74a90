// EntryCache: copies of recently appended entries records, in one ring of bytes bounded per WAL.
//
// Every entries record appended is copied once (its u32 lengths and payloads, the entry block
// shape) into the ring; the oldest copies are evicted first when the ring needs room: FIFO
// across all groups of the WAL. FIFO rather than LRU because the reads that matter are the
// newest entries (a leader sending what it just appended, a follower applying what it just
// committed), and FIFO needs no bookkeeping per read: a busy group pushes a quiet group's older
// entries out, and those are read back from their segment (wal.h read_entries).
//
// Positions are monotonic byte counts (the ring offset is position % capacity), so a copy is
// still present iff its position >= the oldest retained one: nothing has to be told about an
// eviction. Each copy starts with a u64 length; a copy never wraps (the ring's tail end is
// skipped with a filler). Memory: one buffer of capacity_bytes, allocated and touched at
// construction; no allocation per record or per entry. A record larger than a quarter of the ring
// is not cached.
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.h"
#include "wal/group_log.h"

namespace ringraft::wal {

class EntryCache {
 public:
  // capacity_bytes 0: nothing is ever cached.
  explicit EntryCache(uint64_t capacity_bytes);

  // Copies one entries record in, evicting older copies. Returns its position, or kNotCached
  // when it is too large for the ring.
  uint64_t insert(std::span<const uint32_t> entry_lengths, ConstByteSpan payload);
  // Same, from lengths already in the little-endian u32 block shape (a decoded record).
  uint64_t insert_block(uint32_t entry_count, ConstByteSpan lengths, ConstByteSpan payload);
  bool contains(uint64_t position) const {
    return position != kNotCached && position >= oldest_position_ && position < next_position_;
  }

  // A cached record: its lengths (entry_count u32s) and payloads.
  struct View {
    uint32_t entry_count = 0;
    ConstByteSpan lengths;
    ConstByteSpan payload;
  };
  View view(uint64_t position) const;

  uint64_t capacity_bytes() const { return capacity_bytes_; }
  uint64_t used_bytes() const { return next_position_ - oldest_position_; }
  uint64_t records_evicted() const { return records_evicted_; }
  void check_invariants() const;

 private:
  std::byte* reserve(uint64_t record_bytes);
  void evict_oldest();

  uint64_t capacity_bytes_;
  AlignedBuffer ring_;
  uint64_t oldest_position_ = 0;
  uint64_t next_position_ = 0;
  uint64_t records_evicted_ = 0;
};

}  // namespace ringraft::wal
