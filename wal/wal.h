// Wal: one shard's write-ahead log, shared by every Raft group of the shard, with group commit.
//
//   auto wal = (co_await Wal::open(shard, options, recovered.position)).value();
//   Result<Seq> seq = wal->append_entries(group, term, first_index, lengths, payload);
//   Result<Seq> durable = co_await wal->wait_durable(seq.value());   // after one fdatasync
//
// Data flow. Appends copy their record into the current turn's batch buffer (BatchEncoder over
// an AlignedBuffer allocated at open) and return the batch's sequence number at once. The
// shard's before_sleep hook then hands the whole batch to the kernel as ONE write linked to ONE
// fdatasync (ops::write_fdatasync) at the segment's write offset, while later appends fill the
// next buffer. When the pair completes, durable_seq advances and every waiter whose sequence
// number is <= durable_seq resumes. When a batch does not fit in the current segment, the WAL
// waits until nothing is in flight, creates the next segment (named by the batch's sequence
// number) and writes there; so a batch in an older segment is always durable before a newer
// segment is written, which is what lets recovery call a bad batch in an older segment
// corruption.
//
// Bounds and full behaviour:
// - one batch buffer of batch_bytes_max fills per turn; an append that does not fit returns
//   ErrorCode::kFull at once (nothing is written; nothing waits). The caller awaits the
//   durability of something it already appended, or the next turn, and appends again. A record
//   larger than a whole batch can never fit: kInvalidInput.
// - at most fsyncs_in_flight_max write+fdatasync pairs in flight; meanwhile appends keep
//   joining the batch being filled (that is the group commit).
//
// Failure: a failed or short write, a failed fdatasync, or a failed segment creation puts the
// WAL in a failed state for good (no fsync is ever retried as if it had worked): waiters whose
// batch is not durable and every later append get the error; durable_seq never moves again.
//
// Invariants: durable_seq <= written_seq < next batch's seq; durable_seq only grows and only
// over a contiguous prefix of completed batches; in-flight batches <= fsyncs_in_flight_max.
// A Wal belongs to one shard and is used from that shard's thread only. close() it before
// destroying it (destroying it with batches in flight is a bug, except during shutdown).
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/types.h"
#include "reactor/io.h"
#include "reactor/shard.h"
#include "reactor/task.h"
#include "wal/batch_format.h"
#include "wal/segment.h"

namespace ringraft::wal {

struct WalOptions {
  std::string directory;
  uint64_t segment_bytes = kSegmentBytesDefault;
  uint32_t batch_bytes_max = 1u << 20;  // one turn's batch; a multiple of 8, <= segment_bytes
  uint32_t fsyncs_in_flight_max = 1;    // write+fdatasync pairs in flight at once
  static constexpr uint32_t kFsyncsInFlightLimit = 16;
};

// An error naming the first invalid setting, or success.
Result<void> validate(const WalOptions& options);

struct WalStats {
  uint64_t records_appended = 0;
  uint64_t appends_refused_full = 0;  // append returned kFull
  uint64_t batches_written = 0;       // write+fdatasync pairs submitted
  uint64_t batches_durable = 0;       // pairs that completed successfully
  uint64_t fsyncs_completed = 0;      // successful fdatasyncs (== batches_durable today)
  uint64_t bytes_written = 0;         // padded batch bytes submitted
  uint64_t segments_created = 0;
};

class Wal {
 public:
  // Opens the WAL at `position` (from recover(); a default WalPosition for an empty
  // directory), creating the first segment if there is none. Registers the group-commit hook on
  // `shard`. `io` defaults to the shard's; tests pass a fault-injecting wrapper. The arguments
  // are held by reference until the returned task finishes: await it where it is called.
  static Task<Result<std::unique_ptr<Wal>>> open(Shard& shard, const WalOptions& options,
                                                 const WalPosition& position);
  static Task<Result<std::unique_ptr<Wal>>> open(Shard& shard, Io& io, const WalOptions& options,
                                                 const WalPosition& position);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Each appends one record to this turn's batch and returns the batch's sequence number.
  // Errors: kFull (batch buffer full this turn; retry later), kInvalidInput (the record can
  // never fit a batch), kClosed (after close()), or the WAL's failure.
  Result<Seq> append_entries(GroupId group, Term term, LogIndex first_index,
                             std::span<const uint32_t> entry_lengths, ConstByteSpan payload);
  Result<Seq> append_hard_state(GroupId group, Term term, NodeId vote, LogIndex commit);
  Result<Seq> append_snapshot_mark(GroupId group, LogIndex index, Term term);
  Result<Seq> append_truncate(GroupId group, LogIndex from_index);

