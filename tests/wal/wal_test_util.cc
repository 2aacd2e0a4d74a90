#include "tests/wal/wal_test_util.h"

#include <algorithm>
#include <filesystem>

#include "tests/reactor/test_reactor.h"

namespace ringraft::wal::testing {

Task<Result<std::unique_ptr<Wal>>> recover_and_open(Shard& shard, Io& io, const WalOptions& options,
                                                    std::vector<SeenRecord>* records) {
  const RecoveryOptions recovery = recovery_options(options);
  RecordVisitor visitor;
  if (records != nullptr) {
    visitor = [records](Seq seq, const Record& record) { records->push_back(seen(seq, record)); };
  }
  Result<RecoveryReport> report = co_await recover(io, recovery, visitor);
  if (!report.ok()) co_return report.error();
  co_return co_await Wal::open(shard, io, options, report.value().position);
}

Task<std::vector<uint64_t>> write_batches(Shard& shard, const WalOptions& options, int batch_count,
                                          size_t entry_size_bytes) {
  std::vector<uint64_t> ends;
  auto wal = (co_await recover_and_open(shard, shard.io(), options, nullptr)).value();
  uint64_t index = 1;
  for (int batch = 0; batch < batch_count; batch++) {
    Result<Seq> seq = Seq(0);
    for (int record = 0; record < 2; record++, index++) {
      const std::vector<std::byte> payload = payload_bytes(index, entry_size_bytes);
      const uint32_t length = static_cast<uint32_t>(payload.size());
      seq =
          wal->append_entries(GroupId(1), Term(1), LogIndex(index), std::span(&length, 1), payload);
      EXPECT_TRUE(seq.ok());
    }
    EXPECT_TRUE((co_await wal->wait_durable(seq.value())).ok());
    ends.push_back(wal->segment().write_offset_bytes);
  }
  EXPECT_TRUE((co_await wal->close()).ok());
  co_return ends;
}

std::vector<std::string> write_three_segments(const TempDir& dir, const WalOptions& options) {
  ringraft::testing::run_on_reactor([&](Shard& shard) -> Task<void> {
    (void)co_await write_batches(shard, options, 12, size_t{6} * 1024);
  });
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    // Segments only: the prepared segment goes back to the spares at close.
    if (parse_segment_file_name(entry.path().filename().string()))
      paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

Result<RecoveryReport> recover_directory(const RecoveryOptions& options) {
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  ringraft::testing::run_on_reactor(
      [&](Shard& shard) -> Task<void> { report = co_await recover(shard.io(), options); });
  return report;
}

}  // namespace ringraft::wal::testing
