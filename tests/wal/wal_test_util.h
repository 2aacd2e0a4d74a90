// Helpers shared by the WAL suites: a temporary directory, payload bytes, file surgery, and an
// Io wrapper that injects failures into chosen operations.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "reactor/io.h"
#include "reactor/socket.h"
#include "reactor/task.h"
#include "tests/support/temp_dir.h"
#include "wal/recovery.h"
#include "wal/wal.h"

// ASSERT_* cannot be used in a coroutine (it returns void): this fails the test and ends the
// coroutine instead.
#define RR_CO_ASSERT_TRUE(condition)  \
  do {                                \
    const bool holds = (condition);   \
    EXPECT_TRUE(holds) << #condition; \
    if (!holds) co_return;            \
  } while (0)

namespace ringraft::wal::testing {

using ringraft::testing::TempDir;

// Deterministic payload bytes: entry `index` of `size_bytes`.
inline std::vector<std::byte> payload_bytes(uint64_t index, size_t size_bytes) {
  std::vector<std::byte> bytes(size_bytes);
  for (size_t i = 0; i < size_bytes; i++)
    bytes[i] = std::byte(static_cast<uint8_t>(index * 131 + i));
  return bytes;
}

inline std::vector<std::byte> read_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd.valid()) << path;
  const off_t size_bytes = ::lseek(fd.get(), 0, SEEK_END);
  std::vector<std::byte> bytes(static_cast<size_t>(size_bytes));
  EXPECT_EQ(::pread(fd.get(), bytes.data(), bytes.size(), 0), size_bytes);
  return bytes;
}

inline void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  ASSERT_TRUE(fd.valid()) << path;
  ASSERT_EQ(::pwrite(fd.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
}

// Forwards to a real Io, but reports an injected -errno for chosen operations after they really
// ran (the write did land; the WAL is told it failed, as a real EIO from a sync would). Arm it
// with fail_nth: the nth operation from now that matches `code` (and, for kFsync, data-only).
class FaultyIo final : public Io {
 public:
  explicit FaultyIo(Io& inner) : inner_(inner) {}

  // With `open_flags`, only an openat whose flags include all of them matches (O_DIRECT: a
  // filesystem refusing it); the file it really opened is closed.
  void fail_nth(OpCode code, uint32_t nth, int errno_value, int open_flags = 0) {
    armed_code_ = code;
    countdown_ = nth;
    errno_value_ = errno_value;
    open_flags_ = open_flags;
  }
  // Every matching operation from now on fails (a disk that stays full) until clear().
  void fail_all(OpCode code, int errno_value) {
    armed_code_ = code;
    countdown_ = 0;
    errno_value_ = errno_value;
    open_flags_ = 0;
    sticky_ = true;
  }
  void clear() {
    sticky_ = false;
    countdown_ = 0;
  }
  uint32_t injected() const { return injected_; }

  bool submit(Operation& op) override {
    if (matches(op) && (sticky_ || (countdown_ > 0 && --countdown_ == 0))) {
      saved_[&op] = Saved{op.on_complete, op.context, -errno_value_};
      op.on_complete = &FaultyIo::on_complete;
      op.context = this;
      injected_++;
    }
    return inner_.submit(op);
  }
  void cancel(Operation& op) override { inner_.cancel(op); }
  MonoTime now() const override { return inner_.now(); }
  Result<std::unique_ptr<BufferGroup>> create_buffer_group(uint32_t count,
                                                           uint32_t bytes_each) override {
    return inner_.create_buffer_group(count, bytes_each);
  }
  bool shutting_down() const override { return inner_.shutting_down(); }

 private:
  struct Saved {
    Operation::CompletionFn on_complete;
    void* context;
    int32_t result;
  };

  bool matches(const Operation& op) const {
    if (op.code != armed_code_) return false;
    if (op.code == OpCode::kOpenAt) {
      return (static_cast<int>(op.flags) & open_flags_) == open_flags_;
    }
    return op.code != OpCode::kFsync || op.flags == Operation::kFsyncDataOnly;
  }

  static void on_complete(Operation& op, int32_t real_result, uint32_t flags) {
    auto& self = *static_cast<FaultyIo*>(op.context);
    if (op.code == OpCode::kOpenAt && real_result >= 0) ::close(real_result);
    const Saved saved = self.saved_.at(&op);
    self.saved_.erase(&op);
    op.on_complete = saved.on_complete;
    op.context = saved.context;
    saved.on_complete(op, saved.result, flags);
  }

  Io& inner_;
  OpCode armed_code_ = OpCode::kNop;
  uint32_t countdown_ = 0;
  int errno_value_ = 0;
  int open_flags_ = 0;
  bool sticky_ = false;
  uint32_t injected_ = 0;
  std::map<Operation*, Saved> saved_;
};

// A record as recovery showed it, with its bytes copied out.
struct SeenRecord {
  Seq seq;
  RecordKind kind = RecordKind::kEntries;
  GroupId group;
  Term term;
  LogIndex index;
  std::vector<uint32_t> entry_lengths;
  std::vector<std::byte> payload;

  bool operator==(const SeenRecord&) const = default;
};

inline SeenRecord seen(Seq seq, const Record& record) {
  SeenRecord copy;
  copy.seq = seq;
  copy.kind = record.kind;
  copy.group = record.group;
  copy.term = record.term;
  copy.index = record.index;
  for (uint32_t i = 0; i < record.entry_count; i++) {
    copy.entry_lengths.push_back(record.entry_length_bytes(i));
  }
  copy.payload.assign(record.payload.begin(), record.payload.end());
  return copy;
}

// Small segments and batches, so that tests cross segment boundaries after a few appends.
inline WalOptions small_options(const TempDir& dir) {
  return WalOptions{.directory = dir.path(),
                    .segment_bytes = uint64_t{64} * 1024,
                    .batch_bytes_max = uint32_t{16} * 1024,
                    .fsyncs_in_flight_max = 1};
}

inline RecoveryOptions recovery_options(const WalOptions& options) {
  return RecoveryOptions{.directory = options.directory,
                         .segment_bytes = options.segment_bytes,
                         .fsyncs_in_flight_max = options.fsyncs_in_flight_max};
}

// Recovers the directory (collecting its records into *records when given) and opens the WAL
// where recovery says to continue. Out of line: clang 14 cannot emit an inline coroutine here
// with -g and ASan ("Cannot represent a difference across sections").
Task<Result<std::unique_ptr<Wal>>> recover_and_open(Shard& shard, Io& io, const WalOptions& options,
                                                    std::vector<SeenRecord>* records);

// Writes `batch_count` batches, one per turn, each with two entries records (group 1) of
// `entry_size_bytes`, and returns the end offset of each batch in its segment.
Task<std::vector<uint64_t>> write_batches(Shard& shard, const WalOptions& options, int batch_count,
                                          size_t entry_size_bytes);

// Flips one bit of file `path` at `offset`.
inline void flip_bit(const std::string& path, uint64_t offset) {
  std::vector<std::byte> bytes = read_file(path);
  bytes[offset] ^= std::byte{0x10};
  write_file(path, bytes);
}

// Writes batches of ~12 KiB until there are three segments; returns the segment paths in order.
std::vector<std::string> write_three_segments(const TempDir& dir, const WalOptions& options);

// Runs recover() on a fresh reactor.
Result<RecoveryReport> recover_directory(const RecoveryOptions& options);

}  // namespace ringraft::wal::testing