  class [[nodiscard]] DurableAwaiter {
   public:
    DurableAwaiter(Wal& wal, Seq seq) : wal_(wal), seq_(seq) {}
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> waiter) noexcept;
    // The sequence number once durable, or the WAL's failure.
    Result<Seq> await_resume() const;

   private:
    friend class Wal;
    Wal& wal_;
    Seq seq_;
    std::coroutine_handle<> waiter_;
    DurableAwaiter* next_ = nullptr;
  };
  // Resumes once batch `seq` (returned by an append) is durable, or the WAL failed.
  DurableAwaiter wait_durable(Seq seq);

  // Refuses new appends, writes what is buffered, waits for everything in flight and closes
  // the segment. Returns the WAL's failure if it failed.
  Task<Result<void>> close();

  // Whether records of `record_bytes` in total (sizes from batch_format.h, each a multiple of
  // 8) still fit the batch being filled: lets a caller keep related records in one batch.
  bool batch_fits(size_t record_bytes) const { return encoder_.fits(record_bytes); }
  // Bytes of records a whole (empty) batch can hold.
  size_t batch_record_capacity_bytes() const {
    return options_.batch_bytes_max - kBatchHeaderBytes;
  }

  Seq written_seq() const { return written_seq_; }
  Seq durable_seq() const { return durable_seq_; }
  // The sequence number the batch being filled will have.
  Seq filling_seq() const { return encoder_.seq(); }
  bool failed() const { return failure_.has_value(); }
  const std::optional<Error>& failure() const { return failure_; }
  const WalStats& stats() const { return stats_; }
  uint32_t fsyncs_in_flight() const { return in_flight_count_; }
  const Segment& segment() const { return segment_; }
  void check_invariants() const;

 private:
  struct BufferState {
    Seq seq;
    bool in_flight = false;
    bool done = false;  // its write+fdatasync succeeded
  };

  Wal(Shard& shard, Io& io, const WalOptions& options, Segment segment, FileDescriptor directory,
      Seq next_seq);
  Result<Seq> admit(size_t record_bytes) const;
  Result<Seq> appended(bool fitted);
  void before_sleep();
  void start_filling(uint32_t buffer_index, Seq seq);
  Task<void> flush_batch(uint32_t buffer_index, ConstByteSpan bytes, bool roll);
  Result<void> check_pair(uint32_t buffer_index, ConstByteSpan bytes, uint64_t offset,
                          const LinkedPairAwaiter::Results& results) const;
  Task<Result<void>> roll_segment(Seq first_seq);
  void complete_flush(uint32_t buffer_index, const Result<void>& result);
  void advance_durable();
  void fail(const Error& error);
  void wake_waiters();

  Shard& shard_;
  Io& io_;
  const WalOptions options_;
  FileDescriptor directory_;
  Segment segment_;
  std::vector<AlignedBuffer> buffers_;  // fsyncs_in_flight_max + 1, allocated at open
  std::vector<BufferState> buffer_states_;
  uint32_t filling_buffer_ = 0;
  BatchEncoder encoder_;
  Seq written_seq_;  // last batch handed to the kernel
  Seq durable_seq_;  // last batch of the contiguous durable prefix
  uint32_t in_flight_count_ = 0;
  bool rolling_ = false;
  bool closing_ = false;
  std::optional<Error> failure_;
  DurableAwaiter* waiters_head_ = nullptr;  // intrusive list: the awaiters live in their frames
  DurableAwaiter* waiters_tail_ = nullptr;
  std::coroutine_handle<> idle_waiter_;  // close() waiting for in_flight_count_ == 0
  Shard::HookId before_sleep_hook_ = 0;
  WalStats stats_;
};

}  // namespace ringraft::wal
