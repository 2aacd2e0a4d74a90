// Wal's room waiters: appenders that found the batch full wait here, instead of spinning, until
// a fresh batch starts filling. The rule (wal.h "Bounds and full behaviour"): waiters resume in
// arrival order, on the next loop turn, as many as the fresh batch holds.
#include <fmt/format.h>

#include "common/assert.h"
#include "wal/wal.h"

namespace ringraft::wal {

namespace {

// Queues `waiter` to resume on the shard's next loop turn (run_ready), never inline: the Wal
// wakes room waiters from its before_sleep hook and its failure path, where resuming a task
// that may append, close or destroy the Wal would pull the ground from under the caller.
void resume_next_turn(Shard& shard, std::coroutine_handle<> waiter) {
  auto next_turn = shard.yield();
  next_turn.await_suspend(waiter);
}

}  // namespace

Wal::RoomAwaiter Wal::wait_for_room(size_t record_bytes) {
  RR_ASSERT(record_bytes % kBatchAlignBytes == 0);
  return RoomAwaiter(*this, record_bytes);
}

bool Wal::RoomAwaiter::await_ready() noexcept {
  if (wal_.failure_) {
    outcome_ = *wal_.failure_;
  } else if (wal_.closing_) {
    outcome_ = Error(ErrorCode::kClosed, fmt::format("WAL {} is closed", wal_.options_.directory));
  } else if (record_bytes_ > wal_.batch_record_capacity_bytes()) {
    outcome_ = Error(ErrorCode::kInvalidInput,
                     fmt::format("WAL records of {} bytes can never fit a batch of "
                                 "batch_bytes_max {}",
                                 record_bytes_, wal_.options_.batch_bytes_max));
  }
  // Arrival order: room that appears while others wait is theirs first.
  return outcome_.has_value() || (wal_.room_head_ == nullptr && wal_.encoder_.fits(record_bytes_));
}

void Wal::RoomAwaiter::await_suspend(std::coroutine_handle<> waiter) noexcept {
  waiter_ = waiter;
  next_ = nullptr;
  if (wal_.room_tail_ == nullptr) {
    wal_.room_head_ = this;
  } else {
    wal_.room_tail_->next_ = this;
  }
  wal_.room_tail_ = this;
  wal_.stats_.room_waits++;
}

Result<void> Wal::RoomAwaiter::await_resume() const {
  if (outcome_) return *outcome_;
  return {};
}

// Called when a fresh batch starts filling, when the WAL fails and when it closes. Hands the
// room out in arrival order: a waiter whose records do not fit what is left stops the walk (the
// ones behind it wait for the next batch, so a large record is not starved by small ones).
void Wal::wake_room_waiters() {
  size_t room_bytes = encoder_.begun() ? encoder_.free_bytes() : 0;
  const bool all = failure_.has_value() || closing_;
  while (room_head_ != nullptr) {
    RoomAwaiter* waiter = room_head_;
    if (all) {
      waiter->outcome_ =
          failure_ ? *failure_
                   : Error(ErrorCode::kClosed, fmt::format("WAL {} is closed", options_.directory));
    } else if (waiter->record_bytes_ > room_bytes) {
      break;
    } else {
      room_bytes -= waiter->record_bytes_;
    }
    room_head_ = waiter->next_;
    waiter->next_ = nullptr;
    resume_next_turn(shard_, waiter->waiter_);
  }
  if (room_head_ == nullptr) room_tail_ = nullptr;
  RR_ASSERT(room_head_ != nullptr || room_tail_ == nullptr);
  RR_ASSERT(!all || room_head_ == nullptr);
}

}  // namespace ringraft::wal
