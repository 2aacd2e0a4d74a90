// Awaitable I/O operations over the seam: `IoResult r = co_await ops::write(io, fd, bytes, 0);`.
//
// Each returns an OpAwaiter holding one Operation; nothing is allocated. Results follow the
// kernel convention (bytes or fd on success, -errno on failure) wrapped in IoResult. Buffers
// must stay valid until the await returns. Add `.with_timeout(d)` to bound any of them.
#pragma once

#include <fcntl.h>

#include "common/assert.h"
#include "common/bytes.h"
#include "reactor/io.h"
#include "reactor/task.h"

namespace ringraft::ops {

// One request moves at most this many bytes, the kernel's own per-call bound (MAX_RW_COUNT) and
// what fits the int32 result. Callers split larger transfers; a larger span is a programmer error.
inline constexpr size_t kTransferBytesMax = 0x7ffff000;

inline uint32_t transfer_length(size_t size_bytes) {
  RR_ASSERT_MSG(size_bytes <= kTransferBytesMax, "one I/O request is limited to kTransferBytesMax");
  return static_cast<uint32_t>(size_bytes);
}

// The shapes every operation below is built from.
inline Operation buffer_operation(OpCode code, int fd, const void* data, size_t size_bytes,
                                  uint64_t offset, int flags = 0) {
  Operation op;
  op.code = code;
  op.fd = fd;
  op.buffer = const_cast<void*>(data);  // read-only for writes and sends: the kernel only reads it
  op.length = transfer_length(size_bytes);
  op.offset = offset;
  op.flags = flags;
  return op;
}

inline Operation vector_operation(OpCode code, int fd, const iovec* iov, uint32_t iov_count,
                                  uint64_t offset) {
  Operation op;
  op.code = code;
  op.fd = fd;
  op.iov = iov;
  op.iov_count = iov_count;
  op.offset = offset;
  return op;
}

// Does nothing in the kernel; a round trip through the ring.
inline OpAwaiter nop(Io& io) {
  Operation op;
  op.code = OpCode::kNop;
  return OpAwaiter(io, op);
}

inline OpAwaiter read(Io& io, int fd, ByteSpan into, uint64_t offset) {
  return OpAwaiter(io, buffer_operation(OpCode::kRead, fd, into.data(), into.size(), offset));
}

inline OpAwaiter write(Io& io, int fd, ConstByteSpan bytes, uint64_t offset) {
  return OpAwaiter(io, buffer_operation(OpCode::kWrite, fd, bytes.data(), bytes.size(), offset));
}

inline OpAwaiter readv(Io& io, int fd, const iovec* iov, uint32_t iov_count, uint64_t offset) {
  return OpAwaiter(io, vector_operation(OpCode::kReadv, fd, iov, iov_count, offset));
}

inline OpAwaiter writev(Io& io, int fd, const iovec* iov, uint32_t iov_count, uint64_t offset) {
  return OpAwaiter(io, vector_operation(OpCode::kWritev, fd, iov, iov_count, offset));
}

inline OpAwaiter fdatasync(Io& io, int fd) {
  Operation op;
  op.code = OpCode::kFsync;
  op.fd = fd;
  op.flags = Operation::kFsyncDataOnly;
  return OpAwaiter(io, op);
}

inline OpAwaiter fsync(Io& io, int fd) {
  Operation op;
  op.code = OpCode::kFsync;
  op.fd = fd;
  return OpAwaiter(io, op);
}

inline OpAwaiter fallocate(Io& io, int fd, int mode, uint64_t offset, uint64_t size_bytes) {
  Operation op;
  op.code = OpCode::kFallocate;
  op.fd = fd;
  op.flags = mode;
  op.offset = offset;
  op.size_bytes = size_bytes;
  return OpAwaiter(io, op);
}

// `path` must stay valid until the await returns.
inline OpAwaiter openat(Io& io, int directory_fd, const char* path, int open_flags, mode_t mode) {
  Operation op;
  op.code = OpCode::kOpenAt;
  op.fd = directory_fd;
  op.path = path;
  op.flags = open_flags;
  op.mode = mode;
  return OpAwaiter(io, op);
}

inline OpAwaiter close(Io& io, int fd) {
  Operation op;
  op.code = OpCode::kClose;
  op.fd = fd;
  return OpAwaiter(io, op);
}

inline OpAwaiter connect(Io& io, int fd, const sockaddr* address, socklen_t address_length) {
  Operation op;
  op.code = OpCode::kConnect;
  op.fd = fd;
  op.address = const_cast<sockaddr*>(address);  // the kernel only reads it
  op.address_length = address_length;
  return OpAwaiter(io, op);
}

inline OpAwaiter accept(Io& io, int listen_fd) {
  Operation op;
  op.code = OpCode::kAccept;
  op.fd = listen_fd;
  return OpAwaiter(io, op);
}

inline OpAwaiter recv(Io& io, int fd, ByteSpan into, int msg_flags = 0) {
  return OpAwaiter(io, buffer_operation(OpCode::kRecv, fd, into.data(), into.size(), 0, msg_flags));
}

inline OpAwaiter send(Io& io, int fd, ConstByteSpan bytes, int msg_flags = MSG_NOSIGNAL) {
  return OpAwaiter(io,
                   buffer_operation(OpCode::kSend, fd, bytes.data(), bytes.size(), 0, msg_flags));
}

inline OpAwaiter sendmsg(Io& io, int fd, msghdr* message, int msg_flags = MSG_NOSIGNAL) {
  Operation op;
  op.code = OpCode::kSendmsg;
  op.fd = fd;
  op.message = message;
  op.flags = msg_flags;
  return OpAwaiter(io, op);
}

// Zero-copy send: completes when the kernel no longer needs `bytes` (after its notification).
// Worth it for large blocks (tens of KiB and up); small sends are cheaper copied.
inline OpAwaiter send_zero_copy(Io& io, int fd, ConstByteSpan bytes, int msg_flags = MSG_NOSIGNAL) {
  Operation op;
  op.code = OpCode::kSendZeroCopy;
  op.fd = fd;
  op.buffer = const_cast<std::byte*>(bytes.data());
  op.length = transfer_length(bytes.size());
  op.flags = msg_flags;
  return OpAwaiter(io, op);
}

// Completes with 0 at `deadline`, or -ECANCELED if the loop shuts down first.
inline OpAwaiter sleep_until(Io& io, MonoTime deadline) {
  Operation op;
  op.code = OpCode::kTimer;
  op.deadline = deadline;
  return OpAwaiter(io, op);
}

inline OpAwaiter sleep_for(Io& io, Duration delay) {
  return sleep_until(io, io.now() + delay);
}

// Writes `bytes` at `offset`, then fdatasyncs the file, as one linked submission: the sync
// starts when the write has completed in full (a short or failed write cancels it). `first` is
// the write's result, `second` the sync's. This is the group-commit primitive of the WAL.
inline LinkedPairAwaiter write_fdatasync(Io& io, int fd, ConstByteSpan bytes, uint64_t offset) {
  Operation sync_op;
  sync_op.code = OpCode::kFsync;
  sync_op.fd = fd;
  sync_op.flags = Operation::kFsyncDataOnly;
  return LinkedPairAwaiter(
      io, buffer_operation(OpCode::kWrite, fd, bytes.data(), bytes.size(), offset), sync_op);
}

// Writes all of `bytes` at `offset`, continuing after short writes. Returns the bytes written
// or the first error.
Task<IoResult> write_all(Io& io, int fd, ConstByteSpan bytes, uint64_t offset);
// Sends all of `bytes` on a stream socket, continuing after short sends.
Task<IoResult> send_all(Io& io, int fd, ConstByteSpan bytes);
// Reads exactly into.size() bytes unless end of file comes first; returns the bytes read.
Task<IoResult> read_exact(Io& io, int fd, ByteSpan into, uint64_t offset);

}  // namespace ringraft::ops
