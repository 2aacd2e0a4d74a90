#include "tests/wal/wal_test_util.h"

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

}  // namespace ringraft::wal::testing
