// RespWriter: RESP2 replies appended to a bounded output buffer.
//
// The buffer grows on demand up to `bytes_max` and keeps its capacity when drained, so a
// connection in steady state does not allocate. Full behaviour: an append that does not fit
// fails with kFull and leaves the buffer as it was (each append is all or nothing); the caller
// stops reading requests until the socket drains the buffer. A reply that can never fit is
// replaced by an error: rollback() to the reply's start, then error(), which may use a small
// reserve beyond bytes_max so that a client always learns why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ringraft::kv {

class RespWriter {
 public:
  // Room error() may use beyond bytes_max; longer error texts are cut to fit it.
  static constexpr size_t kErrorReserveBytes = 256;

  explicit RespWriter(size_t bytes_max);

  // `+OK\r\n`. CR and LF in `text` become spaces: a simple string is one line.
  Result<void> simple_string(std::string_view text);
  // `-ERR ...\r\n`, `text` without the '-'. Same line rule as simple_string.
  Result<void> error(std::string_view text);
  Result<void> integer(int64_t value);
  Result<void> bulk(std::string_view bytes);
  Result<void> null_bulk();                   // `$-1\r\n`: a missing key
  Result<void> array_header(uint64_t count);  // followed by `count` elements
  Result<void> null_array();                  // `*-1\r\n`
  // Bytes already in RESP form (a reply made elsewhere, e.g. on the replica that applied it).
  Result<void> raw(std::string_view encoded);

  std::string_view bytes() const { return buffer_; }
  size_t size_bytes() const { return buffer_.size(); }
  size_t bytes_max() const { return bytes_max_; }

  // Drops the first `sent_bytes` bytes (they went to the socket).
  void consume(size_t sent_bytes);
  // Drops everything after `size_bytes` (a reply that could not be finished).
  void rollback(size_t size_bytes);
  void clear() { buffer_.clear(); }

 private:
  Result<void> append_line(char type, std::string_view text, size_t limit_bytes);
  Result<void> append_header(char type, int64_t value);
  Result<void> full(size_t wanted_bytes) const;

  size_t bytes_max_;
  std::string buffer_;
};

// One reply under construction: the first append that does not fit is remembered, and
// finish() replaces the partial reply with an error, so the client's stream stays well formed
// and the caller writes a multi-part reply (MGET) without checking every part.
class ReplyBuilder {
 public:
  explicit ReplyBuilder(RespWriter& writer) : writer_(writer), start_bytes_(writer.size_bytes()) {}
  ReplyBuilder(const ReplyBuilder&) = delete;
  ReplyBuilder& operator=(const ReplyBuilder&) = delete;
  ~ReplyBuilder() { finish(); }

  void simple_string(std::string_view text) { track(writer_.simple_string(text)); }
  void error(std::string_view text) { track(writer_.error(text)); }
  void integer(int64_t value) { track(writer_.integer(value)); }
  void bulk(std::string_view bytes) { track(writer_.bulk(bytes)); }
  void null_bulk() { track(writer_.null_bulk()); }
  void array_header(uint64_t count) { track(writer_.array_header(count)); }
  void null_array() { track(writer_.null_array()); }

  bool overflowed() const { return overflowed_; }
  // Ends the reply (idempotent): an overflowed one becomes "-ERR reply is larger than ...".
  void finish();

 private:
  void track(const Result<void>& appended) { overflowed_ = overflowed_ || !appended.ok(); }

  RespWriter& writer_;
  size_t start_bytes_;
  bool overflowed_ = false;
  bool finished_ = false;
};

}  // namespace ringraft::kv
