// Reactor: starts one Shard per core, connects them with message channels, and stops them.
//
//   Reactor reactor(ReactorConfig{.shard_count = 2});
//   reactor.run([](Shard& shard) -> Task<void> { ... co_return; });  // blocks until stop()
//
// run() starts a thread per shard (pinned to a core when asked), creates each shard's ring on
// its own thread, waits until every ring exists (so cross-shard wake-ups have a target), then
// runs shard_main on every shard and turns the loops until stop(). stop() may be called from
// any thread, including from inside a shard.
//
// Threads that are not shards hand work to a shard with try_post (bounded, wakes the shard at
// once through its eventfd); see outside_inbox.h.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "reactor/operation.h"
#include "reactor/outside_inbox.h"
#include "reactor/shard.h"
#include "reactor/shard_message.h"
#include "reactor/uring.h"

namespace ringraft {

struct ReactorConfig {
  static constexpr uint32_t kShardCountMax = 1024;
  static constexpr uint32_t kChannelCapacityMax = 1u << 20;

  uint32_t shard_count = 1;
  bool pin_threads = true;           // pin shard i to core i % cores
  uint32_t channel_capacity = 4096;  // messages per ordered pair of shards
  // How long an idle shard keeps polling its completion queue before it sleeps in the kernel.
  // Zero (the default) sleeps at once and costs no CPU when idle; a few tens of microseconds
  // saves a wake-up (a context switch) per reply on latency-bound paths, at the cost of a busy
  // core while idle. Bounded by kIdlePollMax.
  Duration idle_poll{0};
  static constexpr Duration kIdlePollMax = std::chrono::milliseconds(10);
  UringConfig uring;
  // Messages each shard's outside inbox holds (try_post from non-shard threads).
  uint32_t outside_capacity = 4096;
};

class Reactor {
 public:
  explicit Reactor(const ReactorConfig& config);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Runs until stop(). Returns an error if the configuration is invalid or a shard could not
  // start (its ring could not be created); the other shards are stopped in that case.
  Result<void> run(std::function<Task<void>(Shard&)> shard_main);
  // Asks every shard to stop. Any thread, any time before the Reactor is destroyed.
  void stop();
  bool stop_requested() const { return stop_requested_.load(std::memory_order_acquire); }

  // Any thread, typically one that is not a shard: queues `message` for `shard` and wakes it (one
  // eventfd write when its inbox was empty, so a burst costs one wake-up). The shard runs
  // message.handler on one of its next turns. kFull: the inbox holds outside_capacity messages,
  // nothing was queued. kClosed: the shard's loop has ended; nothing was queued. Messages still
  // queued when a loop ends never run; they are counted in ShardStats::posts_dropped_at_stop.
  // Posts made before run() are queued and run once the shard starts.
  PostResult try_post(ShardId shard, const ShardMessage& message);
  OutsideInbox& outside_inbox(ShardId shard) { return *outside_inboxes_[shard.value()]; }

  uint32_t shard_count() const { return config_.shard_count; }
  // An error naming the first invalid setting, or success.
  static Result<void> validate(const ReactorConfig& config);
  const ReactorConfig& config() const { return config_; }
  ShardChannel& channel(ShardId from, ShardId to) {
    return *channels_[from.value() * config_.shard_count + to.value()];
  }
  int ring_fd(ShardId shard) const { return ring_fds_[shard.value()]; }
  // Stats of every shard as they were when run() returned.
  const std::vector<ShardStats>& final_stats() const { return final_stats_; }
  const std::vector<UringStats>& final_uring_stats() const { return final_uring_stats_; }

 private:
  void shard_thread(uint32_t index, const std::function<Task<void>(Shard&)>& shard_main);

  const ReactorConfig config_;
  std::vector<std::unique_ptr<ShardChannel>> channels_;
  std::vector<int> ring_fds_;
  // One eventfd per shard, written by stop(). Owned here, not by the shards, so that a stop()
  // from another thread can never write to a descriptor that a finished shard closed.
  std::vector<FileDescriptor> wake_fds_;
  std::vector<std::unique_ptr<OutsideInbox>> outside_inboxes_;
  std::atomic<bool> stop_requested_{false};
  std::mutex start_error_mutex_;
  std::optional<Error> start_error_;
  std::vector<ShardStats> final_stats_;
  std::vector<UringStats> final_uring_stats_;
  // Set up per run().
  struct RunState;
  RunState* run_state_ = nullptr;
};

}  // namespace ringraft
