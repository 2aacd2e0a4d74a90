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
// waits until nothing is in flight, starts the next segment (named by the batch's sequence
// number) and writes there. Once the current segment holds a batch, the next one is prepared
// in the background under a temporary name: a spare renamed (see "Compaction"), or else
// created, fallocated, zero-filled (WalOptions::segment_fill) and fsynced, so the roll is a
// rename and a directory fsync rather than a stall of group commit on fallocate and fsyncs;
// a prepare that failed or is still running leaves the roll to create the segment itself
// (fallocated only: the roll never waits for a fill).
// Either way, so a batch in an older segment is always durable before a newer
// segment is written, which is what lets recovery call a bad batch in an older segment
// corruption.
//
// Bounds and full behaviour:
// - one batch buffer of batch_bytes_max fills per turn; an append that does not fit returns
//   ErrorCode::kFull at once (nothing is written; nothing waits). The caller awaits
//   wait_for_room(record bytes), which resumes it (next turn, in arrival order, as many waiters
//   as the fresh batch holds) once the full batch was handed to the kernel, and appends again.
//   A record larger than a whole batch can never fit: kInvalidInput.
// - at most fsyncs_in_flight_max write+fdatasync pairs in flight; meanwhile appends keep
//   joining the batch being filled (that is the group commit).
//
// Direct I/O (WalOptions::direct_io, default off). Segments are reopened with O_DIRECT after
// their creation (fallocate and fsync go through the page cache as before), so the page-cache
// copy and its writeback are gone from the write path. Every batch is then padded to
// direct_block_bytes with a padding record (batch_format.h), so every write starts and ends on a
// block boundary from a 4 KiB-aligned buffer, and recovery stays exact: a padded batch's length
// says where the next one starts. A log whose write position is not block-aligned (written
// without O_DIRECT) continues in a new segment. Where the filesystem refuses O_DIRECT (EINVAL
// when reopening), kRequired fails open() with kUnsupported and kPreferred continues through the
// page cache with a warning (direct_io() tells which). SyncMode::kDsyncWrites opens segments
// O_DSYNC instead of linking an fdatasync to each write: the write completes once durable.
//
// Failure: a failed or short write, a failed fdatasync, or a failed segment creation puts the
// WAL in a failed state for good (no fsync is ever retried as if it had worked): waiters whose
// batch is not durable and every later append get the error; durable_seq never moves again.
//
// Invariants: durable_seq <= written_seq < next batch's seq; durable_seq only grows and only
// over a contiguous prefix of completed batches; in-flight batches <= fsyncs_in_flight_max.
// A Wal belongs to one shard and is used from that shard's thread only. close() it before
// destroying it (destroying it with batches in flight is a bug, except during shutdown).
//
// Reads. Every append also feeds a WalIndex (wal_index.h: per group, where each entries record
// lives and the terms as runs) and copies entries records into an EntryCache (entry_cache.h:
// one FIFO ring of cache_bytes_max per WAL). read_entries() serves a range from the cache, and
// what was evicted from its batch on disk (one openat per call, one or two reads per batch,
// the batch's CRC checked again). recover_and_open() rebuilds the index from the segments, so
// after a restart every retained index is readable (from disk; the cache starts empty).
// Appends keep Raft's rules: entries at i replace i.. (and must not leave a gap or reach into
// the snapshot: kInvalidInput), truncate(from) removes from.., a snapshot mark compacts.
//
// Compaction. Segments are released oldest first, as a prefix (recovery needs consecutive
// seqs), and only whole: the oldest segment goes when every batch in it is older than every
// group's pin (GroupLog::pin_seq): the group's latest hard state (its vote must survive), its
// latest snapshot mark (the log's new start), and its oldest entries record still holding an
// index above its snapshot. Records a group no longer needs (overwritten or truncated entries,
// older hard states, entries at or below its snapshot) pin nothing. Releasing starts only once
// the newest snapshot mark is durable, and the current segment is never released. Released
// segments leave the log one at a time, oldest first, each by a rename or an unlink and a
// directory fsync (a crash leaves a prefix removed): up to spare_segments_max are kept as
// spares (segment.h: renamed "spare-<bound>.wal.spare", every batch in it older than the bound)
// and become the next prepared segments, so batches land in extents already written; the rest
// are deleted. A recycled segment keeps its old (stale) batches behind the new ones; recovery
// never takes one for the log's, since its seq is below the segment's first (recovery_scan.h;
// the reasoning in wal/README.md "Recycled segments"). Each group's lag is visible:
// group_pinned_segments() and WalStats::oldest_pinned_segment_seq.
#pragma once

