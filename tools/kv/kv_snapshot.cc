// Writing and reading key-value snapshots (see kv_snapshot.h).
#include "tools/kv/kv_snapshot.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "common/crc32c.h"

namespace ringraft::kv {
namespace {

constexpr char kMagic[8] = {'R', 'R', 'K', 'V', 'S', 'N', 'A', 'P'};
constexpr size_t kHeaderBytes = 24;
constexpr size_t kRecordHeaderBytes = 8;

void put_u32(uint32_t value, std::byte* out) {
  for (size_t i = 0; i < 4; ++i) out[i] = std::byte(static_cast<uint8_t>(value >> (8 * i)));
}
void put_u64(uint64_t value, std::byte* out) {
  for (size_t i = 0; i < 8; ++i) out[i] = std::byte(static_cast<uint8_t>(value >> (8 * i)));
}
uint32_t get_u32(const std::byte* in) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value |= static_cast<uint32_t>(in[i]) << (8 * i);
  return value;
}
uint64_t get_u64(const std::byte* in) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value |= static_cast<uint64_t>(in[i]) << (8 * i);
  return value;
}
ConstByteSpan bytes_of(std::string_view text) {
  return as_bytes(text.data(), text.size());
}

// Batches small writes into chunks and keeps the running CRC of everything written.
class ChunkWriter {
 public:
  explicit ChunkWriter(SnapshotSink& sink) : sink_(sink) { chunk_.reserve(kSnapshotChunkBytes); }

  Result<void> append(ConstByteSpan bytes) {
    crc_ = crc32c_extend(crc_, bytes);
    if (chunk_.size() + bytes.size() > kSnapshotChunkBytes) {
      Result<void> flushed = flush();
      if (!flushed.ok()) return flushed;
      if (bytes.size() > kSnapshotChunkBytes) return sink_.write(bytes);  // a large value whole
    }
    chunk_.insert(chunk_.end(), bytes.begin(), bytes.end());
    return {};
  }
  Result<void> flush() {
    if (chunk_.empty()) return {};
    Result<void> written = sink_.write(chunk_);
    chunk_.clear();
    return written;
  }
  uint32_t crc() const { return crc_; }

 private:
  SnapshotSink& sink_;
  std::vector<std::byte> chunk_;
  uint32_t crc_ = 0;
};

// Reads exact byte counts from a source, keeping the running CRC and the offset for errors.
class ExactReader {
 public:
  explicit ExactReader(SnapshotSource& source) : source_(source) {}

  Result<void> read(ByteSpan out, const char* what) {
    size_t filled = 0;
    while (filled < out.size()) {
      Result<size_t> got = source_.read(out.subspan(filled));
      if (!got.ok()) return got.error();
      if (got.value() == 0) return corrupt(std::string("stream ends inside ") + what);
      RR_ASSERT(got.value() <= out.size() - filled);
      filled += got.value();
    }
    crc_ = crc32c_extend(crc_, out);
    offset_ += out.size();
    return {};
  }
  Result<bool> at_end() {
    std::byte extra;
    Result<size_t> got = source_.read(ByteSpan(&extra, 1));
    if (!got.ok()) return got.error();
    return got.value() == 0;
  }
  // `what` was found in the bytes read last, which end at offset().
  Error corrupt(const std::string& what) const { return corrupt_at(offset_, what); }
  static Error corrupt_at(uint64_t offset, const std::string& what) {
    return Error(ErrorCode::kInvalidInput,
                 "kv snapshot at byte " + std::to_string(offset) + ": " + what);
  }
  uint64_t offset() const { return offset_; }
  uint32_t crc() const { return crc_; }

 private:
  SnapshotSource& source_;
  uint32_t crc_ = 0;
  uint64_t offset_ = 0;
};

Result<uint64_t> read_header(ExactReader& reader, const KvLimits& limits) {
  std::byte header[kHeaderBytes];
  Result<void> got = reader.read(header, "the header");
  if (!got.ok()) return got.error();
  if (std::memcmp(header, kMagic, sizeof(kMagic)) != 0) {
    return reader.corrupt("not a kv snapshot (bad magic)");
  }
  const uint32_t version = get_u32(header + 8);
  if (version != kSnapshotVersion) {
    return reader.corrupt("unsupported version " + std::to_string(version));
  }
  if (get_u32(header + 12) != 0) return reader.corrupt("unknown flags");
  const uint64_t key_count = get_u64(header + 16);
  if (key_count > limits.keys_max) {
    return reader.corrupt(std::to_string(key_count) + " keys, above keys_max " +
                          std::to_string(limits.keys_max));
  }
  return key_count;
}

// `length_bytes` bytes into `out`, grown as they arrive: a corrupt length costs memory only for
// the bytes the stream really has.
Result<void> read_string(ExactReader& reader, uint32_t length_bytes, std::string& out,
                         const char* what) {
  out.clear();
  while (out.size() < length_bytes) {
    const size_t offset = out.size();
    const size_t piece_bytes = std::min<size_t>(length_bytes - offset, kSnapshotChunkBytes);
    out.resize(offset + piece_bytes);
    Result<void> got =
        reader.read(ByteSpan(reinterpret_cast<std::byte*>(out.data() + offset), piece_bytes), what);
    if (!got.ok()) return got;
  }
  return {};
}

