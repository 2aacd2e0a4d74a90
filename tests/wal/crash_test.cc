// A writer process killed with SIGKILL mid-stream: every batch it reported durable is
// recovered, and what is recovered is a prefix of what it appended.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "reactor/reactor.h"
#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::payload_bytes;
using testing::SeenRecord;
using testing::TempDir;

constexpr uint64_t kAcksBeforeKill = 150;

size_t entry_size_bytes(uint64_t index) {
  return 1 + (index * 37) % 3000;
}

WalOptions crash_options(const TempDir& dir) {
  return WalOptions{.directory = dir.path(),
                    .segment_bytes = uint64_t{64} * 1024,
                    .batch_bytes_max = uint32_t{16} * 1024,
                    .fsyncs_in_flight_max = 1};
}

Task<void> append_forever(Shard& shard, WalOptions options, int ack_fd) {
  Result<std::unique_ptr<Wal>> opened = co_await Wal::open(shard, options, WalPosition{});
  if (!opened.ok()) ::_exit(3);
  Wal& wal = *opened.value();
  for (uint64_t index = 1;; index++) {
    // A few records per turn, so batches hold several.
    Result<Seq> seq = Seq(0);
    for (uint64_t last = index + index % 4; index <= last; index++) {
      const std::vector<std::byte> payload = payload_bytes(index, entry_size_bytes(index));
      const uint32_t length = static_cast<uint32_t>(payload.size());
      seq =
          wal.append_entries(GroupId(1), Term(1), LogIndex(index), std::span(&length, 1), payload);
      if (!seq.ok()) ::_exit(4);
    }
    index--;
    const Result<Seq> durable = co_await wal.wait_durable(seq.value());
    if (!durable.ok()) ::_exit(5);
    const uint64_t acked = durable.value().value();
    if (::write(ack_fd, &acked, sizeof(acked)) != sizeof(acked)) ::_exit(6);
  }
}

TEST(Crash, SigkillMidStreamKeepsEveryAcknowledgedBatch) {
  TempDir dir;
  const WalOptions options = crash_options(dir);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    Reactor reactor(ringraft::testing::test_config());
    const Result<void> ran = reactor.run(
        [&](Shard& shard) -> Task<void> { return append_forever(shard, options, pipe_fds[1]); });
    ::_exit(ran.ok() ? 0 : 7);
  }
  ::close(pipe_fds[1]);
  uint64_t acked_max = 0;
  for (uint64_t acks = 0; acks < kAcksBeforeKill; acks++) {
    uint64_t acked = 0;
    const ssize_t read_bytes = ::read(pipe_fds[0], &acked, sizeof(acked));
    ASSERT_EQ(read_bytes, static_cast<ssize_t>(sizeof(acked))) << "the writer died early";
    EXPECT_GT(acked, acked_max);
    acked_max = acked;
  }
  // Killed while appending: it does not stop between acknowledgements.
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ::close(pipe_fds[0]);

  std::vector<SeenRecord> records;
  Result<RecoveryReport> report = Error(ErrorCode::kNotFound, "not run");
  run_on_reactor([&](Shard& shard) -> Task<void> {
    const RecordVisitor visitor = [&records](Seq seq, const Record& record) {
      records.push_back(testing::seen(seq, record));
    };
    report = co_await recover(shard.io(), testing::recovery_options(options), visitor);
  });
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_GE(report.value().batches_recovered, acked_max);
  EXPECT_GE(report.value().position.next_seq.value(), acked_max + 1);
  ASSERT_FALSE(records.empty());
  EXPECT_GE(records.back().seq.value(), acked_max);
  // A prefix of what was appended: indexes 1, 2, 3, ... with their exact payloads.
  for (size_t i = 0; i < records.size(); i++) {
    const uint64_t index = i + 1;
    ASSERT_EQ(records[i].index, LogIndex(index));
    ASSERT_EQ(records[i].payload, payload_bytes(index, entry_size_bytes(index))) << index;
  }
}

}  // namespace
}  // namespace ringraft::wal