#include <algorithm>
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
#include "wal/entry_batch.h"
#include "wal/entry_cache.h"
#include "wal/recovery.h"
#include "wal/segment.h"
#include "wal/wal_index.h"

namespace ringraft::wal {

// How batches reach the disk (see "Direct I/O" above).
enum class DirectIo : uint8_t {
  kOff,        // through the page cache (the default)
  kRequired,   // O_DIRECT; open() fails with kUnsupported where the filesystem refuses it
  kPreferred,  // O_DIRECT where the filesystem takes it, else the page cache, with a warning
};
enum class SyncMode : uint8_t {
  kFdatasync,    // each batch is a write linked to an fdatasync
  kDsyncWrites,  // segments are opened O_DSYNC: the write alone is durable, no fdatasync
  // No sync at all: a batch is "durable" once written. For experiments only (`ringraft server
  // --fsync off`): a power loss can lose acknowledged entries.
  kNone,
};

struct WalOptions {
  std::string directory;
  uint64_t segment_bytes = kSegmentBytesDefault;
  uint32_t batch_bytes_max = 1u << 20;  // one turn's batch; a multiple of 8, <= segment_bytes
  uint32_t fsyncs_in_flight_max = 1;    // write+fdatasync pairs in flight at once
  // The largest fsyncs_in_flight_max this directory may have been written with, for recovery
  // (recovery.h: up to N - 1 unacknowledged batches may follow a torn one). 0: the same as
  // fsyncs_in_flight_max. Lowering fsyncs_in_flight_max on an existing WAL needs the old value
  // here, or a tail torn under the old setting reads as corruption.
  uint32_t recovery_fsyncs_in_flight_max = 0;
  // What recovery is told the writer had in flight (RecoveryOptions::fsyncs_in_flight_max).
  uint32_t fsyncs_in_flight_to_recover() const {
    return std::max(fsyncs_in_flight_max, recovery_fsyncs_in_flight_max);
  }
  uint64_t cache_bytes_max = uint64_t{64} << 20;  // EntryCache ring; 0 disables the cache
  static constexpr uint32_t kFsyncsInFlightLimit = 16;
  DirectIo direct_io = DirectIo::kOff;
  SyncMode sync_mode = SyncMode::kFdatasync;
  // With O_DIRECT, batches are padded to this (a power of two, >= the device's logical block
  // size; 4096 suits the devices we run on); batch_bytes_max and segment_bytes must be multiples.
  uint32_t direct_block_bytes = 4096;
  // Released segments kept as spares for reuse (renamed, not deleted; see "Compaction"), at most
  // this many on disk besides the prepared one; 0 deletes them as before.
  uint32_t spare_segments_max = 2;
  static constexpr uint32_t kSpareSegmentsLimit = 64;
  // How a prepared segment is made when no spare is there (segment.h SegmentFill): kZeroes
  // writes zeros over it before use, so batches land in written extents.
  SegmentFill segment_fill = SegmentFill::kZeroes;
};

// An error naming the first invalid setting, or success.
Result<void> validate(const WalOptions& options);

struct WalStats {
  uint64_t records_appended = 0;
  uint64_t appends_refused_full = 0;  // append returned kFull
  uint64_t batches_written = 0;       // write+fdatasync pairs submitted
  uint64_t batches_durable = 0;       // pairs that completed successfully
  uint64_t fsyncs_completed = 0;      // successful fdatasyncs, or O_DSYNC writes (kDsyncWrites)
  uint64_t bytes_written = 0;         // padded batch bytes submitted
  uint64_t segments_created = 0;
  uint64_t segments_prepared = 0;        // created ahead of their roll (see roll_segment)
  uint64_t segments_released = 0;        // deleted by compaction
  uint64_t segments_retained = 0;        // on disk now, the current one included
  Seq oldest_pinned_segment_seq;         // first seq of the oldest segment on disk
  uint64_t entries_read_from_cache = 0;  // by read_entries
  uint64_t entries_read_from_disk = 0;
  uint64_t batches_read_from_disk = 0;
  uint64_t room_waits = 0;         // wait_for_room() calls that suspended
  uint64_t segments_recycled = 0;  // released segments kept as spares instead of deleted
  uint64_t segments_reused = 0;    // prepared segments made from a spare
  uint64_t spare_segments = 0;     // spares on disk now (the prepared one not counted)
  uint64_t bytes_zero_filled = 0;  // zeros written into new prepared segments (kZeroes)
  // Rolls that found no prepared segment (the writer outran preparation, or it failed) and
  // created one themselves: fallocated only, never filled, so the roll waits for no fill.
  uint64_t rolls_unprepared = 0;
};

// What one group holds back: the closed segments from the one holding its pin on (the current
// segment not counted), and their bytes. A group that stops taking snapshots shows up here.
struct GroupPinned {
  uint64_t segments = 0;
  uint64_t bytes = 0;
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
  // The same with the read index rebuilt by the caller's own recover() (WalIndex::on_recovered
  // in its located visitor): compaction then knows every group's pins from before the restart.
  static Task<Result<std::unique_ptr<Wal>>> open(Shard& shard, Io& io, const WalOptions& options,
                                                 const WalPosition& position, WalIndex index);
  // Recovers options.directory (recovery.h), rebuilds the read index from what it finds, and
  // opens the WAL there. `report`, when given, receives recovery's report.
  static Task<Result<std::unique_ptr<Wal>>> recover_and_open(Shard& shard, Io& io,
                                                             const WalOptions& options,
                                                             RecoveryReport* report = nullptr);
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

