// Wal's compaction: releasing the oldest segments once no group needs them. The rule and why
// segments are deleted rather than recycled: wal.h "Compaction".
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <utility>

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

// Deletes the oldest segments while the next one starts at or before `pin` (so every batch of
// the deleted one is older than any pin), never the current one. One unlink and one directory
// fsync each, oldest first: a crash leaves a prefix deleted, which recovery accepts. unlinkat is
// a plain system call: the I/O seam has no unlink, and this runs once per segment, off the
// append path.
Task<void> Wal::release_segments(Seq pin) {
  RR_ASSERT(releasing_);
  while (!failure_ && index_.segments().size() >= 2 && index_.segments()[1].first_seq <= pin) {
    const Seq first_seq = index_.segments().front().first_seq;
    RR_ASSERT(first_seq != segment_.first_seq);
    const std::string name = segment_file_name(first_seq);
    if (::unlinkat(directory_.get(), name.c_str(), 0) != 0) {
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
  releasing_ = false;
  // Last: close() may be waiting for this release, and may destroy the Wal when resumed.
  resume_idle_waiter();
}

}  // namespace ringraft::wal
