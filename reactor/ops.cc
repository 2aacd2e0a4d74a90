#include "reactor/ops.h"

namespace ringraft::ops {

Task<IoResult> write_all(Io& io, int fd, ConstByteSpan bytes, uint64_t offset) {
  transfer_length(bytes.size());  // the total is reported as one int32 result
  size_t done_bytes = 0;
  while (done_bytes < bytes.size()) {
    const IoResult result = co_await write(io, fd, bytes.subspan(done_bytes), offset + done_bytes);
    if (!result.ok()) co_return result;
    if (result.value == 0) co_return IoResult{-EIO};  // no progress on a regular file: give up
    done_bytes += result.bytes();
  }
  co_return IoResult{static_cast<int32_t>(done_bytes)};
}

Task<IoResult> send_all(Io& io, int fd, ConstByteSpan bytes) {
  transfer_length(bytes.size());
  size_t done_bytes = 0;
  while (done_bytes < bytes.size()) {
    const IoResult result = co_await send(io, fd, bytes.subspan(done_bytes));
    if (!result.ok()) co_return result;
    done_bytes += result.bytes();
  }
  co_return IoResult{static_cast<int32_t>(done_bytes)};
}

Task<IoResult> read_exact(Io& io, int fd, ByteSpan into, uint64_t offset) {
  transfer_length(into.size());
  size_t done_bytes = 0;
  while (done_bytes < into.size()) {
    const IoResult result = co_await read(io, fd, into.subspan(done_bytes), offset + done_bytes);
    if (!result.ok()) co_return result;
    if (result.value == 0) break;  // end of file
    done_bytes += result.bytes();
  }
  co_return IoResult{static_cast<int32_t>(done_bytes)};
}

}  // namespace ringraft::ops
