#include "reactor/operation.h"

#include <liburing.h>

namespace ringraft {

const char* op_code_name(OpCode code) {
  switch (code) {
    case OpCode::kNop:
      return "nop";
    case OpCode::kRead:
      return "read";
    case OpCode::kWrite:
      return "write";
    case OpCode::kReadv:
      return "readv";
    case OpCode::kWritev:
      return "writev";
    case OpCode::kFsync:
      return "fsync";
    case OpCode::kFallocate:
      return "fallocate";
    case OpCode::kOpenAt:
      return "openat";
    case OpCode::kClose:
      return "close";
    case OpCode::kConnect:
      return "connect";
    case OpCode::kAccept:
      return "accept";
    case OpCode::kAcceptMultishot:
      return "accept-multishot";
    case OpCode::kRecv:
      return "recv";
    case OpCode::kRecvMultishot:
      return "recv-multishot";
    case OpCode::kSend:
      return "send";
    case OpCode::kSendmsg:
      return "sendmsg";
    case OpCode::kSendZeroCopy:
      return "send-zc";
    case OpCode::kTimer:
      return "timer";
  }
  return "unknown";
}

std::string IoResult::message() const {
  return std::strerror(error());
}

bool completion_has_more(uint32_t flags) {
  return (flags & IORING_CQE_F_MORE) != 0;
}

bool completion_buffer_id(uint32_t flags, uint16_t* buffer_id) {
  if ((flags & IORING_CQE_F_BUFFER) == 0) return false;
  *buffer_id = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
  return true;
}

}  // namespace ringraft