  class [[nodiscard]] RoomAwaiter {
   public:
    RoomAwaiter(Wal& wal, size_t record_bytes) : wal_(wal), record_bytes_(record_bytes) {}
    bool await_ready() noexcept;
    void await_suspend(std::coroutine_handle<> waiter) noexcept;
    // Success once the record fits the batch being filled; kInvalidInput if it never can;
    // kClosed after close(); the WAL's failure. Reads only the awaiter: the Wal may be gone.
    Result<void> await_resume() const;

   private:
    friend class Wal;
    Wal& wal_;
    size_t record_bytes_;
    std::optional<Error> outcome_;
    std::coroutine_handle<> waiter_;
    RoomAwaiter* next_ = nullptr;
  };
  // Resumes (at once if it fits now) when records of `record_bytes` in total (sizes from
  // batch_format.h) fit the batch being filled: after the full batch was handed to the kernel,
  // waiters resume in arrival order on the next loop turn, as many as the fresh batch holds.
  // A task resumed before them may still take the room: an append can still find kFull (wait
  // again). Bounded: one waiter per waiting task, in an intrusive list.
  RoomAwaiter wait_for_room(size_t record_bytes);

  // Entries [first, min(last_max, last_index)] of `group`, as many as fit bytes_max payload
  // bytes (at least one). Empty when first > last_index. Errors: kNotFound when `first` was
  // compacted (first < first_index: send a snapshot instead) or the group is unknown; an I/O
  // error or kInvalidInput (a record on disk that no longer checks out) from a disk read; the
  // WAL's failure when an entry not yet written can no longer be. Entries appended but not yet
  // written come from the cache, or wait for their batch to be durable if it was evicted. A
  // concurrent overwrite may make what is returned stale; its term runs say which terms it had.
  Task<Result<EntryBatch>> read_entries(GroupId group, LogIndex first, LogIndex last_max,
                                        uint64_t bytes_max);
  // The term of any retained index (snapshot index included), or nothing.
  std::optional<Term> term_at(GroupId group, LogIndex index) const;
  // The first readable index (snapshot index + 1) and the last index; 0/0 for an unknown group.
  LogIndex first_index(GroupId group) const;
  LogIndex last_index(GroupId group) const;
  GroupPinned group_pinned(GroupId group) const;
  const WalIndex& index() const { return index_; }
  const EntryCache& cache() const { return cache_; }

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
  // Whether segments are written with O_DIRECT (false when kPreferred fell back).
  bool direct_io() const { return direct_active_; }
  void check_invariants() const;

