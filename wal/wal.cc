#include "wal/wal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <utility>

#include "common/assert.h"
#include "common/log.h"
#include "reactor/ops.h"
#include "wal/recovery_scan.h"

namespace ringraft::wal {

namespace {

constexpr uint32_t kNoBuffer = UINT32_MAX;

#ifndef NDEBUG
constexpr bool kCheckInvariants = true;
#else
constexpr bool kCheckInvariants = false;
#endif

Error io_failure(const IoResult& result, std::string context) {
  if (result.error() == ECANCELED) {
    return Error(ErrorCode::kCancelled, std::move(context), ECANCELED);
  }
  return Error::from_errno(result.error(), std::move(context));
}

}  // namespace

Result<void> validate(const WalOptions& options) {
  auto invalid = [](std::string what) { return Error(ErrorCode::kInvalidInput, std::move(what)); };
  if (options.directory.empty()) return invalid("WalOptions.directory is empty");
  if (options.batch_bytes_max < kBatchHeaderBytes + 64 ||
      options.batch_bytes_max % kBatchAlignBytes != 0) {
    return invalid(fmt::format("WalOptions.batch_bytes_max {} must be a multiple of {} and >= {}",
                               options.batch_bytes_max, kBatchAlignBytes, kBatchHeaderBytes + 64));
  }
  if (options.segment_bytes < options.batch_bytes_max ||
      options.segment_bytes % kBatchAlignBytes != 0) {
    return invalid(fmt::format(
        "WalOptions.segment_bytes {} must be a multiple of {} and >= batch_bytes_max {}",
        options.segment_bytes, kBatchAlignBytes, options.batch_bytes_max));
  }
  if (options.recovery_fsyncs_in_flight_max > WalOptions::kFsyncsInFlightLimit) {
    return invalid(fmt::format("WalOptions.recovery_fsyncs_in_flight_max {} must be <= {}",
                               options.recovery_fsyncs_in_flight_max,
                               WalOptions::kFsyncsInFlightLimit));
  }
  if (options.fsyncs_in_flight_max == 0 ||
      options.fsyncs_in_flight_max > WalOptions::kFsyncsInFlightLimit) {
    return invalid(fmt::format("WalOptions.fsyncs_in_flight_max {} must be in [1, {}]",
                               options.fsyncs_in_flight_max, WalOptions::kFsyncsInFlightLimit));
  }
  if (options.spare_segments_max > WalOptions::kSpareSegmentsLimit) {
    return invalid(fmt::format("WalOptions.spare_segments_max {} must be <= {}",
                               options.spare_segments_max, WalOptions::kSpareSegmentsLimit));
  }
  if (options.segment_fill != SegmentFill::kZeroes &&
      options.segment_fill != SegmentFill::kAllocateOnly) {
    return invalid("WalOptions.segment_fill is neither kZeroes nor kAllocateOnly");
  }
  if (options.direct_io != DirectIo::kOff) {
    const uint32_t block_bytes = options.direct_block_bytes;
    if (block_bytes < 512 || (block_bytes & (block_bytes - 1)) != 0 ||
        block_bytes > AlignedBuffer::kDefaultAlignment ||
        options.batch_bytes_max % block_bytes != 0 || options.segment_bytes % block_bytes != 0) {
      return invalid(fmt::format(
          "WalOptions.direct_block_bytes {} must be a power of two in [512, {}] dividing "
          "batch_bytes_max {} and segment_bytes {}",
          block_bytes, AlignedBuffer::kDefaultAlignment, options.batch_bytes_max,
          options.segment_bytes));
    }
  }
  return {};
}

Task<Result<std::unique_ptr<Wal>>> Wal::open(Shard& shard, const WalOptions& options,
                                             const WalPosition& position) {
  co_return co_await open(shard, shard.io(), options, position);
}

Task<Result<std::unique_ptr<Wal>>> Wal::open(Shard& shard, Io& io, const WalOptions& options,
                                             const WalPosition& position) {
  co_return co_await open_indexed(shard, io, options, position, WalIndex());
}

Task<Result<std::unique_ptr<Wal>>> Wal::open(Shard& shard, Io& io, const WalOptions& options,
                                             const WalPosition& position, WalIndex index) {
  if (index.recovery_error()) co_return *index.recovery_error();
  co_return co_await open_indexed(shard, io, options, position, std::move(index));
}

Task<Result<std::unique_ptr<Wal>>> Wal::recover_and_open(Shard& shard, Io& io,
                                                         const WalOptions& options,
                                                         RecoveryReport* report) {
  if (Result<void> valid = validate(options); !valid.ok()) co_return valid.error();
  const RecoveryOptions recovery{.directory = options.directory,
                                 .segment_bytes = options.segment_bytes,
                                 .fsyncs_in_flight_max = options.fsyncs_in_flight_to_recover(),
                                 .segment_bytes_limit = RecoveryOptions().segment_bytes_limit};
  WalIndex index;
  const LocatedRecordVisitor visitor = [&index](Seq seq, const Record& record,
                                                const RecordLocation& location) {
    index.on_recovered(seq, record, location);
  };
  Result<RecoveryReport> recovered = co_await recover(io, recovery, visitor);
  if (!recovered.ok()) co_return recovered.error();
  if (index.recovery_error()) co_return *index.recovery_error();
  if (report != nullptr) *report = recovered.value();
  co_return co_await open_indexed(shard, io, options, recovered.value().position, std::move(index));
}

Task<Result<std::unique_ptr<Wal>>> Wal::open_indexed(Shard& shard, Io& io,
                                                     const WalOptions& options,
                                                     const WalPosition& position, WalIndex index) {
  if (Result<void> valid = validate(options); !valid.ok()) co_return valid.error();
  RR_ASSERT(position.next_seq.value() > 0);
  Result<FileDescriptor> directory = co_await open_directory(io, options.directory);
  if (!directory.ok()) co_return directory.error();
  const int directory_fd = directory.value().get();
  // A segment prepared before a crash or a close: its name was never part of the log.
  const std::string prepared(kPreparedSegmentName);
  if (::unlinkat(directory_fd, prepared.c_str(), 0) != 0 && errno != ENOENT) {
    co_return Error::from_errno(
        errno, fmt::format("deleting the leftover {}/{}", options.directory, prepared));
  }
  // O_DIRECT writes whole blocks from a block boundary: a log left at an unaligned position
  // (written through the page cache) continues in a new segment, after the zeros recovery
  // already guarantees at the end of the old one.
  const bool direct = options.direct_io != DirectIo::kOff;
  const bool fresh = !position.segment_first_seq.has_value() ||
                     (direct && position.write_offset_bytes % options.direct_block_bytes != 0);
  // Not a conditional expression with a co_await in each arm: GCC 12 miscompiles that
  // (the result's temporaries are destroyed twice).
  Result<Segment> segment = Error(ErrorCode::kNotFound, "no segment");
  if (fresh) {
    segment = co_await create_segment(io, directory_fd, options.directory, position.next_seq,
                                      options.segment_bytes);
  } else {
    segment =
        co_await open_segment(io, directory_fd, options.directory, *position.segment_first_seq,
                              position.segment_bytes, position.write_offset_bytes);
  }
  if (!segment.ok()) co_return segment.error();
  Result<bool> direct_active = co_await set_write_mode(io, options, segment.value(), direct);
  if (!direct_active.ok()) co_return direct_active.error();
  std::unique_ptr<Wal> wal(new Wal(shard, io, options, std::move(segment).value(),
                                   std::move(directory).value(), position.next_seq,
                                   std::move(index), direct_active.value()));
  if (fresh) wal->stats_.segments_created++;
  wal->segment_may_hold_stale_ = !fresh;
  wal->adopt_spares(position.next_seq);
  co_return std::move(wal);
}

Wal::Wal(Shard& shard, Io& io, const WalOptions& options, Segment segment, FileDescriptor directory,
         Seq next_seq, WalIndex index, bool direct_active)
    : shard_(shard),
      io_(io),
      options_(options),
      directory_(std::move(directory)),
      segment_(std::move(segment)),
      written_seq_(next_seq.value() - 1),
      durable_seq_(next_seq.value() - 1),
      direct_active_(direct_active),
      index_(std::move(index)),
      cache_(options_.cache_bytes_max) {
  // A segment without batches yet (fresh, or empty when recovered) is not in the index.
  if (index_.segments().empty() || index_.segments().back().first_seq != segment_.first_seq) {
    index_.on_segment(segment_.first_seq);
  }
  stats_.segments_retained = index_.segments().size();
  stats_.oldest_pinned_segment_seq = index_.segments().front().first_seq;
  // One buffer fills while up to fsyncs_in_flight_max are in flight: all allocated now, none
  // on the append path.
  const uint32_t buffer_count = options_.fsyncs_in_flight_max + 1;
  buffers_.reserve(buffer_count);
  for (uint32_t i = 0; i < buffer_count; i++) buffers_.emplace_back(options_.batch_bytes_max);
  buffer_states_.resize(buffer_count);
  start_filling(0, next_seq);
  before_sleep_hook_ = shard_.add_before_sleep([this] { before_sleep(); });
  check_invariants();
}

Wal::~Wal() {
  shard_.remove_before_sleep(before_sleep_hook_);
  RR_ASSERT_MSG(
      (waiters_head_ == nullptr && room_head_ == nullptr && in_flight_count_ == 0 &&
       reads_in_flight_ == 0 && !releasing_) ||
          shard_.stopping(),
      "Wal destroyed with batches, reads or a release in flight, or waiters: close() it first");
}

void Wal::start_filling(uint32_t buffer_index, Seq seq) {
  RR_ASSERT(!buffer_states_[buffer_index].in_flight);
  filling_buffer_ = buffer_index;
  // With O_DIRECT every batch is padded to a whole number of blocks (batch_format.h).
  encoder_ = BatchEncoder(buffers_[buffer_index].span(),
                          direct_active_ ? options_.direct_block_bytes : kBatchAlignBytes);
  encoder_.begin(seq);
}

Result<Seq> Wal::admit(size_t record_bytes) const {
  if (failure_) return *failure_;
  if (closing_) {
    return Error(ErrorCode::kClosed, fmt::format("WAL {} is closed", options_.directory));
  }
  if (record_bytes > options_.batch_bytes_max - kBatchHeaderBytes) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("WAL record of {} bytes can never fit a batch of batch_bytes_max {}",
                             record_bytes, options_.batch_bytes_max));
  }
  return encoder_.seq();
}

