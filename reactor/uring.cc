#include "reactor/uring.h"

#include <linux/time_types.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/assert.h"
#include "common/log.h"
#include "reactor/uring_buffer_ring.h"

namespace ringraft {
namespace {

constexpr unsigned kCqeBatch = 256;          // CQEs copied out per peek
constexpr unsigned kCqeBatchesPerTurn = 16;  // then timers and the rest of the loop get a turn

static_assert(sizeof(__kernel_timespec) == 16);

__kernel_timespec to_kernel_timespec(Duration duration) {
  const int64_t nanoseconds = duration.count() < 0 ? 0 : duration.count();
  return __kernel_timespec{nanoseconds / 1'000'000'000, nanoseconds % 1'000'000'000};
}

// Tries the fastest setup first and falls back for older kernels; returns the flags that worked.
int init_ring(io_uring* ring, const UringConfig& config, unsigned* flags_used) {
  const unsigned base = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  const unsigned attempts[] = {
      base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      base | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      base,
  };
  int result = -EINVAL;
  for (const unsigned flags : attempts) {
    io_uring_params params{};
    params.flags = flags;
    params.cq_entries = config.cq_entries;
    result = io_uring_queue_init_params(config.sq_entries, ring, &params);
    if (result == 0) {
      *flags_used = flags;
      if ((params.features & IORING_FEAT_EXT_ARG) == 0) {
        io_uring_queue_exit(ring);
        return -EOPNOTSUPP;
      }
      return 0;
    }
    if (result != -EINVAL) return result;
  }
  return result;
}

}  // namespace

Result<std::unique_ptr<Uring>> Uring::create(const UringConfig& config) {
  std::unique_ptr<Uring> uring(new Uring());
  const int result = init_ring(&uring->ring_, config, &uring->setup_flags_);
  if (result == -EOPNOTSUPP) {
    return Error(ErrorCode::kUnsupported,
                 "io_uring lacks IORING_FEAT_EXT_ARG (needs Linux 5.11 or newer)");
  }
  if (result < 0) {
    return Error::from_errno(-result,
                             "io_uring_queue_init_params (check RLIMIT_MEMLOCK and "
                             "that io_uring is not disabled by kernel.io_uring_disabled)");
  }
  uring->update_clock();
  return uring;
}

Uring::~Uring() {
  RR_ASSERT_MSG(buffer_groups_live_ == 0, "destroy buffer groups before their ring");
  io_uring_queue_exit(&ring_);
}

void Uring::update_clock() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ = MonoTime(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

io_uring_sqe* Uring::get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    // SQ full mid-turn: hand what we have to the kernel now. Bounded: one flush frees it all.
    stats_.sq_full_flushes++;
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
    RR_ASSERT_MSG(sqe != nullptr, "io_uring SQ still full after a submit");
  }
  stats_.sqes_prepared++;
  return sqe;
}

void Uring::assert_owner_thread() const {
#ifndef NDEBUG
  RR_ASSERT_MSG(std::this_thread::get_id() == owner_thread_,
                "a shard's ring used from another thread: send a ShardMessage instead");
#endif
}

void Uring::check_invariants() const {
  timers_.check_invariants();
  for (const Deferred& item : deferred_) RR_ASSERT(item.op->in_flight);
  RR_ASSERT(deferred_running_.empty());
}

bool Uring::submit(Operation& op) {
  assert_owner_thread();
  RR_ASSERT_MSG(!op.in_flight, "an Operation was submitted twice");
  RR_ASSERT(op.on_complete != nullptr);
  if (shutting_down_) return false;
  if (op.code == OpCode::kTimer) {
    op.in_flight = true;
    timers_.add(op);
    return true;
  }
  const bool linked_timeout = op.timeout.count() > 0;
  // A link only holds within one submission: make room for the whole chain (this op, its
  // timeout, and the op linked after it) so that no early flush splits it.
  const unsigned sqes_needed = 1 + (linked_timeout ? 1 : 0) + (op.link_next ? 1 : 0);
  if (sqes_needed > 1 && io_uring_sq_space_left(&ring_) < sqes_needed) {
    stats_.sq_full_flushes++;
    io_uring_submit(&ring_);
  }
  io_uring_sqe* sqe = get_sqe();
  prepare(sqe, op);
  io_uring_sqe_set_data(sqe, &op);
  if (op.link_next) sqe->flags |= IOSQE_IO_LINK;
  op.in_flight = true;
  kernel_in_flight_++;
  if (linked_timeout) {
    RR_ASSERT_MSG(!op.link_next, "an operation cannot have both a timeout and a linked successor");
    sqe->flags |= IOSQE_IO_LINK;
    const __kernel_timespec spec = to_kernel_timespec(op.timeout);
    op.timeout_spec = {spec.tv_sec, spec.tv_nsec};
    io_uring_sqe* timeout_sqe = get_sqe();
    io_uring_prep_link_timeout(timeout_sqe, reinterpret_cast<__kernel_timespec*>(&op.timeout_spec),
                               0);
    io_uring_sqe_set_data64(timeout_sqe, kTagInternal);
    internal_in_flight_++;
  }
  return true;
}