 private:
  struct BufferState {
    Seq seq;
    bool in_flight = false;
    bool done = false;  // its write+fdatasync succeeded
  };

  Wal(Shard& shard, Io& io, const WalOptions& options, Segment segment, FileDescriptor directory,
      Seq next_seq, WalIndex index, bool direct_active);
  static Task<Result<std::unique_ptr<Wal>>> open_indexed(Shard& shard, Io& io,
                                                         const WalOptions& options,
                                                         const WalPosition& position,
                                                         WalIndex index);
  Result<Seq> admit(size_t record_bytes) const;
  void wake_room_waiters();
  static Task<Result<bool>> set_write_mode(Io& io, const WalOptions& options, Segment& segment,
                                           bool direct);
  Task<Result<void>> set_write_mode(Segment& segment);
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
  Task<Result<void>> read_batch(int fd, const BatchPlace& place, std::vector<std::byte>& bytes,
                                DecodedBatch* decoded);
  // read_entries in steps (wal_read.cc): one extent per step, from the cache or the disk.
  struct EntryRead;
  enum class ReadStep : uint8_t { kMore, kStop };
  Task<Result<ReadStep>> read_step(EntryRead& read);
  Task<Result<ReadStep>> read_from_disk(EntryRead& read, const Extent& extent, uint32_t from,
                                        uint32_t wanted, uint32_t* copied);
  static EntryBatch entry_batch(GroupId group, LogIndex first, EntryRead& read);
  bool idle() const { return in_flight_count_ == 0 && !releasing_ && !preparing_; }
  void resume_idle_waiter();
  void maybe_prepare_segment();
  Task<void> prepare_next_segment();
  void take_release_candidate();
  void maybe_release_segments();
  Task<void> release_segments(Seq pin);
  // Recycling (wal_release.cc).
  void adopt_spares(Seq next_seq);
  bool keep_as_spare(Seq first_seq, Seq stale_below);
  Task<Result<Segment>> prepare_from_spares();
  Task<Result<void>> clear_stale_tail();
  void return_prepared_to_spares();

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
  RoomAwaiter* room_head_ = nullptr;  // wait_for_room(), in arrival order
  RoomAwaiter* room_tail_ = nullptr;
  bool direct_active_ = false;
  std::coroutine_handle<> idle_waiter_;  // close() waiting for in_flight_count_ == 0
  Shard::HookId before_sleep_hook_ = 0;
  WalStats stats_;
  WalIndex index_;
  EntryCache cache_;
  // Compaction: segments ending at or before `pin` may go once batch `after` is durable (every
  // record that set the pins is then durable; pins only move forward). Taken at each mark.
  struct ReleaseCandidate {
    Seq pin;
    Seq after;
  };
  std::optional<ReleaseCandidate> release_candidate_;
  bool releasing_ = false;           // release_segments() is running
  std::optional<Segment> prepared_;  // the next segment, created ahead of its roll
  bool preparing_ = false;           // prepare_next_segment() is running
  Seq prepared_stale_below_;         // every stale batch in prepared_ has a seq below this
  // The current segment may hold stale batches (a reused spare, or one continued after a
  // restart): close() then zeroes the remains of the one its last batch ended in.
  bool segment_may_hold_stale_ = false;
  std::vector<Seq> spares_;       // spare segments on disk (their bounds), <= spare_segments_max
  uint32_t reads_in_flight_ = 0;  // read_entries() calls between suspensions
};

}  // namespace ringraft::wal
