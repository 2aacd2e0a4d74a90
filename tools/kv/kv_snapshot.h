// Snapshots of the key-value store: a versioned, checksummed byte stream.
//
// Format (version 1), little endian:
//   header   "RRKVSNAP" (8 bytes) | u32 version | u32 flags (0) | u64 key_count
//   records  key_count x (u32 key_bytes | u32 value_bytes | key | value)
//   trailer  u32 crc32c of every byte before it
// The stream goes through a sink and comes from a source in pieces of any size, so a store of
// many GiB never sits in memory twice as bytes. Restoring checks everything a corrupt or hostile
// stream can get wrong (magic, version, lengths against the store's limits, duplicate keys,
// checksum, trailing bytes) before it replaces the store: on any error the store is unchanged
// and the error says what was wrong at which byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "tools/kv/kv_store.h"

namespace ringraft::kv {

inline constexpr uint32_t kSnapshotVersion = 1;

class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual Result<void> write(ConstByteSpan bytes) = 0;
};

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Reads up to out.size() bytes; 0 at the end of the stream.
  virtual Result<size_t> read(ByteSpan out) = 0;
};

// Writes `store` to `sink` in chunks of at most kSnapshotChunkBytes (larger values go whole).
inline constexpr size_t kSnapshotChunkBytes = size_t{64} * 1024;
Result<void> write_snapshot(const KvStore& store, SnapshotSink& sink);

// The same stream in steps, for a snapshot that must not stop the store's owner: constructed,
// it takes a copy of the store (copy-on-write, O(partitions): kv_store.h), so the store may
// change between steps and the stream is still the store as of construction. Same thread as
// the store.
class SteppedSnapshotWriter {
 public:
  SteppedSnapshotWriter(const KvStore& store, SnapshotSink& sink);
  ~SteppedSnapshotWriter();
  SteppedSnapshotWriter(const SteppedSnapshotWriter&) = delete;
  SteppedSnapshotWriter& operator=(const SteppedSnapshotWriter&) = delete;

  // Writes the next whole records, about `bytes_max` bytes of them or more (at least one); true
  // once the whole stream, trailer included, is in the sink.
  Result<bool> write_some(size_t bytes_max);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Replaces `store`'s contents with the snapshot in `source`, keeping its limits. On error the
// store is unchanged.
Result<void> read_snapshot(SnapshotSource& source, KvStore& store);

// A sink into memory, for tests and for sending a small snapshot in one message.
class VectorSnapshotSink final : public SnapshotSink {
 public:
  Result<void> write(ConstByteSpan bytes) override;
  const std::vector<std::byte>& bytes() const { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

// A source over bytes in memory, handing out at most `chunk_bytes_max` bytes per read.
class SpanSnapshotSource final : public SnapshotSource {
 public:
  explicit SpanSnapshotSource(ConstByteSpan bytes, size_t chunk_bytes_max = SIZE_MAX)
      : bytes_(bytes), chunk_bytes_max_(chunk_bytes_max) {}
  Result<size_t> read(ByteSpan out) override;

 private:
  ConstByteSpan bytes_;
  size_t chunk_bytes_max_;
  size_t offset_ = 0;
};

}  // namespace ringraft::kv
