// wal_fixture DIR SCENARIO: writes a small WAL into the empty directory DIR for the CLI tests
// (wal_cli_test.sh) and damages it as SCENARIO says:
//   clean    three batches of two entries records each (group 1, entries 1..6)
//   torn     the same, with a bit flipped in the last batch (a torn tail)
//   corrupt  the same, with a bit flipped in the middle batch (corruption)
//   io       a directory where the first segment file should be (opening it fails: EISDIR)
//   direct_clean, direct_torn, direct_corrupt: the same written with O_DIRECT (batches padded to
//            4 KiB blocks)
// Exit code 0 when the directory is ready.
#include <fmt/format.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"

int main(int argc, char** argv) {
  using namespace ringraft::wal;
  namespace fixture = ringraft::wal::testing;
  using ringraft::Seq;
  using ringraft::Shard;
  using ringraft::Task;
  if (argc != 3) {
    fmt::print(stderr, "usage: wal_fixture DIR [direct_]clean|torn|corrupt|io\n");
    return 2;
  }
  const std::string directory = argv[1];
  const std::string direct_prefix = "direct_";
  const bool direct = std::string(argv[2]).starts_with(direct_prefix);
  const std::string scenario = std::string(argv[2]).substr(direct ? direct_prefix.size() : 0);
  const std::string first_segment = directory + "/" + segment_file_name(Seq(1));
  if (scenario == "io") return ::mkdir(first_segment.c_str(), 0755) == 0 ? 0 : 1;
  WalOptions options;
  options.directory = directory;
  options.segment_bytes = uint64_t{64} * 1024;
  options.batch_bytes_max = uint32_t{16} * 1024;
  if (direct) options.direct_io = DirectIo::kRequired;
  std::vector<uint64_t> ends;
  ringraft::testing::run_on_reactor([&](Shard& shard) -> Task<void> {
    ends = co_await fixture::write_batches(shard, options, 3, 150);
  });
  if (ends.size() != 3) return 1;
  if (scenario == "torn") {
    fixture::flip_bit(first_segment, ends[1] + 100);
  } else if (scenario == "corrupt") {
    fixture::flip_bit(first_segment, ends[0] + 60);
  } else if (scenario != "clean") {
    fmt::print(stderr, "wal_fixture: unknown scenario {}\n", scenario);
    return 2;
  }
  return 0;
}
