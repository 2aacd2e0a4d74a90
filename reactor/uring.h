// Uring: the production backend of the I/O seam, one io_uring per shard.
//
// The ring is created by, and only ever entered from, its shard's thread (SINGLE_ISSUER) with
// deferred task running (DEFER_TASKRUN): the kernel runs completion work only when the loop asks
// for events, so completions arrive in batches at the one place the loop waits. Operations become
// SQEs as they are submitted; the SQEs of a whole loop turn go to the kernel in one
// io_uring_enter (wait_and_submit). When the SQ fills mid-turn it is flushed early and counted.
//
// Timers (kTimer) never reach the kernel: they live in a TimerHeap and bound how long the loop
// sleeps. A per-operation timeout becomes a linked IORING_OP_LINK_TIMEOUT.
//
// user_data of an SQE is the Operation's address, or one of the small tags below for SQEs that
// the backend issues on its own behalf (cancels, link timeouts, cross-ring wakes).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "common/result.h"
#include "reactor/io.h"
#include "reactor/timer_heap.h"

namespace ringraft {

struct UringConfig {
  uint32_t sq_entries = 1024;
  uint32_t cq_entries = 8192;  // completions are drained in batches; room for bursts
};

struct UringStats {
  uint64_t enter_calls = 0;      // io_uring_enter calls made by wait_and_submit
  uint64_t sqes_prepared = 0;    // SQEs queued for the kernel
  uint64_t sq_full_flushes = 0;  // early submits because the SQ was full mid-turn
  uint64_t completions = 0;      // CQEs drained
  uint64_t timers_fired = 0;
  uint64_t wakes_received = 0;  // cross-ring wake-ups (MSG_RING) received
  uint64_t wakes_failed = 0;    // our MSG_RING wake-ups that the kernel refused
};

class Uring final : public Io {
 public:
  // Tags for SQEs the backend issues itself. Operation addresses are never this small.
  static constexpr uint64_t kTagInternal = 1;  // its completion only balances the count
  static constexpr uint64_t kTagWake = 2;      // posted into this ring by another ring
  static constexpr uint64_t kTagWakeSent = 3;  // our MSG_RING to another ring completed

  // Creates a ring on the calling thread, which becomes its only submitter.
  static Result<std::unique_ptr<Uring>> create(const UringConfig& config);
  ~Uring() override;
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;

  // Io
  bool submit(Operation& op) override;
  void cancel(Operation& op) override;
  MonoTime now() const override { return now_; }
  Result<std::unique_ptr<BufferGroup>> create_buffer_group(uint32_t count,
                                                           uint32_t bytes_each) override;
  bool shutting_down() const override { return shutting_down_; }

  // Loop driver, called by the shard once per turn in this order.
  void update_clock();
  // Submits all queued SQEs and waits until at least one completion is ready, `max_wait`
  // passes, or the next timer is due, whichever comes first. max_wait < 0 means no bound.
  void wait_and_submit(Duration max_wait);
  // Dispatches ready completions and due timers; returns how many it dispatched.
  size_t dispatch_completions();

  // Posts a wake-up completion (kTagWake) into another ring; one SQE, no syscall until the
  // turn's submit. Used for cross-shard messages.
  void send_wake(int target_ring_fd);
  // Called for each kTagWake completion received.
  void set_wake_handler(void (*handler)(void* context), void* context) {
    wake_handler_ = handler;
    wake_context_ = context;
  }

  // Shutdown: refuse new submissions, cancel everything in flight (timers complete with
  // -ECANCELED). Operations that cannot be cancelled (a write in progress) complete normally.
  void begin_shutdown();
  // Operations whose completion has not been dispatched yet: kernel SQEs, timers, deferred.
  size_t pending_count() const {
    return kernel_in_flight_ + internal_in_flight_ + timers_.size() + deferred_.size();
  }
  // Checks the whole structure (timer heap, counters); debug builds run it every turn.
  void check_invariants() const;

  int ring_fd() const { return ring_.ring_fd; }
  unsigned setup_flags() const { return setup_flags_; }
  const UringStats& stats() const { return stats_; }
  io_uring* raw_ring() { return &ring_; }

 private:
  Uring() = default;
  io_uring_sqe* get_sqe();
  void prepare(io_uring_sqe* sqe, Operation& op);
  void dispatch_one(uint64_t user_data, int32_t result, uint32_t flags);
  void complete_later(Operation& op, int32_t result);
  size_t fire_due_timers();
  size_t run_deferred();

  // Debug builds check that only the creating thread (the shard's) touches the ring.
  void assert_owner_thread() const;

  io_uring ring_{};
  unsigned setup_flags_ = 0;
  std::thread::id owner_thread_ = std::this_thread::get_id();
  MonoTime now_{};
  bool shutting_down_ = false;
  size_t kernel_in_flight_ = 0;    // Operations submitted to the kernel, final CQE not seen
  size_t internal_in_flight_ = 0;  // kTagInternal SQEs whose CQE has not been seen
  TimerHeap timers_;
  struct Deferred {
    Operation* op;
    int32_t result;
  };
  std::vector<Deferred> deferred_;  // completions decided without the kernel (cancelled timers)
  std::vector<Deferred> deferred_running_;
  void (*wake_handler_)(void*) = nullptr;
  void* wake_context_ = nullptr;
  uint16_t next_buffer_group_id_ = 0;
  uint32_t buffer_groups_live_ = 0;  // each must be destroyed before the ring
  friend class UringBufferRing;
  UringStats stats_;
};

}  // namespace ringraft