void Uring::prepare(io_uring_sqe* sqe, Operation& op) {
  switch (op.code) {
    case OpCode::kNop:
      io_uring_prep_nop(sqe);
      return;
    case OpCode::kRead:
      io_uring_prep_read(sqe, op.fd, op.buffer, op.length, op.offset);
      return;
    case OpCode::kWrite:
      io_uring_prep_write(sqe, op.fd, op.buffer, op.length, op.offset);
      return;
    case OpCode::kReadv:
      io_uring_prep_readv(sqe, op.fd, op.iov, op.iov_count, op.offset);
      return;
    case OpCode::kWritev:
      io_uring_prep_writev(sqe, op.fd, op.iov, op.iov_count, op.offset);
      return;
    case OpCode::kFsync:
      io_uring_prep_fsync(sqe, op.fd,
                          (op.flags & Operation::kFsyncDataOnly) ? IORING_FSYNC_DATASYNC : 0);
      return;
    case OpCode::kFallocate:
      io_uring_prep_fallocate(sqe, op.fd, op.flags, static_cast<off_t>(op.offset),
                              static_cast<off_t>(op.size_bytes));
      return;
    case OpCode::kOpenAt:
      io_uring_prep_openat(sqe, op.fd, op.path, op.flags, op.mode);
      return;
    case OpCode::kClose:
      io_uring_prep_close(sqe, op.fd);
      return;
    case OpCode::kConnect:
      io_uring_prep_connect(sqe, op.fd, op.address, op.address_length);
      return;
    case OpCode::kAccept:
      io_uring_prep_accept(sqe, op.fd, op.address, op.address_length_ptr, SOCK_CLOEXEC);
      return;
    case OpCode::kAcceptMultishot:
      io_uring_prep_multishot_accept(sqe, op.fd, nullptr, nullptr, SOCK_CLOEXEC);
      return;
    case OpCode::kRecv:
      io_uring_prep_recv(sqe, op.fd, op.buffer, op.length, op.flags);
      return;
    case OpCode::kRecvMultishot:
      io_uring_prep_recv_multishot(sqe, op.fd, nullptr, 0, op.flags);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = op.buffer_group;
      return;
    case OpCode::kSend:
      io_uring_prep_send(sqe, op.fd, op.buffer, op.length, op.flags);
      return;
    case OpCode::kSendmsg:
      io_uring_prep_sendmsg(sqe, op.fd, op.message, static_cast<unsigned>(op.flags));
      return;
    case OpCode::kSendZeroCopy:
      io_uring_prep_send_zc(sqe, op.fd, op.buffer, op.length, op.flags, 0);
      return;
    case OpCode::kTimer:
      break;
  }
  RR_UNREACHABLE("operation code without an SQE form");
}

void Uring::cancel(Operation& op) {
  assert_owner_thread();
  if (!op.in_flight) return;
  if (op.code == OpCode::kTimer) {
    if (timers_.remove(op)) complete_later(op, -ECANCELED);
    return;  // else: already expired or cancelled, its completion is queued
  }
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(&op), 0);
  io_uring_sqe_set_data64(sqe, kTagInternal);
  internal_in_flight_++;
}

void Uring::complete_later(Operation& op, int32_t result) {
  deferred_.push_back(Deferred{&op, result});
}

void Uring::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  while (Operation* op = timers_.pop_any()) complete_later(*op, -ECANCELED);
  if (kernel_in_flight_ > 0) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data64(sqe, kTagInternal);
    internal_in_flight_++;
  }
}

void Uring::send_wake(int target_ring_fd) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_msg_ring(sqe, target_ring_fd, 0, kTagWake, 0);
  io_uring_sqe_set_data64(sqe, kTagWakeSent);
  internal_in_flight_++;
}

