#include "common/result.h"

#include <cstring>

namespace ringraft {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kInvalidInput:
      return "invalid input";
    case ErrorCode::kFull:
      return "full";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kClosed:
      return "closed";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

std::string Error::message() const {
  std::string text = context_;
  text += ": ";
  if (errno_value_ != 0) {
    text += std::strerror(errno_value_);
  } else {
    text += error_code_name(code_);
  }
  return text;
}

}  // namespace ringraft