// One record into `store`, checked against its limits before anything is allocated.
Result<void> read_record(ExactReader& reader, KvStore& store, std::string& key,
                         std::string& value) {
  std::byte header[kRecordHeaderBytes];
  Result<void> got = reader.read(header, "a record header");
  if (!got.ok()) return got;
  const uint32_t key_bytes = get_u32(header);
  const uint32_t value_bytes = get_u32(header + 4);
  const uint64_t bytes_max = store.limits().value_bytes_max;
  if (key_bytes > bytes_max || value_bytes > bytes_max) {
    return reader.corrupt("a key or value longer than value_bytes_max " +
                          std::to_string(bytes_max));
  }
  got = read_string(reader, key_bytes, key, "a key");
  if (!got.ok()) return got;
  got = read_string(reader, value_bytes, value, "a value");
  if (!got.ok()) return got;
  if (store.find(key) != nullptr) return reader.corrupt("duplicate key");
  if (!store.has_room(store.cost_of_set(key, value))) {
    return reader.corrupt("more data than data_bytes_max " +
                          std::to_string(store.limits().data_bytes_max));
  }
  store.set(key, value);
  return {};
}

}  // namespace

struct SteppedSnapshotWriter::State {
  State(const KvStore& store, SnapshotSink& sink) : copy(store), writer(sink) {}
  KvStore copy;  // the store as of the start: the original's changes clone partitions away
  ChunkWriter writer;
  KvStore::Cursor cursor;
  bool header_written = false;
  bool done = false;
  uint64_t written_keys = 0;
};

SteppedSnapshotWriter::SteppedSnapshotWriter(const KvStore& store, SnapshotSink& sink)
    : state_(std::make_unique<State>(store, sink)) {}

SteppedSnapshotWriter::~SteppedSnapshotWriter() = default;

Result<bool> SteppedSnapshotWriter::write_some(size_t bytes_max) {
  State& state = *state_;
  if (state.done) return true;
  Result<void> result{};
  if (!state.header_written) {
    std::byte header[kHeaderBytes];
    std::memcpy(header, kMagic, sizeof(kMagic));
    put_u32(kSnapshotVersion, header + 8);
    put_u32(0, header + 12);
    put_u64(state.copy.key_count(), header + 16);
    result = state.writer.append(header);
    if (!result.ok()) return result.error();
    state.header_written = true;
  }
  size_t step_bytes = 0;
  const bool all_visited =
      state.copy.for_each_from(state.cursor, [&](std::string_view key, const std::string& value) {
        std::byte record[kRecordHeaderBytes];
        // Keys and values are bounded by value_bytes_max, far below 4 GiB.
        RR_ASSERT(key.size() <= UINT32_MAX && value.size() <= UINT32_MAX);
        put_u32(static_cast<uint32_t>(key.size()), record);
        put_u32(static_cast<uint32_t>(value.size()), record + 4);
        result = state.writer.append(record);
        if (result.ok()) result = state.writer.append(bytes_of(key));
        if (result.ok()) result = state.writer.append(bytes_of(value));
        ++state.written_keys;
        step_bytes += kRecordHeaderBytes + key.size() + value.size();
        return result.ok() && step_bytes < bytes_max;
      });
  if (!result.ok()) return result.error();
  if (!all_visited) return false;
  RR_ASSERT(state.written_keys == state.copy.key_count());
  std::byte trailer[4];
  put_u32(state.writer.crc(), trailer);
  result = state.writer.append(trailer);
  if (result.ok()) result = state.writer.flush();
  if (!result.ok()) return result.error();
  state.done = true;
  return true;
}

Result<void> write_snapshot(const KvStore& store, SnapshotSink& sink) {
  SteppedSnapshotWriter writer(store, sink);
  while (true) {
    Result<bool> step = writer.write_some(SIZE_MAX);
    if (!step.ok()) return step.error();
    if (step.value()) return {};
  }
}

Result<void> read_snapshot(SnapshotSource& source, KvStore& store) {
  ExactReader reader(source);
  Result<uint64_t> key_count = read_header(reader, store.limits());
  if (!key_count.ok()) return key_count.error();
  KvStore restored(store.limits());
  std::string key;
  std::string value;
  for (uint64_t i = 0; i < key_count.value(); ++i) {
    Result<void> record = read_record(reader, restored, key, value);
    if (!record.ok()) return record;
  }
  const uint32_t computed_crc = reader.crc();
  const uint64_t trailer_offset = reader.offset();
  std::byte trailer[4];
  Result<void> got = reader.read(trailer, "the trailer");
  if (!got.ok()) return got;
  if (get_u32(trailer) != computed_crc) {
    return ExactReader::corrupt_at(trailer_offset, "checksum mismatch");
  }
  Result<bool> at_end = reader.at_end();
  if (!at_end.ok()) return at_end.error();
  if (!at_end.value()) return reader.corrupt("bytes after the trailer");
  store = std::move(restored);
  store.check_invariants();
  return {};
}

Result<void> VectorSnapshotSink::write(ConstByteSpan bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return {};
}

Result<size_t> SpanSnapshotSource::read(ByteSpan out) {
  const size_t count = std::min({out.size(), chunk_bytes_max_, bytes_.size() - offset_});
  if (count > 0) std::memcpy(out.data(), bytes_.data() + offset_, count);
  offset_ += count;
  return count;
}

}  // namespace ringraft::kv
