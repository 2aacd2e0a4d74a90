// Result<T>: a value or an Error, for every expected failure (I/O errors, bad input, full
// queues, NotLeader). Errors are values; no exception crosses a module boundary.
//
// An Error carries a code, the errno when one applies, and a context string that says where
// (file, offset, peer). The string is only built on the failure path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/assert.h"

namespace ringraft {

enum class ErrorCode : uint8_t {
  kIo,            // a system call failed; errno_value says which error
  kInvalidInput,  // malformed bytes from disk, network or a caller
  kFull,          // a bounded queue or buffer is full; retry later
  kCancelled,     // the operation was cancelled (shutdown or explicit cancel)
  kClosed,        // the peer or resource is gone
  kNotFound,
  kUnsupported,  // the kernel or machine lacks a needed feature
};

const char* error_code_name(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string context, int errno_value = 0)
      : code_(code), errno_value_(errno_value), context_(std::move(context)) {}

  // An Error for a failed system call: errno_value is the positive errno.
  static Error from_errno(int errno_value, std::string context) {
    return Error(ErrorCode::kIo, std::move(context), errno_value);
  }

  ErrorCode code() const { return code_; }
  int errno_value() const { return errno_value_; }
  const std::string& context() const { return context_; }
  // "context: strerror (code)", ready for a log line or a user.
  std::string message() const;

 private:
  ErrorCode code_;
  int errno_value_;
  std::string context_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    RR_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  const T& value() const& {
    RR_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  T&& value() && {
    RR_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    RR_ASSERT_MSG(!ok(), "Result::error() on a value");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::in_place, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    RR_ASSERT_MSG(!ok(), "Result::error() on a value");
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace ringraft
