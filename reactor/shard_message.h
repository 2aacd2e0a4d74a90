// ShardMessage and ShardChannel: what crosses from one shard to another.
//
// A message is 32 bytes, copied by value through a bounded SPSC ring (one per ordered pair of
// shards) and run by the receiving shard's loop as handler(receiver, message). Anything larger
// travels by pointer in `object`, with ownership passing to the receiver by convention of the
// handler. The ring's capacity is the bound; a full ring is back-pressure (Shard::send waits).
#pragma once

#include <atomic>
#include <cstdint>

#include "common/spsc_ring.h"

namespace ringraft {

class Shard;

struct ShardMessage {
  using Handler = void (*)(Shard& receiver, const ShardMessage& message);
  Handler handler = nullptr;
  void* object = nullptr;
  uint64_t value0 = 0;
  uint64_t value1 = 0;
};

struct ShardChannel {
  explicit ShardChannel(size_t capacity) : ring(capacity) {}
  SpscRing<ShardMessage> ring;
  // Set by a sender that found the ring full and is about to wait; the receiver clears it and
  // wakes the sender after it frees space. Both sides fence (seq_cst) between their index update
  // and their flag access, so a wake-up cannot be lost.
  alignas(kCacheLineBytes) std::atomic<bool> sender_waiting{false};
};

}  // namespace ringraft