Result<Seq> Wal::appended(bool fitted) {
  if (!fitted) {
    stats_.appends_refused_full++;
    return Error(ErrorCode::kFull,
                 fmt::format("WAL batch buffer ({} bytes) is full for this turn; await an earlier "
                             "append's durability (or the next turn) and append again",
                             options_.batch_bytes_max));
  }
  stats_.records_appended++;
  return encoder_.seq();
}

Result<Seq> Wal::append_entries(GroupId group, Term term, LogIndex first_index,
                                std::span<const uint32_t> entry_lengths, ConstByteSpan payload) {
  Result<Seq> admitted = admit(entries_record_bytes(entry_lengths.size(), payload.size()));
  if (!admitted.ok()) return admitted;
  if (entry_lengths.empty()) {  // an empty record: nothing to index
    return appended(encoder_.add_entries(group, term, first_index, entry_lengths, payload));
  }
  if (!index_.accepts_entries(group, first_index)) {
    const GroupLog* log = index_.group(group);
    return Error(
        ErrorCode::kInvalidInput,
        fmt::format("group {}: entries at index {} would leave a gap or rewrite its "
                    "snapshot (first index {}, last index {})",
                    group.value(), first_index.value(), log ? log->first_index().value() : 0,
                    log ? log->last_index().value() : 0));
  }
  const uint32_t ordinal = encoder_.record_count();
  Result<Seq> seq =
      appended(encoder_.add_entries(group, term, first_index, entry_lengths, payload));
  if (!seq.ok()) return seq;
  Extent extent;
  extent.first_index = first_index;
  extent.entry_count = static_cast<uint32_t>(entry_lengths.size());
  extent.record_ordinal = ordinal;
  extent.seq = seq.value();
  extent.cache_position = cache_.insert(entry_lengths, payload);
  index_.on_entries(group, term, extent);
  return seq;
}

