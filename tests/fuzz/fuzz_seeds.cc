// Writes the seed corpora of the fuzz targets: valid inputs the fuzzers start mutating from.
//   fuzz_seeds <dir>   replaces <dir>/frame, <dir>/wal_batch, <dir>/wal_segment, <dir>/resp,
//                      <dir>/kv_snapshot and <dir>/http with fresh seeds.
// The first byte of each seed is the harness's mode byte (see frame_fuzz.cc, wal_batch_fuzz.cc,
// wal_recovery_fuzz.cc, resp_fuzz.cc, kv_snapshot_fuzz.cc, http_request_fuzz.cc).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/net/wire_samples.h"
#include "tools/kv/kv_snapshot.h"
#include "wal/batch_format.h"

namespace {

namespace fs = std::filesystem;
using ringraft::ConstByteSpan;

void write_seed(const fs::path& dir, const std::string& name, uint8_t mode, ConstByteSpan payload) {
  std::ofstream out(dir / name, std::ios::binary);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(payload.data()),
            static_cast<std::streamsize>(payload.size()));
}

void write_frame_seeds(const fs::path& dir) {
  std::vector<std::byte> stream;
  int index = 0;
  for (const auto& sample : ringraft::net::testing::one_of_each_message()) {
    // Mode 1, chunks of 64: the harness frames the FlatBuffer itself.
    write_seed(dir, "message_" + std::to_string(index++), (63 << 1) | 1, sample.flatbuffer);
    const auto frame = ringraft::net::testing::frame_of(sample.flatbuffer);
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  write_seed(dir, "stream_chunks_128", 127 << 1, stream);
  write_seed(dir, "stream_chunks_7", 6 << 1, stream);
}

void write_wal_seeds(const fs::path& dir) {
  using namespace ringraft;
  std::vector<std::byte> buffer(4096);
  wal::BatchEncoder encoder(buffer);
  const std::vector<uint32_t> lengths = {3, 0, 5};
  const std::vector<std::byte> payload(8, std::byte{0x42});

  encoder.begin(Seq(1));
  RR_ASSERT(encoder.add_entries(GroupId(1), Term(2), LogIndex(10), lengths, payload));
  write_seed(dir, "entries", 0, encoder.finish());

  encoder.begin(Seq(2));
  RR_ASSERT(encoder.add_hard_state(GroupId(1), Term(3), NodeId(2), LogIndex(9)));
  RR_ASSERT(encoder.add_snapshot_mark(GroupId(1), LogIndex(5), Term(1)));
  RR_ASSERT(encoder.add_truncate(GroupId(2), LogIndex(7)));
  RR_ASSERT(encoder.add_entries(GroupId(2), Term(3), LogIndex(7), lengths, payload));
  write_seed(dir, "every_kind", 1, encoder.finish());

  encoder.begin(Seq(3));
  write_seed(dir, "empty", 1, encoder.finish());

  // Padded to a block with a padding record, as O_DIRECT segments are written.
  wal::BatchEncoder padded(buffer, 512);
  padded.begin(Seq(4));
  RR_ASSERT(padded.add_entries(GroupId(1), Term(2), LogIndex(10), lengths, payload));
  write_seed(dir, "padded_512", 0, padded.finish());
}

// Whole segments: three consecutive batches, then zeros (mode 1: the last segment; mode 9: the
// harness fixes CRCs), and the same cut inside the third batch (a torn tail).
void write_segment_seeds(const fs::path& dir) {
  using namespace ringraft;
  std::vector<std::byte> segment;
  std::vector<std::byte> buffer(4096);
  wal::BatchEncoder encoder(buffer);
  const std::vector<uint32_t> lengths = {3, 0, 5};
  const std::vector<std::byte> payload(8, std::byte{0x42});
  for (uint64_t seq = 1; seq <= 3; seq++) {
    encoder.begin(Seq(seq));
    RR_ASSERT(encoder.add_entries(GroupId(1), Term(2), LogIndex(seq * 3 - 2), lengths, payload));
    RR_ASSERT(encoder.add_hard_state(GroupId(2), Term(seq), NodeId(1), LogIndex(seq)));
    if (seq == 2) RR_ASSERT(encoder.add_truncate(GroupId(1), LogIndex(5)));
    if (seq == 3) RR_ASSERT(encoder.add_snapshot_mark(GroupId(3), LogIndex(40), Term(2)));
    const ConstByteSpan batch = encoder.finish();
    segment.insert(segment.end(), batch.begin(), batch.end());
  }
  const size_t torn_at = segment.size() - 20;
  segment.resize(segment.size() + 256);
  write_seed(dir, "three_batches_last", 1, segment);
  write_seed(dir, "three_batches_older_fixed", 8, segment);
  std::fill(segment.begin() + static_cast<ptrdiff_t>(torn_at), segment.end(), std::byte{0xff});
  write_seed(dir, "torn_tail", 1 | 2, segment);
}

void write_resp_seeds(const fs::path& dir) {
  const std::string pipeline =
      "*3\r\n$3\r\nSET\r\n$10\r\nkey:000001\r\n$5\r\nvalue\r\n"
      "*2\r\n$3\r\nGET\r\n$10\r\nkey:000001\r\n"
      "*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$2\r\n-5\r\n"
      "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n"
      "*3\r\n$6\r\nINCRBY\r\n$1\r\nb\r\n$2\r\n10\r\n"
      "*5\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nx\r\n$2\r\nNX\r\n$3\r\nGET\r\n"
      "*3\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nz\r\n*0\r\n";
  const std::string inline_commands =
      "PING\r\nECHO \"two words\"\r\nINCR n\nDECR n\r\nEXISTS n a\r\nCOMMAND COUNT\r\n"
      "CONFIG GET save\r\nSELECT 0\r\nINFO\r\nQUIT\r\n";
  const auto bytes = [](const std::string& text) {
    return ringraft::as_bytes(text.data(), text.size());
  };
  write_seed(dir, "pipeline_whole", 255, bytes(pipeline));
  write_seed(dir, "pipeline_chunks_3", 2, bytes(pipeline));
  write_seed(dir, "inline_chunks_16", 15, bytes(inline_commands));
}

void write_kv_snapshot_seeds(const fs::path& dir) {
  using namespace ringraft::kv;
  KvStore store;
  store.set("a", "1");
  store.set("key:000001", std::string(100, 'v'));
  store.set("", "");
  VectorSnapshotSink sink;
  RR_ASSERT(write_snapshot(store, sink).ok());
  write_seed(dir, "three_keys", 1 | (63 << 1), sink.bytes());
  write_seed(dir, "three_keys_chunks_5", 1 | (4 << 1), sink.bytes());
  VectorSnapshotSink empty;
  RR_ASSERT(write_snapshot(KvStore(), empty).ok());
  write_seed(dir, "empty", 0, empty.bytes());
}

void write_http_seeds(const fs::path& dir) {
  const std::string scrape =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:7381\r\nUser-Agent: Prometheus/2.45\r\n"
      "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n\r\n";
  const std::string status = "GET /status?pretty=1 HTTP/1.0\r\n\r\n";
  const auto bytes = [](const std::string& text) {
    return ringraft::as_bytes(text.data(), text.size());
  };
  write_seed(dir, "scrape_whole", 255, bytes(scrape));
  write_seed(dir, "scrape_chunks_7", 6, bytes(scrape));
  write_seed(dir, "status_chunks_1", 0, bytes(status));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const fs::path root(argv[1]);
  for (const char* target : {"frame", "wal_batch", "wal_segment", "resp", "kv_snapshot", "http"}) {
    fs::remove_all(root / target);
    fs::create_directories(root / target);
  }
  write_frame_seeds(root / "frame");
  write_wal_seeds(root / "wal_batch");
  write_segment_seeds(root / "wal_segment");
  write_resp_seeds(root / "resp");
  write_kv_snapshot_seeds(root / "kv_snapshot");
  write_http_seeds(root / "http");
  return 0;
}
