// OutsideInbox: how a thread that is not a shard (an embedder's thread) hands work to a shard.
//
// One inbox per shard, owned by the Reactor. Any thread pushes ShardMessages (Reactor::try_post);
// the shard's loop takes everything queued at the top of each turn and runs the handlers on the
// shard. A mutex guards a bounded vector: this is not the per-entry hot path (an embedder posts
// one message per batch of work, e.g. "drain my request list"), and a lock keeps any number of
// producers correct without registering them. The consumer swaps the whole vector out under the
// lock, so it holds the lock for O(1) and allocates nothing (both vectors keep their capacity).
//
// Bounded: a full inbox refuses the message (kFull) and queues nothing. Once the shard's loop
// has ended the inbox is closed: pushes are refused (kClosed) and what was still queued is
// counted as dropped, its handlers never run.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "reactor/shard_message.h"

namespace ringraft {

enum class PostResult : uint8_t {
  kPosted,  // queued; the shard runs it on one of its next turns
  kFull,    // the inbox holds `capacity` messages; nothing was queued, retry later
  kClosed,  // the shard's loop has ended (or never started after a close); nothing was queued
};

class OutsideInbox {
 public:
  explicit OutsideInbox(uint32_t capacity);
  OutsideInbox(const OutsideInbox&) = delete;
  OutsideInbox& operator=(const OutsideInbox&) = delete;

  // Any thread. `*was_empty` tells the caller the shard may be asleep with nothing queued, so
  // it must be woken; later pushes ride on that wake-up.
  PostResult push(const ShardMessage& message, bool* was_empty);
  // The consumer (the shard): moves everything queued into `*out` (which must be empty).
  void take_all(std::vector<ShardMessage>* out);
  // The consumer's cheap check before it sleeps; a push after it wakes the shard anyway.
  bool pending() const { return size_.load(std::memory_order_acquire) > 0; }
  // Refuses further pushes; returns how many queued messages are dropped.
  uint64_t close();
  // Accepts pushes again (a Reactor that runs a second time).
  void reopen();
  uint32_t capacity() const { return capacity_; }

 private:
  const uint32_t capacity_;
  std::mutex mutex_;
  std::vector<ShardMessage> queued_;  // guarded by mutex_; capacity_ reserved
  bool closed_ = false;               // guarded by mutex_
  std::atomic<uint32_t> size_{0};     // queued_.size(), readable without the lock
};

}  // namespace ringraft