Result<Seq> Wal::append_hard_state(GroupId group, Term term, NodeId vote, LogIndex commit) {
  Result<Seq> admitted = admit(kHardStateRecordBytes);
  if (!admitted.ok()) return admitted;
  Result<Seq> seq = appended(encoder_.add_hard_state(group, term, vote, commit));
  if (seq.ok()) index_.on_hard_state(group, seq.value());
  return seq;
}

Result<Seq> Wal::append_snapshot_mark(GroupId group, LogIndex index, Term term) {
  Result<Seq> admitted = admit(kSnapshotMarkRecordBytes);
  if (!admitted.ok()) return admitted;
  if (const GroupLog* log = index_.group(group); log && index < log->snapshot_index()) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("group {}: snapshot mark at index {} is older than its snapshot at {}",
                             group.value(), index.value(), log->snapshot_index().value()));
  }
  Result<Seq> seq = appended(encoder_.add_snapshot_mark(group, index, term));
  if (!seq.ok()) return seq;
  index_.on_snapshot(group, index, term, seq.value());
  take_release_candidate();
  return seq;
}

Result<Seq> Wal::append_truncate(GroupId group, LogIndex from_index) {
  Result<Seq> admitted = admit(kTruncateRecordBytes);
  if (!admitted.ok()) return admitted;
  Result<Seq> seq = appended(encoder_.add_truncate(group, from_index));
  if (seq.ok()) index_.on_truncate(group, from_index, seq.value());
  return seq;
}

