// Wal's compaction: releasing the oldest segments once no group needs them, and recycling them:
// up to spare_segments_max released segments are kept as spares and become prepared segments
// again, so that steady-state batches land in written extents. The rules: wal.h "Compaction".
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "common/log.h"
#include "reactor/ops.h"
#include "wal/wal.h"

namespace ringraft::wal {

void Wal::take_release_candidate() {
  const std::optional<Seq> pin = index_.pin_seq();
  // Every record appended so far is in a batch <= after.
  const Seq after = encoder_.empty() ? Seq(encoder_.seq().value() - 1) : encoder_.seq();
  release_candidate_ = ReleaseCandidate{.pin = pin.value_or(Seq(UINT64_MAX)), .after = after};
}

// Called after each batch completes: starts a release when the candidate's records are durable
// and it frees at least the oldest segment. At most one release runs at a time.
void Wal::maybe_release_segments() {
  if (failure_ || releasing_ || !release_candidate_) return;
  if (durable_seq_ < release_candidate_->after) return;
  const Seq pin = release_candidate_->pin;
  release_candidate_.reset();
  const auto& segments = index_.segments();
  if (segments.size() < 2 || segments[1].first_seq > pin) return;
  releasing_ = true;
  shard_.spawn(release_segments(pin));
}

// Releases the oldest segments while the next one starts at or before `pin` (so every batch of
// the released one is older than any pin), never the current one: each is kept as a spare
// (keep_as_spare: a rename) or deleted, then the directory is fsynced, one at a time, oldest
// first: a crash leaves a prefix released, which recovery accepts. renameat2 and unlinkat are
// plain system calls: the I/O seam has neither, and this runs once per segment, off the append
// path.
Task<void> Wal::release_segments(Seq pin) {
  RR_ASSERT(releasing_);
  while (!failure_ && index_.segments().size() >= 2 && index_.segments()[1].first_seq <= pin) {
    const Seq first_seq = index_.segments().front().first_seq;
    RR_ASSERT(first_seq != segment_.first_seq);
    const std::string name = segment_file_name(first_seq);
    // Every batch in it is older than the next segment's first.
    const Seq stale_below = index_.segments()[1].first_seq;
    if (!keep_as_spare(first_seq, stale_below) &&
        ::unlinkat(directory_.get(), name.c_str(), 0) != 0) {
      // Nothing changed on disk: the segment stays, and the next mark tries again.
      RR_LOG_WARN("WAL {}: releasing segment {} failed: {}; keeping it", options_.directory, name,
                  Error::from_errno(errno, "unlinkat").message());
      break;
    }
    index_.drop_oldest_segment();
    stats_.segments_released++;
    stats_.segments_retained--;
    stats_.oldest_pinned_segment_seq = index_.segments().front().first_seq;
    const IoResult synced = co_await ops::fsync(io_, directory_.get());
    if (!synced.ok()) {
      // Without it a later deletion could reach the disk before this one and leave a hole that
      // recovery calls corruption: stop writing, as for any failed sync.
      fail(Error::from_errno(synced.error(),
                             fmt::format("fsync of WAL directory {} after deleting segment {}",
                                         options_.directory, name)));
    }
  }
  stats_.spare_segments = spares_.size();
  releasing_ = false;
  // Last: close() may be waiting for this release, and may destroy the Wal when resumed.
  resume_idle_waiter();
}

// Renames released segment `first_seq` to a spare if there is room; false: delete it instead.
bool Wal::keep_as_spare(Seq first_seq, Seq stale_below) {
  if (spares_.size() >= options_.spare_segments_max) return false;
  Result<void> kept =
      make_spare_segment(directory_.get(), options_.directory, first_seq, stale_below);
  if (!kept.ok()) {
    RR_LOG_WARN("WAL {}: {}; deleting it instead", options_.directory, kept.error().message());
    return false;
  }
  spares_.push_back(stale_below);
  stats_.segments_recycled++;
  return true;
}

// Takes the spares a previous run left (plain readdir, at open only). A spare is kept only if
// its bound is <= next_seq, the seq the log continues at: a log that went back below it (a
// repair that cut it, a directory emptied of segments) would otherwise give new batches the
// seqs of stale ones. Spares over the bound, or over spare_segments_max, are deleted.
void Wal::adopt_spares(Seq next_seq) {
  spares_.reserve(options_.spare_segments_max);
  DIR* listing = ::opendir(options_.directory.c_str());
  if (listing == nullptr) return;  // none adopted; the WAL works without them
  std::vector<std::string> unwanted;
  while (const dirent* entry = ::readdir(listing)) {
    const std::optional<Seq> bound = parse_spare_segment_file_name(entry->d_name);
    if (!bound) continue;
    if (*bound <= next_seq && spares_.size() < options_.spare_segments_max) {
      spares_.push_back(*bound);
    } else {
      unwanted.emplace_back(entry->d_name);
    }
  }
  ::closedir(listing);
  for (const std::string& name : unwanted) {
    if (::unlinkat(directory_.get(), name.c_str(), 0) != 0) {
      RR_LOG_WARN("WAL {}: deleting unusable spare {} failed: {}", options_.directory, name,
                  Error::from_errno(errno, "unlinkat").message());
    }
  }
  stats_.spare_segments = spares_.size();
}

// The next prepared segment from a spare, the newest first; kNotFound when there is none. A
// spare that cannot be used (wrong size, I/O error) is deleted and the next one tried.
Task<Result<Segment>> Wal::prepare_from_spares() {
  while (!spares_.empty() && !failure_) {
    const Seq bound = spares_.back();
    spares_.pop_back();
    stats_.spare_segments = spares_.size();
    RR_ASSERT(bound <= encoder_.seq());  // the roll's seq is at least the batch being filled
    Result<Segment> prepared = co_await prepare_from_spare(
        io_, directory_.get(), options_.directory, bound, options_.segment_bytes);
    if (prepared.ok()) {
      prepared_stale_below_ = bound;
      stats_.segments_reused++;
      co_return prepared;
    }
    RR_LOG_WARN("WAL {}: {}; deleting it", options_.directory, prepared.error().message());
    const std::string spare = spare_segment_file_name(bound);
    const std::string name(kPreparedSegmentName);
    ::unlinkat(directory_.get(), spare.c_str(), 0);
    ::unlinkat(directory_.get(), name.c_str(), 0);
  }
  co_return Error(ErrorCode::kNotFound, "no spare WAL segment");
}

// At close: the prepared segment (closed already) goes back to the spares if there is room,
// else it is deleted. No directory fsync: a crash leaves it under the prepared name, which the
// next open deletes.
void Wal::return_prepared_to_spares() {
  const std::string prepared(kPreparedSegmentName);
  if (spares_.size() < options_.spare_segments_max) {
    const std::string spare = spare_segment_file_name(prepared_stale_below_);
    if (::renameat2(directory_.get(), prepared.c_str(), directory_.get(), spare.c_str(),
                    RENAME_NOREPLACE) == 0) {
      spares_.push_back(prepared_stale_below_);
      stats_.spare_segments = spares_.size();
      return;
    }
  }
  ::unlinkat(directory_.get(), prepared.c_str(), 0);
}

}  // namespace ringraft::wal
