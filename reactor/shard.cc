#include "reactor/shard.h"

#include <atomic>
#include <exception>

#include "common/assert.h"
#include "common/log.h"
#include "reactor/reactor.h"

namespace ringraft {
namespace {
thread_local Shard* t_current_shard = nullptr;
}  // namespace

namespace detail {

// The root of a spawned task: starts eagerly, frees its frame when done, and stays on the
// shard's list of live tasks meanwhile so that shutdown can find what never finished.
struct DetachedTask {
  using promise_type = DetachedPromise;
};

struct DetachedPromise : TaskListLink {
  DetachedPromise(Shard& shard, Task<void>& /*task*/) {
    TaskListLink& head = shard.live_tasks_;
    previous = &head;
    next = head.next;
    head.next->previous = this;
    head.next = this;
    shard.stats_.tasks_spawned++;
  }
  ~DetachedPromise() {
    previous->next = next;
    next->previous = previous;
  }
  DetachedTask get_return_object() const noexcept { return {}; }
  std::suspend_never initial_suspend() const noexcept { return {}; }
  std::suspend_never final_suspend() const noexcept { return {}; }
  void return_void() const noexcept {}
  void unhandled_exception() const noexcept { std::terminate(); }
  static void* operator new(size_t size_bytes) { return frame_allocate(size_bytes); }
  static void operator delete(void* frame, size_t size_bytes) noexcept {
    frame_free(frame, size_bytes);
  }
};

}  // namespace detail

namespace {
detail::DetachedTask run_detached(Shard& /*shard*/, Task<void> task) {
  co_await std::move(task);
}
}  // namespace

Shard::Shard(Reactor& reactor, ShardId id, std::unique_ptr<Uring> uring, int wake_fd)
    : reactor_(reactor),
      id_(id),
      uring_(std::move(uring)),
      wake_fd_(wake_fd),
      wake_pending_(reactor.shard_count(), 0) {
  uring_->set_wake_handler(&Shard::on_wake, this);
  ready_.reserve(256);
  ready_running_.reserve(256);
}

Shard::~Shard() {
  RR_ASSERT_MSG(live_tasks_.next == &live_tasks_, "Shard destroyed with live tasks");
}

Shard* Shard::current() {
  return t_current_shard;
}

uint32_t Shard::shard_count() const {
  return reactor_.shard_count();
}

void Shard::spawn(Task<void> task) {
  RR_ASSERT_MSG(t_current_shard == this, "spawn from a thread that does not run this shard");
  run_detached(*this, std::move(task));
}

Shard::HookId Shard::add_before_sleep(std::function<void()> hook) {
  RR_ASSERT(hook != nullptr);
  auto owned = std::make_unique<std::function<void()>>(std::move(hook));
  // Reuse a removed slot so that components coming and going do not grow the list.
  for (HookId id = 0; id < before_sleep_.size(); id++) {
    if (before_sleep_[id] == nullptr) {
      before_sleep_[id] = std::move(owned);
      return id;
    }
  }
  before_sleep_.push_back(std::move(owned));
  return static_cast<HookId>(before_sleep_.size() - 1);
}

void Shard::remove_before_sleep(HookId hook) {
  RR_ASSERT(hook < before_sleep_.size() && before_sleep_[hook] != nullptr);
  // Kept alive until the hooks of this turn have run: it may be the hook calling us.
  retired_hooks_.push_back(std::move(before_sleep_[hook]));
}

void Shard::run_before_sleep_hooks() {
  // By index, with the count fixed at entry: hooks added now first run next turn, and the
  // functions live on the heap, so growing the list never moves one that is running.
  const size_t count = before_sleep_.size();
  for (size_t id = 0; id < count; id++) {
    if (std::function<void()>* hook = before_sleep_[id].get()) (*hook)();
  }
  retired_hooks_.clear();
}

bool Shard::try_send(ShardId to, const ShardMessage& message) {
  RR_ASSERT(to.value() < shard_count() && message.handler != nullptr);
  RR_ASSERT_MSG(to != id_, "a shard sends to itself: call the handler or spawn a task instead");
  if (!reactor_.channel(id_, to).ring.try_push(message)) {
    stats_.send_full++;
    return false;
  }
  stats_.messages_sent++;
  wake_pending_[to.value()] = 1;
  return true;
}

Task<bool> Shard::send(ShardId to, ShardMessage message) {
  while (!try_send(to, message)) {
    if (stopping_) co_return false;
    co_await SpaceAwaiter{*this, to};
  }
  co_return true;
}

bool Shard::SpaceAwaiter::await_suspend(std::coroutine_handle<> awaiter) {
  ShardChannel& channel = shard.reactor_.channel(shard.id_, to);
  channel.sender_waiting.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // The receiver may have drained the ring before it could see the flag: look again.
  if (channel.ring.size_approx() < channel.ring.capacity()) return false;
  shard.send_waiters_.push_back(awaiter);
  return true;
}

void Shard::on_wake(void* context) {
  // Another shard sent messages or freed space. Messages are drained at the top of every
  // turn anyway; senders waiting for space get another try.
  auto& self = *static_cast<Shard*>(context);
  for (std::coroutine_handle<> waiter : self.send_waiters_) self.ready_.push_back(waiter);
  self.send_waiters_.clear();
}

void Shard::receive_messages() {
  const uint32_t count = shard_count();
  for (uint32_t from = 0; from < count; from++) {
    if (from == id_.value()) continue;
    ShardChannel& channel = reactor_.channel(ShardId(from), id_);
    // At most one ring's worth per turn, so a busy sender cannot starve the rest of the loop.
    size_t budget = channel.ring.capacity();
    size_t received = 0;
    ShardMessage message;
    while (budget-- > 0 && channel.ring.try_pop(&message)) {
      message.handler(*this, message);
      received++;
    }
    if (received == 0) continue;
    stats_.messages_received += received;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (channel.sender_waiting.load(std::memory_order_relaxed) &&
        channel.sender_waiting.exchange(false, std::memory_order_relaxed)) {
      wake_pending_[from] = 1;
    }
  }
}

void Shard::receive_posts() {
  OutsideInbox& inbox = reactor_.outside_inbox(id_);
  if (!inbox.pending()) return;
  inbox.take_all(&posts_running_);
  for (const ShardMessage& message : posts_running_) message.handler(*this, message);
  stats_.posts_received += posts_running_.size();
  posts_running_.clear();
}

bool Shard::inbound_pending() const {
  if (reactor_.outside_inbox(id_).pending()) return true;
  const uint32_t count = shard_count();
  for (uint32_t from = 0; from < count; from++) {
    if (from == id_.value()) continue;
    if (reactor_.channel(ShardId(from), id_).ring.size_approx() > 0) return true;
  }
  return false;
}

void Shard::run_ready() {
  // Tasks made ready while these run wait for the next turn.
  ready_running_.swap(ready_);
  for (std::coroutine_handle<> handle : ready_running_) handle.resume();
  ready_running_.clear();
}

void Shard::flush_wakes() {
  for (uint32_t to = 0; to < wake_pending_.size(); to++) {
    if (!wake_pending_[to]) continue;
    wake_pending_[to] = 0;
    uring_->send_wake(reactor_.ring_fd(ShardId(to)));
  }
}

void Shard::arm_external_wake() {
  wake_read_ = Operation{};
  wake_read_.code = OpCode::kRead;
  wake_read_.fd = wake_fd_;
  wake_read_.buffer = &wake_counter_;
  wake_read_.length = sizeof(wake_counter_);
  wake_read_.on_complete = &Shard::on_external_wake;
  wake_read_.context = this;
  if (!uring_->submit(wake_read_)) return;  // shutting down: nothing more to wake for
}

void Shard::on_external_wake(Operation& op, int32_t result, uint32_t /*flags*/) {
  auto& self = *static_cast<Shard*>(op.context);
  if (result < 0 && result != -ECANCELED) {
    RR_LOG_ERROR("shard {}: eventfd read failed: {}", self.id_.value(), IoResult{result}.message());
  }
  if (!self.uring_->shutting_down()) self.arm_external_wake();
}

void Shard::begin_stop() {
  stopping_ = true;
  uring_->begin_shutdown();
  on_wake(this);  // senders waiting for space learn that we stop
}

void Shard::run(const std::function<Task<void>(Shard&)>& shard_main) {
  t_current_shard = this;
  arm_external_wake();
  spawn(shard_main(*this));
  while (true) {
    if (!stopping_ && reactor_.stop_requested()) begin_stop();
    receive_messages();
    receive_posts();
    run_ready();
    run_before_sleep_hooks();
    flush_wakes();
    const bool more_now = !ready_.empty() || inbound_pending();
    if (stopping_ && !more_now && uring_->pending_count() == 0) break;
    if (!more_now && !stopping_ && poll_while_idle()) {
      stats_.idle_polls++;
    } else {
      uring_->wait_and_submit(more_now ? Duration::zero() : Duration(-1));
      uring_->dispatch_completions();
    }
    stats_.turns++;
#ifndef NDEBUG
    uring_->check_invariants();
#endif
  }
  stats_.posts_dropped_at_stop = reactor_.outside_inbox(id_).close();
  if (stats_.posts_dropped_at_stop > 0) {
    RR_LOG_WARN("shard {}: {} posted message(s) arrived after the loop ended and were dropped",
                id_.value(), stats_.posts_dropped_at_stop);
  }
  destroy_remaining_tasks();
  t_current_shard = nullptr;
}

// Spins on the completion queue (and the inbound channels) for up to idle_poll before the loop
// sleeps. Returns true if work turned up, which was then dispatched.
bool Shard::poll_while_idle() {
  const Duration budget = reactor_.config().idle_poll;
  if (budget <= Duration::zero()) return false;
  const MonoTime give_up_at = uring_->now() + budget;
  do {
    uring_->wait_and_submit(Duration::zero());
    if (uring_->dispatch_completions() > 0 || inbound_pending() || !ready_.empty()) return true;
  } while (uring_->now() < give_up_at);
  return false;
}

void Shard::destroy_remaining_tasks() {
  // Everything the kernel held has completed, so these tasks wait on something that will never
  // happen (an event nobody signals). Destroying a suspended frame runs its destructors.
  uint64_t destroyed = 0;
  while (live_tasks_.next != &live_tasks_) {
    auto* promise = static_cast<detail::DetachedPromise*>(live_tasks_.next);
    std::coroutine_handle<detail::DetachedPromise>::from_promise(*promise).destroy();
    destroyed++;
  }
  stats_.tasks_destroyed_at_stop = destroyed;
  if (destroyed > 0) {
    RR_LOG_WARN("shard {}: {} task(s) still waiting at shutdown were destroyed", id_.value(),
                destroyed);
  }
}

}  // namespace ringraft