Wal::DurableAwaiter Wal::wait_durable(Seq seq) {
  RR_ASSERT_MSG(failed() || seq < encoder_.seq() || (seq == encoder_.seq() && !encoder_.empty()),
                "waiting for a WAL sequence number that no append returned");
  return DurableAwaiter(*this, seq);
}

bool Wal::DurableAwaiter::await_ready() const noexcept {
  return seq_ <= wal_.durable_seq_ || wal_.failure_.has_value();
}

void Wal::DurableAwaiter::await_suspend(std::coroutine_handle<> waiter) noexcept {
  waiter_ = waiter;
  next_ = nullptr;
  if (wal_.waiters_tail_ == nullptr) {
    wal_.waiters_head_ = this;
  } else {
    wal_.waiters_tail_->next_ = this;
  }
  wal_.waiters_tail_ = this;
}

Result<Seq> Wal::DurableAwaiter::await_resume() const {
  if (seq_ <= wal_.durable_seq_) return seq_;
  RR_ASSERT(wal_.failure_.has_value());
  return *wal_.failure_;
}

// The group commit: runs once per loop turn, after every task of the turn had its chance to
// append. Spawning the flush is the last thing it does: the flush may complete inline (a
// refused submit during shutdown) and resume waiters, which may destroy this Wal.
void Wal::before_sleep() {
  if (room_head_ != nullptr) wake_room_waiters();  // the batch may have room left (or be empty)
  if (failure_ || encoder_.empty() || rolling_) return;
  uint32_t free_buffer = kNoBuffer;
  bool any_in_flight = false;
  for (uint32_t i = 0; i < buffer_states_.size(); i++) {
    any_in_flight |= buffer_states_[i].in_flight;
    if (i != filling_buffer_ && !buffer_states_[i].in_flight) free_buffer = i;
  }
  if (free_buffer == kNoBuffer) return;  // fsyncs_in_flight_max pairs in flight: keep filling
  const bool roll = encoder_.batch_bytes() > segment_.free_bytes();
  // A new segment starts only once every batch of the older one is durable (see the header).
  if (roll && any_in_flight) return;
  const uint32_t flushing = filling_buffer_;
  const Seq seq = encoder_.seq();
  const ConstByteSpan bytes = encoder_.finish();
  buffer_states_[flushing] = BufferState{.seq = seq, .in_flight = true, .done = false};
  in_flight_count_++;
  rolling_ = roll;
  start_filling(free_buffer, Seq(seq.value() + 1));
  if (room_head_ != nullptr) wake_room_waiters();  // they resume next turn, never inline
  if constexpr (kCheckInvariants) check_invariants();
  shard_.spawn(flush_batch(flushing, bytes, roll));
}

