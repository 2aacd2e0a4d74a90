// Wal's write mode: O_DIRECT and O_DSYNC segments (wal.h "Direct I/O"). A segment is created
// and fallocated through the page cache, then reopened with the mode's flags; where the
// filesystem refuses O_DIRECT, kRequired fails and kPreferred keeps the page cache.
#include <fcntl.h>

#include "common/assert.h"
#include "common/log.h"
#include "wal/wal.h"

namespace ringraft::wal {

namespace {

int sync_flags(const WalOptions& options) {
  return options.sync_mode == SyncMode::kDsyncWrites ? O_DSYNC : 0;
}

}  // namespace

// Reopens `segment` as the options ask, O_DIRECT only if `direct`. Returns whether the segment is
// now written with O_DIRECT.
Task<Result<bool>> Wal::set_write_mode(Io& io, const WalOptions& options, Segment& segment,
                                       bool direct) {
  const int flags = (direct ? O_DIRECT : 0) | sync_flags(options);
  if (flags == 0) co_return false;
  Result<void> reopened = co_await reopen_segment(io, segment, flags);
  if (reopened.ok()) co_return direct;
  const bool refused = reopened.error().code() == ErrorCode::kUnsupported;
  if (!refused || options.direct_io != DirectIo::kPreferred) co_return reopened.error();
  RR_LOG_WARN("WAL {}: {}; continuing through the page cache (direct_io = kPreferred)",
              options.directory, reopened.error().context());
  if (sync_flags(options) != 0) {
    Result<void> synced = co_await reopen_segment(io, segment, sync_flags(options));
    if (!synced.ok()) co_return synced.error();
  }
  co_return false;
}

// A new segment (at a roll, or prepared ahead) keeps the mode the WAL opened with: a refusal
// now, after the first segment took O_DIRECT, is an error like any other failed open.
Task<Result<void>> Wal::set_write_mode(Segment& segment) {
  Result<bool> direct = co_await set_write_mode(io_, options_, segment, direct_active_);
  if (!direct.ok()) co_return direct.error();
  RR_ASSERT(direct.value() == direct_active_);
  co_return Result<void>{};
}

}  // namespace ringraft::wal
