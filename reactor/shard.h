// Shard: one thread, one io_uring, and everything that runs on them.
//
// A shard owns its ring (through Uring), its timers, its tasks and, in later layers, its
// connections, WAL and Raft groups; it shares nothing mutable with other shards. Other shards
// reach it only through ShardMessages. Each loop turn:
//
//   1. run messages from other shards (bounded by the rings' capacity) and from outside threads
//      (Reactor::try_post; bounded by the outside inbox's capacity)
//   2. resume tasks that yielded or were woken
//   3. run the before_sleep hooks: batching layers flush here, so everything that arrived in
//      this turn leaves as one WAL write and one send per peer
//   4. wake the shards we sent messages to (one MSG_RING each)
//   5. one io_uring_enter: submit the turn's SQEs and wait for a completion or the next timer
//   6. dispatch completions in batches and fire due timers (this resumes tasks)
//
// Shutdown (Reactor::stop): new operations are refused with -ECANCELED, in-flight ones are
// cancelled, and the loop keeps turning until every operation has completed. Tasks still
// suspended then (waiting on something that will never come) are destroyed and counted.
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/types.h"
#include "reactor/shard_message.h"
#include "reactor/socket.h"
#include "reactor/task.h"
#include "reactor/uring.h"

namespace ringraft {

class Reactor;

struct ShardStats {
  uint64_t turns = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t send_full = 0;  // try_send found the ring full
  uint64_t tasks_spawned = 0;
  uint64_t tasks_destroyed_at_stop = 0;
  uint64_t idle_polls = 0;             // idle turns that found work by polling, without sleeping
  uint64_t posts_received = 0;         // messages from outside threads (Reactor::try_post) run
  uint64_t posts_dropped_at_stop = 0;  // posted messages still queued when the loop ended
};

namespace detail {
struct DetachedPromise;
struct TaskListLink {
  TaskListLink* previous = this;
  TaskListLink* next = this;
};
}  // namespace detail

class Shard {
 public:
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // The shard running on the calling thread, or nullptr.
  static Shard* current();

  ShardId id() const { return id_; }
  uint32_t shard_count() const;
  Io& io() { return *uring_; }
  Uring& uring() { return *uring_; }
  Reactor& reactor() { return reactor_; }
  bool stopping() const { return stopping_; }
  const ShardStats& stats() const { return stats_; }

  // Starts `task` now; it runs until its first suspension before spawn returns. The shard owns
  // it from then on.
  void spawn(Task<void> task);
  // Called every loop turn before the loop sleeps, in registration order. Register per
  // component (a WAL, a transport), not per request; remove it before its owner dies. A hook may
  // add or remove hooks: an added one first runs next turn, a removed one no longer runs.
  using HookId = uint32_t;
  HookId add_before_sleep(std::function<void()> hook);
  void remove_before_sleep(HookId hook);

  // Queues a message for shard `to` (another shard); false when its ring is full (nothing was
  // queued).
  bool try_send(ShardId to, const ShardMessage& message);
  // Queues a message, waiting while the ring is full. False only when this shard is stopping.
  Task<bool> send(ShardId to, ShardMessage message);

  // Suspends the calling task until the next loop turn.
  auto yield() {
    struct Awaiter {
      Shard& shard;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> awaiter) { shard.ready_.push_back(awaiter); }
      void await_resume() const noexcept {}
    };
    return Awaiter{*this};
  }

 private:
  friend class Reactor;
  friend struct detail::DetachedPromise;

  Shard(Reactor& reactor, ShardId id, std::unique_ptr<Uring> uring, int wake_fd);
  void run(const std::function<Task<void>(Shard&)>& shard_main);
  void begin_stop();
  void receive_messages();
  void receive_posts();
  bool inbound_pending() const;
  void run_ready();
  void flush_wakes();
  void run_before_sleep_hooks();
  bool poll_while_idle();
  void arm_external_wake();
  void destroy_remaining_tasks();
  static void on_wake(void* context);
  static void on_external_wake(Operation& op, int32_t result, uint32_t flags);

  struct SpaceAwaiter {
    Shard& shard;
    ShardId to;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiter);
    void await_resume() const noexcept {}
  };

  Reactor& reactor_;
  const ShardId id_;
  std::unique_ptr<Uring> uring_;
  const int wake_fd_;  // eventfd written by other threads (Reactor::stop); the Reactor owns it
  Operation wake_read_;
  uint64_t wake_counter_ = 0;
  bool stopping_ = false;
  std::vector<std::unique_ptr<std::function<void()>>> before_sleep_;   // null: a free slot
  std::vector<std::unique_ptr<std::function<void()>>> retired_hooks_;  // removed this turn
  std::vector<std::coroutine_handle<>> ready_;
  std::vector<std::coroutine_handle<>> ready_running_;
  std::vector<std::coroutine_handle<>> send_waiters_;
  std::vector<ShardMessage> posts_running_;  // taken from the outside inbox this turn
  std::vector<uint8_t> wake_pending_;        // per shard: we queued messages or freed space for it
  detail::TaskListLink live_tasks_;
  ShardStats stats_;
};

}  // namespace ringraft