Task<void> Wal::flush_batch(uint32_t buffer_index, ConstByteSpan bytes, bool roll) {
  const Seq seq = buffer_states_[buffer_index].seq;
  if (roll) {
    Result<void> rolled = co_await roll_segment(seq);
    rolling_ = false;
    if (!rolled.ok()) {
      complete_flush(buffer_index, rolled.error());
      co_return;
    }
  }
  RR_ASSERT(bytes.size() <= segment_.free_bytes());
  const uint64_t offset = segment_.write_offset_bytes;
  segment_.write_offset_bytes += bytes.size();
  RR_ASSERT(seq > written_seq_);
  written_seq_ = seq;
  index_.on_batch(seq, offset);
  stats_.batches_written++;
  stats_.bytes_written += bytes.size();
  LinkedPairAwaiter::Results results;
  if (options_.sync_mode != SyncMode::kFdatasync) {
    // kDsyncWrites: the segment is O_DSYNC, the write completes once its data is durable.
    // kNone: no sync at all (experiments only).
    results.first = co_await ops::write(io_, segment_.fd.get(), bytes, offset);
    results.second = IoResult{0};
  } else {
    results = co_await ops::write_fdatasync(io_, segment_.fd.get(), bytes, offset);
  }
  complete_flush(buffer_index, check_pair(buffer_index, bytes, offset, results));
}

Result<void> Wal::check_pair(uint32_t buffer_index, ConstByteSpan bytes, uint64_t offset,
                             const LinkedPairAwaiter::Results& results) const {
  const auto where = [&] {
    return fmt::format("WAL batch seq {} ({} bytes at offset {} of {})",
                       buffer_states_[buffer_index].seq.value(), bytes.size(), offset,
                       segment_.path);
  };
  if (!results.first.ok()) return io_failure(results.first, "write of " + where() + " failed");
  if (results.first.bytes() != bytes.size()) {
    return Error::from_errno(
        EIO, fmt::format("short write of {}: {} bytes written", where(), results.first.bytes()));
  }
  if (!results.second.ok()) {
    return io_failure(results.second, "fdatasync after " + where() + " failed");
  }
  return {};
}

