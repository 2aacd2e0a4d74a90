#include "reactor/reactor.h"

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <cerrno>
#include <thread>

#include "common/assert.h"
#include "common/log.h"

namespace ringraft {

struct Reactor::RunState {
  explicit RunState(uint32_t shard_count) : rings_ready(shard_count), loops_done(shard_count) {}
  // Every ring exists before any shard runs (wake-ups need their target's ring fd), and every
  // loop has ended before any ring is destroyed (a late wake-up must not hit a closed fd).
  std::barrier<> rings_ready;
  std::barrier<> loops_done;
};

Result<void> Reactor::validate(const ReactorConfig& config) {
  if (config.shard_count == 0 || config.shard_count > ReactorConfig::kShardCountMax) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("shard_count {} is out of range [1, {}]", config.shard_count,
                             ReactorConfig::kShardCountMax));
  }
  if (config.channel_capacity == 0 ||
      config.channel_capacity > ReactorConfig::kChannelCapacityMax) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("channel_capacity {} is out of range [1, {}]", config.channel_capacity,
                             ReactorConfig::kChannelCapacityMax));
  }
  if (config.idle_poll < Duration::zero() || config.idle_poll > ReactorConfig::kIdlePollMax) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("idle_poll {} ns is out of range [0, {} ns]", config.idle_poll.count(),
                             ReactorConfig::kIdlePollMax.count()));
  }
  if (config.outside_capacity == 0 ||
      config.outside_capacity > ReactorConfig::kChannelCapacityMax) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("outside_capacity {} is out of range [1, {}]", config.outside_capacity,
                             ReactorConfig::kChannelCapacityMax));
  }
  return {};
}

Reactor::Reactor(const ReactorConfig& config) : config_(config) {
  if (Result<void> valid = validate(config); !valid.ok()) {
    start_error_ = valid.error();
    return;  // run() reports it; nothing else is set up
  }
  ring_fds_.assign(config.shard_count, -1);
  channels_.reserve(static_cast<size_t>(config.shard_count) * config.shard_count);
  for (uint32_t i = 0; i < config.shard_count * config.shard_count; i++) {
    channels_.push_back(std::make_unique<ShardChannel>(config.channel_capacity));
  }
  for (uint32_t i = 0; i < config.shard_count; i++) {
    outside_inboxes_.push_back(std::make_unique<OutsideInbox>(config.outside_capacity));
    wake_fds_.emplace_back(::eventfd(0, EFD_CLOEXEC));
    if (!wake_fds_.back().valid() && !start_error_) {
      start_error_ = Error::from_errno(errno, "eventfd (raise the open file limit?)");
    }
  }
}

Reactor::~Reactor() {
  RR_ASSERT_MSG(run_state_ == nullptr, "Reactor destroyed while running");
}

namespace {
void write_wake(const FileDescriptor& fd) {
  if (!fd.valid()) return;
  const uint64_t one = 1;
  // A full eventfd counter (EAGAIN) still wakes the reader, so the result does not matter.
  [[maybe_unused]] ssize_t written = ::write(fd.get(), &one, sizeof(one));
}
}  // namespace

void Reactor::stop() {
  stop_requested_.store(true, std::memory_order_release);
  for (const FileDescriptor& fd : wake_fds_) write_wake(fd);
}

PostResult Reactor::try_post(ShardId shard, const ShardMessage& message) {
  RR_ASSERT(shard.value() < outside_inboxes_.size());
  bool was_empty = false;
  const PostResult posted = outside_inboxes_[shard.value()]->push(message, &was_empty);
  // Only the push that found the inbox empty wakes: the shard takes everything queued at once,
  // and a shard that took the inbox empty and then slept is woken by the next such push.
  if (posted == PostResult::kPosted && was_empty) write_wake(wake_fds_[shard.value()]);
  return posted;
}

Result<void> Reactor::run(std::function<Task<void>(Shard&)> shard_main) {
  RR_ASSERT_MSG(run_state_ == nullptr, "Reactor::run is not reentrant");
  if (start_error_) return *start_error_;
  for (auto& inbox : outside_inboxes_) inbox->reopen();
  RunState state(config_.shard_count);
  run_state_ = &state;
  final_stats_.assign(config_.shard_count, ShardStats{});
  final_uring_stats_.assign(config_.shard_count, UringStats{});
  std::vector<std::thread> threads;
  threads.reserve(config_.shard_count);
  for (uint32_t i = 0; i < config_.shard_count; i++) {
    threads.emplace_back([this, i, &shard_main] { shard_thread(i, shard_main); });
  }
  for (std::thread& thread : threads) thread.join();
  run_state_ = nullptr;
  if (start_error_) return *start_error_;
  return {};
}

void Reactor::shard_thread(uint32_t index, const std::function<Task<void>(Shard&)>& shard_main) {
  const std::string name = "rr-shard-" + std::to_string(index);
  pthread_setname_np(pthread_self(), name.c_str());
  if (config_.pin_threads) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(index % std::max(1u, std::thread::hardware_concurrency()), &cpus);
    if (pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus) != 0) {
      RR_LOG_WARN("shard {}: could not pin to a core; running unpinned", index);
    }
  }

  std::unique_ptr<Shard> shard;
  Result<std::unique_ptr<Uring>> uring = Uring::create(config_.uring);
  if (!uring.ok()) {
    std::lock_guard lock(start_error_mutex_);
    if (!start_error_) start_error_ = uring.error();
    stop_requested_.store(true);
  } else {
    ring_fds_[index] = uring.value()->ring_fd();
    shard.reset(new Shard(*this, ShardId(index), std::move(uring).value(), wake_fds_[index].get()));
  }
  run_state_->rings_ready.arrive_and_wait();

  bool start_failed;
  {
    std::lock_guard lock(start_error_mutex_);
    start_failed = start_error_.has_value();
  }
  if (shard != nullptr && !start_failed) {
    shard->run(shard_main);
    final_stats_[index] = shard->stats();
    final_uring_stats_[index] = shard->uring().stats();
  } else {
    outside_inboxes_[index]->close();  // never ran: refuse posts rather than hold them
  }
  run_state_->loops_done.arrive_and_wait();
  shard.reset();  // the ring is torn down on the thread that created it
}

}  // namespace ringraft
