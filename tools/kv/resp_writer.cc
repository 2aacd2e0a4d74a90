// RESP2 reply encoding into a bounded buffer (see resp_writer.h).
#include "tools/kv/resp_writer.h"

#include <algorithm>

#include "tools/kv/decimal.h"

namespace ringraft::kv {

RespWriter::RespWriter(size_t bytes_max) : bytes_max_(bytes_max) {
  RR_ASSERT(bytes_max_ > 0);
}

Result<void> RespWriter::full(size_t wanted_bytes) const {
  return Error(ErrorCode::kFull, "reply of " + std::to_string(wanted_bytes) +
                                     " bytes does not fit the output buffer (" +
                                     std::to_string(buffer_.size()) + " of " +
                                     std::to_string(bytes_max_) + " bytes used)");
}

Result<void> RespWriter::append_line(char type, std::string_view text, size_t limit_bytes) {
  const size_t wanted_bytes = 1 + text.size() + 2;
  if (buffer_.size() + wanted_bytes > limit_bytes) return full(wanted_bytes);
  const size_t start = buffer_.size();
  buffer_.push_back(type);
  buffer_.append(text);
  std::replace(buffer_.begin() + static_cast<ptrdiff_t>(start), buffer_.end(), '\r', ' ');
  std::replace(buffer_.begin() + static_cast<ptrdiff_t>(start), buffer_.end(), '\n', ' ');
  buffer_.append("\r\n");
  return {};
}

Result<void> RespWriter::append_header(char type, int64_t value) {
  char text[kInt64TextBytesMax];
  return append_line(type, format_int64(value, text), bytes_max_);
}

Result<void> RespWriter::simple_string(std::string_view text) {
  return append_line('+', text, bytes_max_);
}

Result<void> RespWriter::error(std::string_view text) {
  // Cut to the reserve, so that an error always fits where it is needed most: after rollback().
  const size_t text_bytes_max = kErrorReserveBytes - 3;
  return append_line('-', text.substr(0, text_bytes_max), bytes_max_ + kErrorReserveBytes);
}

Result<void> RespWriter::integer(int64_t value) {
  return append_header(':', value);
}

Result<void> RespWriter::raw(std::string_view encoded) {
  if (buffer_.size() + encoded.size() > bytes_max_) return full(encoded.size());
  buffer_.append(encoded);
  return {};
}

Result<void> RespWriter::bulk(std::string_view bytes) {
  char text[kInt64TextBytesMax];
  const std::string_view length = format_int64(static_cast<int64_t>(bytes.size()), text);
  const size_t wanted_bytes = 1 + length.size() + 2 + bytes.size() + 2;
  if (buffer_.size() + wanted_bytes > bytes_max_) return full(wanted_bytes);
  buffer_.push_back('$');
  buffer_.append(length);
  buffer_.append("\r\n");
  buffer_.append(bytes);
  buffer_.append("\r\n");
  return {};
}

Result<void> RespWriter::null_bulk() {
  return append_header('$', -1);
}

Result<void> RespWriter::array_header(uint64_t count) {
  RR_ASSERT(count <= static_cast<uint64_t>(INT64_MAX));
  return append_header('*', static_cast<int64_t>(count));
}

Result<void> RespWriter::null_array() {
  return append_header('*', -1);
}

void RespWriter::consume(size_t sent_bytes) {
  RR_ASSERT(sent_bytes <= buffer_.size());
  buffer_.erase(0, sent_bytes);
}

void RespWriter::rollback(size_t size_bytes) {
  RR_ASSERT(size_bytes <= buffer_.size());
  buffer_.resize(size_bytes);
}

void ReplyBuilder::finish() {
  if (finished_) return;
  finished_ = true;
  if (!overflowed_) return;
  writer_.rollback(start_bytes_);
  const Result<void> replaced = writer_.error("ERR reply is larger than the output buffer (" +
                                              std::to_string(writer_.bytes_max()) + " bytes)");
  // The error reserve exists for this: only a writer already over its bound can refuse.
  (void)replaced;
}

}  // namespace ringraft::kv