Task<Result<void>> Wal::roll_segment(Seq first_seq) {
  Result<Segment> next = Error(ErrorCode::kNotFound, "no segment");
  if (prepared_) {
    // Its stale batches (a reused spare) all have seqs below first_seq: never the log's.
    RR_ASSERT(prepared_stale_below_ <= first_seq);
    segment_may_hold_stale_ = prepared_stale_below_ > Seq(1);
    next = std::move(*prepared_);
    prepared_.reset();
    Result<void> named = co_await name_prepared_segment(io_, directory_.get(), options_.directory,
                                                        next.value(), first_seq);
    if (!named.ok()) co_return named.error();
  } else {
    stats_.rolls_unprepared++;
    segment_may_hold_stale_ = false;
    next = co_await create_segment(io_, directory_.get(), options_.directory, first_seq,
                                   options_.segment_bytes);
    if (next.ok()) {
      Result<void> mode = co_await set_write_mode(next.value());  // prepared ones have theirs
      if (!mode.ok()) co_return mode.error();
    }
  }
  if (!next.ok()) co_return next.error();
  stats_.segments_created++;
  const int old_fd = segment_.fd.release();
  segment_ = std::move(next).value();
  index_.on_segment(first_seq);
  stats_.segments_retained++;
  const IoResult closed = co_await ops::close(io_, old_fd);
  if (!closed.ok()) {
    // Every batch of the old segment is already durable (rolls wait for that), so a failed
    // close loses nothing; it is logged, not fatal.
    RR_LOG_WARN("WAL {}: closing the previous segment failed: {}", options_.directory,
                closed.message());
  }
  co_return Result<void>{};
}

// Records the outcome of one batch. Waking waiters is the last thing it does, from locals only:
// a resumed waiter may destroy this Wal.
void Wal::complete_flush(uint32_t buffer_index, const Result<void>& result) {
  BufferState& state = buffer_states_[buffer_index];
  RR_ASSERT(state.in_flight && !state.done && in_flight_count_ > 0);
  in_flight_count_--;
  if (result.ok()) {
    state.done = true;
    if (options_.sync_mode != SyncMode::kNone) stats_.fsyncs_completed++;
    if (!failure_) advance_durable();
  } else {
    fail(result.error());
  }
  if (failure_) {
    // Nothing after the failure may become durable; the buffers are free again.
    for (BufferState& other : buffer_states_) {
      if (other.done || &other == &state) other = BufferState{};
    }
  }
  if constexpr (kCheckInvariants) check_invariants();
  maybe_release_segments();
  maybe_prepare_segment();
  wake_waiters();
}

void Wal::advance_durable() {
  // Batches complete in any order when several are in flight; durable_seq covers only the
  // contiguous prefix. Bounded: each pass frees one of at most fsyncs_in_flight_max buffers.
  for (bool progressed = true; progressed;) {
    progressed = false;
    for (BufferState& state : buffer_states_) {
      if (state.in_flight && state.done && state.seq.value() == durable_seq_.value() + 1) {
        durable_seq_ = state.seq;
        stats_.batches_durable++;
        state = BufferState{};
        progressed = true;
      }
    }
  }
  RR_ASSERT(durable_seq_ <= written_seq_);
}

void Wal::fail(const Error& error) {
  if (failure_) return;  // the first failure is the one reported
  RR_LOG_ERROR("WAL {} failed and accepts no more writes: {} (durable up to seq {})",
               options_.directory, error.message(), durable_seq_.value());
  failure_.emplace(Error(error.code(),
                         fmt::format("{}; WAL {} stopped accepting writes at durable seq {}; "
                                     "restart to recover the durable prefix",
                                     error.context(), options_.directory, durable_seq_.value()),
                         error.errno_value()));
  wake_room_waiters();  // with the failure, on the next turn
}

