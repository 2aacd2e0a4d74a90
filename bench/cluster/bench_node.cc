// One node of the 3-process replication benchmark (see bench_node.h).
#include "bench/cluster/bench_node.h"

#include <filesystem>
#include <memory>

#include "bench/cluster/bench_load.h"
#include "bench/cluster/bench_report.h"
#include "common/assert.h"
#include "common/log.h"
#include "raft/replica/shard_engine.h"
#include "raft/replica/transport_bus.h"
#include "reactor/ops.h"

namespace ringraft::bench {
namespace {

constexpr auto kLeadershipPoll = std::chrono::milliseconds(10);
constexpr auto kFollowersLearnCommit = std::chrono::milliseconds(300);  // 30 heartbeats
constexpr uint64_t kClusterId = 0xbe7c4;

net::TransportOptions transport_options(const BenchNodeOptions& options) {
  return net::transport_options_for(kClusterId, options.id, options.peers);
}

replica::EngineOptions engine_options(const BenchNodeOptions& options) {
  replica::EngineOptions engine;
  engine.node = options.id;
  for (const auto& [node, endpoint] : options.peers) engine.voters.push_back(node);
  for (uint32_t g = 1; g <= options.group_count; g++) engine.groups.push_back(GroupId{g});
  engine.wal.directory = (std::filesystem::path(options.data_dir) / "wal").string();
  if (!options.fsync) engine.wal.sync_mode = wal::SyncMode::kNone;
  engine.wal.fsyncs_in_flight_max = options.fsyncs_in_flight;
  engine.tick_interval = options.tick;
  engine.raft.seed = options.id.value() * 0x9E3779B97F4A7C15ULL;
  // With 10 ms ticks: the other nodes wait 0.5-1 s before campaigning (three processes and their
  // proposers share a loaded machine: a late heartbeat must not cost an election), the
  // measuring node 0.2-0.4 s, so that it normally wins the first election of every group.
  engine.raft.election_ticks = options.id == options.measure_node ? 20 : 50;
  // Proposers past the engine's bound wait for a slot instead of spinning on kFull.
  engine.when_full = replica::WhenFull::kWait;
  return engine;
}

// Counts what it applies; remembers where each cell's entries began (their first byte is the
// cell's number), with this process's CPU at that point, so that a follower can tell what
// each cell cost it. One comparison per entry, one getrusage per cell.
class BenchStateMachine final : public replica::StateMachine {
 public:
  void apply(GroupId /*group*/, std::span<const replica::CommittedEntry> entries,
             replica::ApplyResults& results) override {
    for (const replica::CommittedEntry& entry : entries) {
      RR_ASSERT(!entry.payload.empty());  // the engine hides empty entries
      const auto cell = static_cast<uint8_t>(entry.payload[0]);
      if (marks_[cell].applied++ == 0) {
        marks_[cell].cpu_seconds = process_cpu_seconds();
        marks_[cell].runq_wait_seconds = shard_runq_wait_seconds();
      }
      applied_++;
      results.push({});
    }
  }
  uint64_t applied() const { return applied_; }
  const std::array<CellMark, 256>& marks() const { return marks_; }

