// Operation: one asynchronous I/O request as the I/O seam sees it.
//
// An Operation describes what to do (code and arguments), and how to report the outcome
// (on_complete). It is owned by the caller and must stay at one address until it completes:
// coroutine awaiters keep it in the coroutine frame, long-lived streams keep it as a member.
// The io_uring backend turns it into an SQE whose user_data is the Operation's address; the
// simulated backend (tests/sim, later) interprets it directly. Nothing here is io_uring-specific
// except that results follow the kernel convention: >= 0 on success, -errno on failure.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

namespace ringraft {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux
using MonoTime = Clock::time_point;
using Duration = std::chrono::nanoseconds;

enum class OpCode : uint8_t {
  kNop,
  kRead,             // fd, buffer, length, offset
  kWrite,            // fd, buffer, length, offset
  kReadv,            // fd, iov, iov_count, offset
  kWritev,           // fd, iov, iov_count, offset
  kFsync,            // fd, flags (kFsyncDataOnly for fdatasync)
  kFallocate,        // fd, flags (mode), offset, size_bytes
  kOpenAt,           // fd (directory), path, flags (open flags), mode
  kClose,            // fd
  kConnect,          // fd, address, address_length
  kAccept,           // fd, address (may be null), address_length_ptr
  kAcceptMultishot,  // fd; one completion per accepted connection
  kRecv,             // fd, buffer, length, flags
  kRecvMultishot,    // fd, buffer_group; one completion per received chunk
  kSend,             // fd, buffer, length, flags
  kSendmsg,          // fd, message, flags
  kSendZeroCopy,     // fd, buffer, length, flags; completes once the buffer is reusable
  kTimer,            // deadline; completes with 0 when it passes
};

const char* op_code_name(OpCode code);

// The result of an operation: >= 0 on success (bytes, fd, ...), -errno on failure.
struct IoResult {
  int32_t value = 0;

  bool ok() const { return value >= 0; }
  // The positive errno of a failure, 0 on success.
  int error() const { return value < 0 ? -value : 0; }
  uint32_t bytes() const { return ok() ? static_cast<uint32_t>(value) : 0; }
  // "Connection refused", "Success", ... for logs and error messages.
  std::string message() const;
};

struct Operation {
  // Called exactly once per completion (more than once for multishot operations, where
  // `flags` carries the kernel's "more to come" bit). May resubmit the operation.
  using CompletionFn = void (*)(Operation& op, int32_t result, uint32_t flags);

  static constexpr int kFsyncDataOnly = 1;

  OpCode code = OpCode::kNop;
  int fd = -1;
  int flags = 0;  // MSG_* for sockets, open flags, fallocate mode, kFsyncDataOnly
  void* buffer = nullptr;
  uint32_t length = 0;
  uint64_t offset = 0;
  uint64_t size_bytes = 0;  // kFallocate length
  const iovec* iov = nullptr;
  uint32_t iov_count = 0;
  msghdr* message = nullptr;
  sockaddr* address = nullptr;
  socklen_t address_length = 0;
  socklen_t* address_length_ptr = nullptr;
  const char* path = nullptr;
  mode_t mode = 0;
  uint16_t buffer_group = 0;
  MonoTime deadline{};  // kTimer
  Duration timeout{0};  // > 0: the operation is cancelled (-ECANCELED) if it takes longer
  // The next operation submitted starts only after this one succeeded in full (a failure or a
  // short transfer fails the next one with -ECANCELED). Submit the next one right after.
  bool link_next = false;

  CompletionFn on_complete = nullptr;
  void* context = nullptr;  // for on_complete: a coroutine handle address, a stream, ...

  // Backend state; callers leave these alone.
  bool in_flight = false;
  int32_t zero_copy_result = 0;
  uint32_t timer_slot = 0;
  struct {
    int64_t seconds;
    int64_t nanoseconds;
  } timeout_spec{};  // kernel's copy of `timeout`, read at submission
};

// Completion flags follow the io_uring ABI in both backends.
// True when the completion `flags` say a multishot operation stays armed.
bool completion_has_more(uint32_t flags);
// True when the completion carries a provided buffer, whose id is then stored in *buffer_id.
bool completion_buffer_id(uint32_t flags, uint16_t* buffer_id);

}  // namespace ringraft