void Wal::wake_waiters() {
  // Detach every waiter that can resume, keeping the rest in order.
  DurableAwaiter* ready_head = nullptr;
  DurableAwaiter* ready_tail = nullptr;
  DurableAwaiter* kept_tail = nullptr;
  DurableAwaiter* waiter = waiters_head_;
  waiters_head_ = nullptr;
  while (waiter != nullptr) {
    DurableAwaiter* next = waiter->next_;
    waiter->next_ = nullptr;
    const bool resumable = waiter->seq_ <= durable_seq_ || failure_.has_value();
    DurableAwaiter*& tail = resumable ? ready_tail : kept_tail;
    if (tail == nullptr) {
      (resumable ? ready_head : waiters_head_) = waiter;
    } else {
      tail->next_ = waiter;
    }
    tail = waiter;
    waiter = next;
  }
  waiters_tail_ = kept_tail;
  std::coroutine_handle<> idle =
      this->idle() ? std::exchange(idle_waiter_, {}) : std::coroutine_handle<>{};
  // From here on only locals: any resume may end this Wal's life.
  while (ready_head != nullptr) {
    DurableAwaiter* next = ready_head->next_;
    ready_head->waiter_.resume();
    ready_head = next;
  }
  if (idle) idle.resume();
}

Task<Result<void>> Wal::close() {
  RR_ASSERT_MSG(!closing_, "Wal::close() called twice");
  closing_ = true;
  wake_room_waiters();  // with kClosed, on the next turn
  if (!failure_ && !encoder_.empty()) {
    const Result<Seq> last = co_await wait_durable(encoder_.seq());
    (void)last;  // a failure is reported below
  }
  struct IdleAwaiter {
    Wal& wal;
    bool await_ready() const noexcept { return wal.idle(); }
    void await_suspend(std::coroutine_handle<> waiter) noexcept { wal.idle_waiter_ = waiter; }
    void await_resume() const noexcept {}
  };
  co_await IdleAwaiter{*this};
  if (!failure_ && segment_may_hold_stale_) {
    Result<void> cleared = co_await clear_stale_tail();
    if (!cleared.ok()) {
      // Nothing acknowledged depends on it: the next recovery then logs a torn tail instead.
      RR_LOG_WARN("WAL {}: {}", options_.directory, cleared.error().message());
    }
  }
  if (prepared_) {
    // Not needed any more: kept as a spare for the next open if there is room (its extents are
    // written), else deleted (the next open would delete it anyway).
    const IoResult closed = co_await ops::close(io_, prepared_->fd.release());
    (void)closed;
    prepared_.reset();
    return_prepared_to_spares();
  }
  if (segment_.fd.valid()) {
    const IoResult closed = co_await ops::close(io_, segment_.fd.release());
    if (!closed.ok() && !failure_) {
      co_return io_failure(closed, fmt::format("closing WAL segment {}", segment_.path));
    }
  }
  if (failure_) co_return *failure_;
  co_return Result<void>{};
}

// A batch written into a reused segment can end inside a stale one, whose remains then sit
// right after the log's last batch, where recovery cannot tell them from a torn write and
// reports a torn tail. At a clean close they are zeroed, up to the first stale batch after them
// (found as recovery finds it: tail_zero_end), so the next recovery ends cleanly there. A stale
// batch is at most batch_bytes_max long, so the next one starts within that of the last batch's
// end and a window of twice that holds it whole. Anything unusual (a batch from a run with
// larger batches, an O_DIRECT block boundary) leaves the remains as they are: the next recovery
// then logs a torn tail, which costs nothing but the log line.
Task<Result<void>> Wal::clear_stale_tail() {
  const uint64_t from = segment_.write_offset_bytes;
  const uint64_t window_bytes =
      std::min<uint64_t>(uint64_t{2} * options_.batch_bytes_max, segment_.segment_bytes - from);
  if (window_bytes == 0) co_return Result<void>{};
  AlignedBuffer window(window_bytes);  // once per close, never on the append path
  const IoResult read =
      co_await ops::read(io_, segment_.fd.get(), ByteSpan(window.data(), window_bytes), from);
  if (!read.ok()) {
    co_return Error::from_errno(read.error(),
                                fmt::format("reading the tail of WAL segment {}", segment_.path));
  }
  const ConstByteSpan tail(window.data(), read.bytes());
  uint64_t zero_bytes = tail_zero_end(tail, 0, segment_.first_seq);
  if (direct_active_) zero_bytes -= zero_bytes % options_.direct_block_bytes;
  if (zero_bytes == 0) co_return Result<void>{};
  Result<void> zeroed = co_await write_zeros(io_, segment_, from, from + zero_bytes);
  if (!zeroed.ok()) co_return zeroed.error();
  const IoResult synced = co_await ops::fdatasync(io_, segment_.fd.get());
  if (!synced.ok()) {
    co_return Error::from_errno(synced.error(),
                                fmt::format("fdatasync of WAL segment {} at close", segment_.path));
  }
  co_return Result<void>{};
}