 private:
  std::array<CellMark, 256> marks_{};
  uint64_t applied_ = 0;
};

// Any node but the measuring one: every group it finds itself leading goes to the measuring
// node, until `stopping` is set. Transfers that fail (the target lags, an election is on) are
// tried again on the next poll.
Task<void> hand_over_leadership(Shard& shard, replica::ShardEngine& engine,
                                const BenchNodeOptions& options, const bool& stopping,
                                Latch& ended) {
  while (!stopping) {
    for (uint32_t g = 1; g <= options.group_count && !stopping; g++) {
      Result<replica::GroupStatus> status = engine.status(GroupId{g});
      if (status.ok() && status.value().role == raft::Role::kLeader) {
        RR_LOG_INFO("node {}: handing group {} to node {}", options.id.value(), g,
                    options.measure_node.value());
        (void)co_await engine.transfer_leader(GroupId{g}, options.measure_node);
      }
    }
    co_await ops::sleep_for(shard.io(), kLeadershipPoll);
  }
  ended.count_down();
}

bool leads_every_group(const replica::ShardEngine& engine, uint32_t group_count) {
  for (uint32_t g = 1; g <= group_count; g++) {
    Result<replica::GroupStatus> status = engine.status(GroupId{g});
    if (!status.ok() || status.value().role != raft::Role::kLeader) return false;
  }
  return true;
}

// After the last cell: one entry whose first byte is `end_cell`, so that every node marks where
// the last cell ended (its CPU from then on is not the load's), and time for the followers to
// learn its commit (the next heartbeats carry it) before this node goes.
Task<Result<void>> mark_the_end(Shard& shard, replica::ShardEngine& engine, uint32_t end_cell) {
  RR_ASSERT(end_cell < 256);
  const std::byte mark[1] = {static_cast<std::byte>(end_cell)};
  const replica::ProposeResult outcome = co_await engine.propose(GroupId{1}, mark);
  if (!std::holds_alternative<replica::Committed>(outcome)) {
    co_return Error(ErrorCode::kCancelled, "the end mark did not commit");
  }
  co_await ops::sleep_for(shard.io(), kFollowersLearnCommit);
  co_return Result<void>{};
}

// The measuring node: waits (bounded) to lead every group, then runs every cell in order.
Task<Result<void>> measure(Shard& shard, replica::ShardEngine& engine,
                           const BenchNodeOptions& options, std::vector<CellResult>& cells) {
  const auto deadline = std::chrono::steady_clock::now() + options.leader_timeout;
  while (!leads_every_group(engine, options.group_count)) {
    if (std::chrono::steady_clock::now() > deadline) {
      co_return Error(ErrorCode::kCancelled, "node " + std::to_string(options.id.value()) +
                                                 " did not lead every group within " +
                                                 std::to_string(options.leader_timeout.count()) +
                                                 " ms");
    }
    co_await ops::sleep_for(shard.io(), kLeadershipPoll);
  }
  std::vector<GroupId> groups;
  for (uint32_t g = 1; g <= options.group_count; g++) groups.push_back(GroupId{g});
  cells.resize(options.cell_count());
  uint32_t cell = 0;
  for (uint32_t entry_bytes : options.entry_bytes) {
    for (uint32_t in_flight : options.in_flight) {
      CellSpec spec;
      spec.cell = cell;
      spec.entry_bytes = entry_bytes;
      spec.in_flight = in_flight;
      spec.duration = options.cell_duration;
      spec.entries_max = options.cell_entries_max;
      co_await run_cell(shard, engine, groups, spec, cells[cell]);
      RR_LOG_INFO("cell {}: {} B x {} in flight: {} committed in {:.2f} s", cell, entry_bytes,
                  in_flight, cells[cell].committed, cells[cell].seconds);
      cell++;
    }
  }
  co_return co_await mark_the_end(shard, engine, cell);
}

}  // namespace

Task<Result<std::string>> run_bench_node(Shard& shard, const BenchNodeOptions& options,
                                         Latch& stop_requested) {
  const double cpu_at_start = process_cpu_seconds();
  auto created = replica::TransportBus::create(shard, transport_options(options));
  if (!created.ok()) co_return created.error();
  replica::TransportBus& bus = *created.value();
  if (Result<void> started = co_await bus.start(); !started.ok()) co_return started.error();
  const replica::EngineOptions engine_config = engine_options(options);
  std::error_code made;
  std::filesystem::create_directories(engine_config.wal.directory, made);
  BenchStateMachine machine;
  auto opened = co_await replica::ShardEngine::open(shard, engine_config, bus, machine);
  if (made || !opened.ok()) {
    co_await bus.stop();
    if (made)
      co_return Error::from_errno(made.value(), "cannot create " + engine_config.wal.directory);
    co_return opened.error();
  }
  replica::ShardEngine& engine = *opened.value();
  bus.attach(engine);

  NodeReport report;
  report.node = options.id;
  report.measuring = options.id == options.measure_node;
  report.group_count = options.group_count;
  report.cell_count = static_cast<uint32_t>(options.cell_count());
  report.fsync = options.fsync;
  report.fsyncs_in_flight = options.fsyncs_in_flight;
  Result<void> measured{};
  if (report.measuring) {
    measured = co_await measure(shard, engine, options, report.cells);
  } else {
    bool stopping = false;
    Latch handed_over(1);
    shard.spawn(hand_over_leadership(shard, engine, options, stopping, handed_over));
    co_await stop_requested.wait();
    stopping = true;
    co_await handed_over.wait();
  }
  report.cpu_at_end_seconds = process_cpu_seconds();
  report.cpu_total_seconds = report.cpu_at_end_seconds - cpu_at_start;
  report.runq_wait_at_end_seconds = shard_runq_wait_seconds();
  report.applied = machine.applied();
  report.marks = machine.marks();
  report.wal_fsyncs = engine.wal().stats().fsyncs_completed;
  report.wal_bytes = engine.wal().stats().bytes_written;
  report.bus_sent = bus.stats().sent;
  report.bus_sent_full = bus.stats().sent_full;
  co_await bus.stop();
  const Result<void> closed = co_await engine.close();
  bus.detach();
  if (!measured.ok()) co_return measured.error();
  if (!closed.ok()) co_return closed.error();
  co_return node_report_json(report);
}

}  // namespace ringraft::bench
