// RecvStream: a multishot receive on one socket, fed from a provided-buffer group.
//
// One SQE stays armed and produces a completion per received chunk; each chunk arrives in a
// buffer that the kernel picked from the group, with no copy. The consumer awaits next(), reads
// the chunk, and the buffer returns to the group when the RecvChunk is destroyed. Chunks that
// arrive while nobody awaits are queued; the queue cannot exceed the group's buffer count,
// because every queued chunk holds a buffer. When the ring runs dry the kernel stops the receive;
// the stream re-arms it as the consumer catches up, and reports -ENOBUFS (once) only when the
// consumer itself holds every buffer, so it can release some. The next next() re-arms.
//
// Lifetime: the stream must not be destroyed while its operation is in flight; co_await stop()
// first (it cancels and waits). Loop shutdown cancels it too.
#pragma once

#include <coroutine>
#include <cstdint>

#include "reactor/fixed_queue.h"
#include "reactor/io.h"
#include "reactor/task.h"

namespace ringraft {

// A received chunk; owns its buffer until destroyed.
class RecvChunk {
 public:
  RecvChunk() = default;
  RecvChunk(BufferGroup* group, uint16_t buffer_id, uint32_t size_bytes)
      : group_(group), buffer_id_(buffer_id), size_bytes_(size_bytes) {}
  RecvChunk(RecvChunk&& other) noexcept;
  RecvChunk& operator=(RecvChunk&& other) noexcept;
  RecvChunk(const RecvChunk&) = delete;
  RecvChunk& operator=(const RecvChunk&) = delete;
  ~RecvChunk() { release(); }

  ConstByteSpan bytes() const;
  // Returns the buffer to its group now.
  void release();

 private:
  BufferGroup* group_ = nullptr;
  uint16_t buffer_id_ = 0;
  uint32_t size_bytes_ = 0;
};

struct RecvResult {
  IoResult status;  // > 0: bytes in chunk; 0: the peer closed; < 0: -errno
  RecvChunk chunk;
};

class RecvStream {
 public:
  RecvStream(Io& io, int fd, BufferGroup& group);
  ~RecvStream();
  RecvStream(const RecvStream&) = delete;
  RecvStream& operator=(const RecvStream&) = delete;

  class NextAwaiter {
   public:
    explicit NextAwaiter(RecvStream& stream) : stream_(stream) {}
    bool await_ready();
    bool await_suspend(std::coroutine_handle<> awaiter);
    RecvResult await_resume();

   private:
    RecvStream& stream_;
  };

  // The next chunk, end of stream (0) or an error. After 0 or a final error, every later
  // next() returns the same status.
  NextAwaiter next() { return NextAwaiter(*this); }
  // Cancels the receive; queued chunks are still delivered, then -ECANCELED. Final: the
  // receive is never re-armed, even when it was paused or had stopped for want of buffers.
  void cancel();
  // Stops the receive without ending the stream: once the task returns, the kernel takes no
  // more bytes from the socket for this stream, so the owner may read the socket itself (a
  // large frame's body straight into its final buffer). Chunks received before the pause stay
  // queued and come first; the next next() that finds the queue empty re-arms. No-op when the
  // receive is not armed. Not while someone awaits next().
  Task<void> pause();
  // Cancels and waits until the kernel no longer references the stream.
  Task<void> stop();
  bool in_flight() const { return op_.in_flight; }
  // A chunk (or the end) is waiting: next() completes without suspending. Lets a consumer take
  // everything that arrived while it was busy before acting on it.
  bool has_queued() const { return has_news(); }

 private:
  struct Item {
    int32_t result;
    uint16_t buffer_id;
  };
  static void on_complete(Operation& op, int32_t result, uint32_t flags);
  bool has_news() const { return !queue_.empty() || ended_ || transient_error_ != 0; }
  bool arm();

  Io& io_;
  BufferGroup& group_;
  Operation op_;
  FixedQueue<Item> queue_;
  bool ended_ = false;
  bool cancel_requested_ = false;  // once set, the receive is never re-armed
  bool pause_requested_ = false;   // the next -ECANCELED ends a pause, not the stream
  int32_t end_status_ = 0;
  int32_t transient_error_ = 0;    // -ENOBUFS, reported once
  uint32_t no_buffer_streak_ = 0;  // -ENOBUFS completions since the last data
  std::coroutine_handle<> waiter_;
  std::coroutine_handle<> pause_waiter_;  // pause() waiting for the receive to stop
};

}  // namespace ringraft