void Wal::check_invariants() const {
  RR_ASSERT(durable_seq_ <= written_seq_);
  RR_ASSERT(written_seq_ < encoder_.seq());
  RR_ASSERT(encoder_.begun());
  RR_ASSERT(in_flight_count_ <= options_.fsyncs_in_flight_max);
  RR_ASSERT(!buffer_states_[filling_buffer_].in_flight);
  uint32_t busy_count = 0;
  for (const BufferState& state : buffer_states_) {
    busy_count += state.in_flight ? 1 : 0;
    RR_ASSERT(!state.done || state.in_flight);
    RR_ASSERT(!state.in_flight || state.seq > durable_seq_);
  }
  RR_ASSERT(busy_count <= options_.fsyncs_in_flight_max && in_flight_count_ <= busy_count);
  RR_ASSERT(!index_.segments().empty() && index_.segments().back().first_seq == segment_.first_seq);
  index_.check_invariants();
  cache_.check_invariants();
  RR_ASSERT(segment_.write_offset_bytes <= segment_.segment_bytes);
  RR_ASSERT(segment_.write_offset_bytes % kBatchAlignBytes == 0);
  RR_ASSERT(!direct_active_ || segment_.write_offset_bytes % options_.direct_block_bytes == 0);
  RR_ASSERT(!rolling_ || in_flight_count_ == 1);
}

void Wal::resume_idle_waiter() {
  if (idle() && idle_waiter_) std::exchange(idle_waiter_, {}).resume();
}

// Starts preparing the next segment once the current one holds a batch: from a spare that is
// a rename, new and zero-filled it is a segment's worth of writes and an fsync, which must be
// done before the writer reaches the end (if not, the roll creates one itself and waits for
// nothing else; the prepared one serves the roll after).
void Wal::maybe_prepare_segment() {
  if (failure_ || closing_ || preparing_ || prepared_) return;
  if (segment_.write_offset_bytes == 0) return;
  preparing_ = true;
  shard_.spawn(prepare_next_segment());
}

Task<void> Wal::prepare_next_segment() {
  RR_ASSERT(preparing_ && !prepared_);
  Result<Segment> prepared = co_await prepare_from_spares();
  if (!prepared.ok()) {
    prepared_stale_below_ = Seq(1);  // nothing stale in a new one
    prepared = co_await prepare_segment(io_, directory_.get(), options_.directory,
                                        options_.segment_bytes, options_.segment_fill);
    if (prepared.ok() && options_.segment_fill == SegmentFill::kZeroes)
      stats_.bytes_zero_filled += options_.segment_bytes;
  }
  if (prepared.ok()) {
    Result<void> mode = co_await set_write_mode(prepared.value());
    if (!mode.ok()) prepared = mode.error();
  }
  preparing_ = false;
  if (prepared.ok()) {
    prepared_ = std::move(prepared).value();
    stats_.segments_prepared++;
  } else {
    // Not fatal: the roll creates the segment itself, and fails the WAL if that fails too.
    RR_LOG_WARN("WAL {}: preparing the next segment failed: {}", options_.directory,
                prepared.error().message());
    const std::string name(kPreparedSegmentName);
    ::unlinkat(directory_.get(), name.c_str(), 0);
  }
  // Last: close() may be waiting for this, and may destroy the Wal when resumed.
  resume_idle_waiter();
}

}  // namespace ringraft::wal