void Uring::wait_and_submit(Duration max_wait) {
  assert_owner_thread();
  update_clock();  // the turn's work took time: a timer's remaining wait is shorter now
  Duration wait = max_wait;
  if (!deferred_.empty()) wait = Duration::zero();
  if (!timers_.empty()) {
    // Clamped: a deadline already passed means "do not sleep", never "sleep forever".
    const Duration until_timer = std::max(Duration::zero(), timers_.earliest_deadline() - now_);
    if (wait.count() < 0 || until_timer < wait) wait = until_timer;
  }
  int result;
  if (wait.count() < 0) {
    result = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec spec = to_kernel_timespec(wait);
    io_uring_cqe* cqe = nullptr;
    result = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &spec, nullptr);
  }
  stats_.enter_calls++;
  if (result < 0 && result != -ETIME && result != -EINTR && result != -EAGAIN && result != -EBUSY) {
    RR_LOG_ERROR("io_uring_enter failed: {}", std::strerror(-result));
  }
  update_clock();
}

size_t Uring::dispatch_completions() {
  size_t dispatched = run_deferred();
  struct Completion {
    uint64_t user_data;
    int32_t result;
    uint32_t flags;
  };
  io_uring_cqe* cqes[kCqeBatch];
  Completion batch[kCqeBatch];
  for (unsigned round = 0; round < kCqeBatchesPerTurn; round++) {
    const unsigned count = io_uring_peek_batch_cqe(&ring_, cqes, kCqeBatch);
    if (count == 0) break;
    // Copy out and release the CQ slots first: handlers may submit, and the kernel may then
    // reuse the slots.
    for (unsigned i = 0; i < count; i++) {
      batch[i] = Completion{cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
    }
    io_uring_cq_advance(&ring_, count);
    stats_.completions += count;
    for (unsigned i = 0; i < count; i++)
      dispatch_one(batch[i].user_data, batch[i].result, batch[i].flags);
    dispatched += count;
  }
  dispatched += fire_due_timers();
  return dispatched;
}

void Uring::dispatch_one(uint64_t user_data, int32_t result, uint32_t flags) {
  if (user_data == kTagInternal) {
    RR_ASSERT(internal_in_flight_ > 0);
    internal_in_flight_--;
    return;
  }
  if (user_data == kTagWakeSent) {
    RR_ASSERT(internal_in_flight_ > 0);
    internal_in_flight_--;
    if (result < 0) {
      // The target ring is gone (its shard already stopped): the message can no longer matter.
      stats_.wakes_failed++;
      if (!shutting_down_) RR_LOG_WARN("cross-shard wake failed: {}", std::strerror(-result));
    }
    return;
  }
  if (user_data == kTagWake) {
    stats_.wakes_received++;
    if (wake_handler_ != nullptr) wake_handler_(wake_context_);
    return;
  }
  // user_data is the Operation's address (see the header comment).
  Operation& op = *reinterpret_cast<Operation*>(user_data);  // NOLINT(performance-no-int-to-ptr)
  RR_ASSERT(op.in_flight);
  if (op.code == OpCode::kSendZeroCopy) {
    if (flags & IORING_CQE_F_NOTIF) {
      result = op.zero_copy_result;  // the buffer is free now; report the send's result
    } else if (flags & IORING_CQE_F_MORE) {
      op.zero_copy_result = result;  // a notification follows
      return;
    }
    flags = 0;
  }
  if (!(flags & IORING_CQE_F_MORE)) {
    op.in_flight = false;
    RR_ASSERT(kernel_in_flight_ > 0);
    kernel_in_flight_--;
  }
  op.on_complete(op, result, flags);
}

size_t Uring::fire_due_timers() {
  // Bounded by the count at entry: a timer re-armed for "now" fires next turn, not forever.
  size_t budget = timers_.size();
  size_t fired = 0;
  while (budget-- > 0) {
    Operation* op = timers_.pop_expired(now_);
    if (op == nullptr) break;
    op->in_flight = false;
    stats_.timers_fired++;
    fired++;
    op->on_complete(*op, 0, 0);
  }
  return fired;
}

size_t Uring::run_deferred() {
  if (deferred_.empty()) return 0;
  deferred_running_.swap(deferred_);
  for (const Deferred& item : deferred_running_) {
    item.op->in_flight = false;
    item.op->on_complete(*item.op, item.result, 0);
  }
  const size_t count = deferred_running_.size();
  deferred_running_.clear();
  return count;
}

Result<std::unique_ptr<BufferGroup>> Uring::create_buffer_group(uint32_t count,
                                                                uint32_t bytes_each) {
  auto group = UringBufferRing::create(*this, next_buffer_group_id_, count, bytes_each);
  if (!group.ok()) return group.error();
  next_buffer_group_id_++;
  return std::unique_ptr<BufferGroup>(std::move(group).value());
}

}  // namespace ringraft
