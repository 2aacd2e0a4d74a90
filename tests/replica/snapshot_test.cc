// Snapshots in the engine: taken on demand and automatically, restored at restart with only
// the log after them replayed, sent in chunks to a follower behind the compaction point (also
// when chunks are lost), and a damaged newest snapshot file at restart. Whole clusters in one
// process (tests/replica/cluster.h); every wait is on an event or a polled condition, bounded
// by run_on_reactor's watchdog.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "reactor/latch.h"
#include "reactor/timer.h"
#include "tests/reactor/test_reactor.h"
#include "tests/replica/cluster.h"
#include "wal/snapshot_file.h"

namespace ringraft::replica::testing {
namespace {

using ringraft::testing::run_on_reactor;

const GroupId kGroup(1);

std::string command(int i) {
  return "c" + std::to_string(i);
}

// Proposes commands [from, from + count) through the leader; appends them to `acknowledged`
// and raises `last` to the highest committed index.
Task<void> replicate(Cluster& cluster, Shard& here, int from, int count,
                     std::vector<std::string>& acknowledged, LogIndex& last,
                     NodeId avoid = NodeId(0)) {
  for (int i = from; i < from + count; ++i) {
    const ProposeResult result =
        co_await cluster.propose_to_leader(here, kGroup, command(i), avoid);
    const auto* committed = std::get_if<Committed>(&result);
    EXPECT_NE(committed, nullptr) << "proposal " << i;
    if (committed == nullptr) co_return;
    last = std::max(last, committed->index);
    acknowledged.push_back(command(i));
  }
}

// Polls `holds` on the node's shard every 5 ms until it is true (the watchdog bounds it).
Task<void> poll(Cluster& cluster, Shard& here, NodeId node,
                std::function<bool(ShardEngine&)> holds) {
  Timer timer(here.io());
  for (;;) {
    bool done = false;
    co_await cluster.on_node(
        here, node, [&](ShardEngine* engine) { done = engine != nullptr && holds(*engine); });
    if (done) co_return;
    co_await timer.wait_for(std::chrono::milliseconds(5));
  }
}

Task<std::vector<std::string>> applied(Cluster& cluster, Shard& here, NodeId node) {
  co_return co_await cluster.applied(here, node, kGroup);
}

LogIndex compaction_point(const ShardEngine& engine) {
  return engine.replica(kGroup)->core().snapshot().index;
}

std::vector<std::filesystem::path> snapshot_files(const std::string& directory) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (wal::parse_snapshot_file_name(entry.path().filename().string())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Flips one byte of a snapshot file's content (its CRC no longer matches).
void damage(const std::filesystem::path& file) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(stream.good()) << file;
  // The last byte: content in either file version (version 2 puts the configuration first).
  stream.seekg(-1, std::ios::end);
  char byte = 0;
  stream.read(&byte, 1);
  stream.seekp(-1, std::ios::end);
  byte = static_cast<char>(byte ^ 0x5a);
  stream.write(&byte, 1);
}

NodeId a_follower(NodeId leader) {
  return leader == NodeId(3) ? NodeId(2) : NodeId(3);
}

TEST(Snapshot, SnapshotThenRestartRestoresTheStateAndReplaysOnlyTheTail) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        co_await replicate(cluster, here, 0, 20, acknowledged, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        const NodeId node = a_follower(leader);
        co_await cluster.wait_applied(here, node, kGroup, last);
        const Result<LogIndex> taken = co_await cluster.snapshot_now(here, node, kGroup);
        EXPECT_TRUE(taken.ok()) << taken.error().message();
        if (!taken.ok()) co_return co_await cluster.stop_all(here);
        EXPECT_EQ(taken.value(), last);
        co_await cluster.on_node(here, node, [&](ShardEngine* engine) {
          EXPECT_EQ(compaction_point(*engine), taken.value());
          EXPECT_EQ(engine->stats().snapshots_taken, 1u);
        });
        EXPECT_EQ(snapshot_files(cluster.directory(node)).size(), 1u);

        co_await replicate(cluster, here, 20, 7, acknowledged, last);
        co_await cluster.wait_applied(here, node, kGroup, last);
        co_await cluster.stop(here, static_cast<uint32_t>(node.value() - 1));
        cluster.network().isolate(node, true);  // what it knows comes from its own disk
        const Result<void> started =
            co_await cluster.start(here, static_cast<uint32_t>(node.value() - 1));
        EXPECT_TRUE(started.ok()) << started.error().message();
        co_await cluster.wait_applied(here, node, kGroup, last);
        co_await cluster.on_machine(here, node, [&](RecordingStateMachine* machine) {
          EXPECT_EQ(machine->restored_at[kGroup], taken.value());
          // Only the tail after the snapshot was applied again.
          EXPECT_EQ(machine->applied_since_start[kGroup], last.value() - taken.value().value());
        });
        co_await cluster.on_node(here, node, [&](ShardEngine* engine) {
          EXPECT_EQ(compaction_point(*engine), taken.value());
          EXPECT_EQ(engine->stats().snapshots_restored, 1u);
        });
        EXPECT_EQ(co_await applied(cluster, here, node), acknowledged);

        cluster.network().isolate(node, false);
        co_await replicate(cluster, here, 27, 3, acknowledged, last);
        co_await cluster.wait_applied(here, node, kGroup, last);
        EXPECT_EQ(co_await applied(cluster, here, node), acknowledged);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Snapshot, SnapshotsAreTakenAutomaticallyEverySnapshotEntries) {
  Cluster cluster(3, 1);
  cluster.tune = [](EngineOptions& options) { options.snapshot_entries = 10; };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        co_await replicate(cluster, here, 0, 35, acknowledged, last);
        for (uint32_t k = 0; k < cluster.size(); ++k) {
          co_await poll(cluster, here, Cluster::node_id(k), [&](ShardEngine& engine) {
            return engine.stats().snapshots_taken >= 3 &&
                   compaction_point(engine).value() + 10 > last.value();
          });
        }
        co_await replicate(cluster, here, 35, 5, acknowledged, last);
        for (uint32_t k = 0; k < cluster.size(); ++k) {
          co_await cluster.wait_applied(here, Cluster::node_id(k), kGroup, last);
          EXPECT_EQ(co_await applied(cluster, here, Cluster::node_id(k)), acknowledged);
        }
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Snapshot, SnapshotsAreTakenAutomaticallyAfterSnapshotLogBytes) {
  Cluster cluster(3, 1);
  cluster.tune = [](EngineOptions& options) {
    options.snapshot_entries = 0;
    options.snapshot_log_bytes = 4096;
  };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        const std::string padding(300, 'p');
        for (int i = 0; i < 30; ++i) {  // 30 x ~300 B: two snapshots' worth
          const ProposeResult result =
              co_await cluster.propose_to_leader(here, kGroup, command(i) + padding);
          const auto* committed = std::get_if<Committed>(&result);
          EXPECT_NE(committed, nullptr) << "proposal " << i;
          if (committed == nullptr) break;
          last = std::max(last, committed->index);
          acknowledged.push_back(command(i) + padding);
        }
        co_await poll(cluster, here, NodeId(1),
                      [](ShardEngine& engine) { return engine.stats().snapshots_taken >= 2; });
        co_await cluster.on_node(here, NodeId(1), [&](ShardEngine* engine) {
          // 4096 B is ~14 entries of ~300 B: the first snapshot came long before 30 entries.
          EXPECT_GT(compaction_point(*engine), LogIndex{0});
          EXPECT_LT(compaction_point(*engine), last);
        });
        co_await cluster.wait_applied(here, NodeId(1), kGroup, last);
        EXPECT_EQ(co_await applied(cluster, here, NodeId(1)), acknowledged);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// snapshot_now on `node`, started in the background: `taken` is set and `done` counted down when
// it ends.
Task<void> snapshot_in_background(Cluster& cluster, Shard& here, NodeId node,
                                  Result<LogIndex>& taken, Latch& done) {
  taken = co_await cluster.snapshot_now(here, node, kGroup);
  done.count_down();
}

// A state machine with views (StateMachine::snapshot_view) is snapshotted over many turns: while
// its view is held, the group commits and applies; the snapshot is of the index it started at,
// and a restart restores it and replays the rest.
TEST(Snapshot, AViewIsWrittenInStepsWhileTheGroupCommitsAndApplies) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        co_await replicate(cluster, here, 0, 5, acknowledged, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        co_await cluster.wait_applied(here, leader, kGroup, last);
        const LogIndex before = last;
        co_await cluster.on_machine(here, leader, [](RecordingStateMachine* machine) {
          machine->stepped_snapshots = true;
          machine->hold_views = true;
        });
        Result<LogIndex> taken = Error(ErrorCode::kCancelled, "not ended");
        Latch snapshot_done(1);
        here.spawn(snapshot_in_background(cluster, here, leader, taken, snapshot_done));

        // The view is held: the group goes on committing, and the leader applying.
        co_await replicate(cluster, here, 5, 20, acknowledged, last);
        co_await cluster.wait_applied(here, leader, kGroup, last);
        EXPECT_EQ(snapshot_done.count(), 1u) << "the snapshot ended while its view was held";
        uint64_t held_steps = 0;
        co_await cluster.on_machine(here, leader, [&](RecordingStateMachine* machine) {
          held_steps = machine->view_steps;
          machine->hold_views = false;
        });
        EXPECT_GT(held_steps, 1u);
        co_await snapshot_done.wait();
        EXPECT_TRUE(taken.ok()) << taken.error().message();
        if (!taken.ok()) {
          co_await cluster.stop_all(here);
          co_return;
        }
        EXPECT_GE(taken.value(), before);
        EXPECT_LT(taken.value(), last);  // the index it started at, not the one it ended at
        co_await cluster.on_node(here, leader, [&](ShardEngine* engine) {
          EXPECT_GT(engine->stats().snapshot_steps_deferred, held_steps / 2);
          EXPECT_EQ(engine->stats().snapshots_taken, 1u);
        });

        // Restarted, the node restores that image and replays the log after it.
        co_await cluster.stop(here, static_cast<uint32_t>(leader.value() - 1));
        const Result<void> restarted =
            co_await cluster.start(here, static_cast<uint32_t>(leader.value() - 1));
        EXPECT_TRUE(restarted.ok()) << restarted.error().message();
        co_await replicate(cluster, here, 25, 2, acknowledged, last);
        co_await cluster.wait_applied(here, leader, kGroup, last);
        co_await cluster.on_machine(here, leader, [&](RecordingStateMachine* machine) {
          EXPECT_EQ(machine->restored_at[kGroup], taken.value());
        });
        EXPECT_EQ(co_await applied(cluster, here, leader), acknowledged);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// A follower is down while the leader compacts past its log; back up, it gets the snapshot
// in chunks, restores from it, and applies what follows. `drop_every`: chunks lost on the way.
void follower_catches_up_from_a_snapshot(uint32_t drop_every) {
  Cluster cluster(3, 1);
  cluster.tune = [](EngineOptions& options) { options.raft.snapshot_chunk_bytes_max = 48; };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        co_await replicate(cluster, here, 0, 5, acknowledged, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        const NodeId behind = a_follower(leader);
        co_await cluster.wait_applied(here, behind, kGroup, last);
        co_await cluster.stop(here, static_cast<uint32_t>(behind.value() - 1));

        co_await replicate(cluster, here, 5, 20, acknowledged, last, behind);
        const Result<LogIndex> taken = co_await cluster.snapshot_now(here, leader, kGroup);
        EXPECT_TRUE(taken.ok()) << taken.error().message();
        co_await replicate(cluster, here, 25, 3, acknowledged, last, behind);

        cluster.network().drop_snapshot_chunks(drop_every);
        const Result<void> started =
            co_await cluster.start(here, static_cast<uint32_t>(behind.value() - 1));
        EXPECT_TRUE(started.ok()) << started.error().message();
        co_await cluster.wait_applied(here, behind, kGroup, last);
        co_await cluster.on_node(here, behind, [&](ShardEngine* engine) {
          EXPECT_EQ(engine->stats().snapshots_installed, 1u);
          EXPECT_GE(compaction_point(*engine), taken.value());
        });
        co_await cluster.on_machine(here, behind, [&](RecordingStateMachine* machine) {
          EXPECT_GE(machine->restored_at[kGroup], taken.value());
        });
        EXPECT_EQ(co_await applied(cluster, here, behind), acknowledged);
        // The image alone is several chunks: the transfer really was chunked.
        EXPECT_GT(cluster.network().snapshot_chunks_delivered(), 3u);
        if (drop_every != 0) {
          EXPECT_GT(cluster.network().snapshot_chunks_dropped(), 0u);
        }
        cluster.network().drop_snapshot_chunks(0);

        // Then it follows the log again, and after a restart starts from the installed file.
        co_await replicate(cluster, here, 28, 4, acknowledged, last);
        co_await cluster.wait_applied(here, behind, kGroup, last);
        EXPECT_EQ(co_await applied(cluster, here, behind), acknowledged);
        co_await cluster.stop(here, static_cast<uint32_t>(behind.value() - 1));
        const Result<void> restarted =
            co_await cluster.start(here, static_cast<uint32_t>(behind.value() - 1));
        EXPECT_TRUE(restarted.ok()) << restarted.error().message();
        co_await cluster.wait_applied(here, behind, kGroup, last);
        EXPECT_EQ(co_await applied(cluster, here, behind), acknowledged);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Snapshot, FollowerBehindTheCompactionPointCatchesUpFromTheSnapshot) {
  follower_catches_up_from_a_snapshot(0);
}

TEST(Snapshot, LostSnapshotChunksAreResentAndTheTransferResumes) {
  follower_catches_up_from_a_snapshot(3);
}

TEST(Snapshot, DamagedNewestSnapshotFallsBackToTheOlderOneAndReplaysTheLogAfterIt) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        co_await replicate(cluster, here, 0, 10, acknowledged, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        const NodeId node = a_follower(leader);
        co_await cluster.wait_applied(here, node, kGroup, last);
        const Result<LogIndex> older = co_await cluster.snapshot_now(here, node, kGroup);
        EXPECT_TRUE(older.ok());
        const std::vector<std::filesystem::path> first = snapshot_files(cluster.directory(node));
        EXPECT_EQ(first.size(), 1u);
        if (first.size() != 1) co_return co_await cluster.stop_all(here);
        const std::filesystem::path kept = first[0].string() + ".kept";
        std::filesystem::copy_file(first[0], kept);

        co_await replicate(cluster, here, 10, 10, acknowledged, last);
        co_await cluster.wait_applied(here, node, kGroup, last);
        const Result<LogIndex> newer = co_await cluster.snapshot_now(here, node, kGroup);
        EXPECT_TRUE(newer.ok());
        co_await cluster.stop(here, static_cast<uint32_t>(node.value() - 1));
        // Two files on disk, the newer one damaged.
        std::filesystem::rename(kept, first[0]);
        const std::vector<std::filesystem::path> both = snapshot_files(cluster.directory(node));
        EXPECT_EQ(both.size(), 2u);
        damage(both.back());

        cluster.network().isolate(node, true);
        const Result<void> started =
            co_await cluster.start(here, static_cast<uint32_t>(node.value() - 1));
        EXPECT_TRUE(started.ok()) << started.error().message();
        co_await cluster.wait_applied(here, node, kGroup, last);
        co_await cluster.on_machine(here, node, [&](RecordingStateMachine* machine) {
          EXPECT_EQ(machine->restored_at[kGroup], older.value());
          EXPECT_EQ(machine->applied_since_start[kGroup], last.value() - older.value().value());
        });
        EXPECT_EQ(co_await applied(cluster, here, node), acknowledged);
        cluster.network().isolate(node, false);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Snapshot, DamagedOnlySnapshotOfACompactedLogIsRefusedWithAClearError) {
  Cluster cluster(3, 1);
  cluster.tune = [](EngineOptions& options) { options.raft.snapshot_chunk_bytes_max = 256; };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        co_await replicate(cluster, here, 0, 3, acknowledged, last);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        const NodeId behind = a_follower(leader);
        co_await cluster.wait_applied(here, behind, kGroup, last);
        co_await cluster.stop(here, static_cast<uint32_t>(behind.value() - 1));
        co_await replicate(cluster, here, 3, 10, acknowledged, last, behind);
        EXPECT_TRUE((co_await cluster.snapshot_now(here, leader, kGroup)).ok());
        // The follower installs the snapshot: its WAL now starts after the snapshot's index.
        EXPECT_TRUE((co_await cluster.start(here, static_cast<uint32_t>(behind.value() - 1))).ok());
        co_await cluster.wait_applied(here, behind, kGroup, last);
        co_await cluster.stop(here, static_cast<uint32_t>(behind.value() - 1));
        const std::vector<std::filesystem::path> files = snapshot_files(cluster.directory(behind));
        EXPECT_EQ(files.size(), 1u);
        if (files.empty()) co_return co_await cluster.stop_all(here);
        damage(files.back());

        const Result<void> started =
            co_await cluster.start(here, static_cast<uint32_t>(behind.value() - 1));
        EXPECT_FALSE(started.ok());
        if (!started.ok()) {
          EXPECT_NE(started.error().message().find("refusing to start"), std::string::npos)
              << started.error().message();
        }
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// The WAL's compaction after a restart must know the pins every group had before it: here
// group 2's log lives only in segments written before the restart, and group 1 fills
// segments and takes a snapshot (a mark that would release them were group 2's pins unknown).
TEST(Snapshot, CompactionAfterARestartKeepsTheLogsOfOtherGroups) {
  Cluster cluster(3, 2);
  cluster.tune = [](EngineOptions& options) {
    options.wal.segment_bytes = uint64_t{64} << 10;
    options.wal.batch_bytes_max = 16u << 10;
  };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const GroupId other(2);
        std::vector<std::string> other_acknowledged;
        LogIndex other_last{0};
        for (int i = 0; i < 20; ++i) {
          const ProposeResult result =
              co_await cluster.propose_to_leader(here, other, "other" + std::to_string(i));
          const auto* committed = std::get_if<Committed>(&result);
          EXPECT_NE(committed, nullptr);
          if (committed == nullptr) co_return co_await cluster.stop_all(here);
          other_last = std::max(other_last, committed->index);
          other_acknowledged.push_back("other" + std::to_string(i));
        }
        const NodeId node(1);
        co_await cluster.wait_applied(here, node, other, other_last);
        co_await cluster.stop(here, 0);
        EXPECT_TRUE((co_await cluster.start(here, 0)).ok());

        std::vector<std::string> acknowledged;
        LogIndex last{0};
        const std::string padding(2000, 'p');
        for (int i = 0; i < 80; ++i) {  // ~160 KB: several 64 KiB segments
          const ProposeResult result =
              co_await cluster.propose_to_leader(here, kGroup, command(i) + padding);
          const auto* committed = std::get_if<Committed>(&result);
          EXPECT_NE(committed, nullptr);
          if (committed == nullptr) co_return co_await cluster.stop_all(here);
          last = std::max(last, committed->index);
        }
        co_await cluster.wait_applied(here, node, kGroup, last);
        EXPECT_TRUE((co_await cluster.snapshot_now(here, node, kGroup)).ok());
        // Group 2's records before the restart pin the oldest segments: known to the WAL,
        // so group 1's snapshot mark cannot release them.
        co_await cluster.on_node(here, node, [&](ShardEngine* engine) {
          EXPECT_GT(engine->wal().group_pinned(other).segments, 0u);
        });
        // One more round trip: a release decided at the mark's durability is done by now.
        co_await replicate(cluster, here, 80, 1, acknowledged, last);

        co_await cluster.stop(here, 0);
        cluster.network().isolate(node, true);
        const Result<void> started = co_await cluster.start(here, 0);
        EXPECT_TRUE(started.ok()) << started.error().message();
        if (started.ok()) {
          co_await cluster.wait_applied(here, node, other, other_last);
          EXPECT_EQ(co_await cluster.applied(here, node, other), other_acknowledged);
        }
        cluster.network().isolate(node, false);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

TEST(Snapshot, SnapshotNowNamesItsErrors) {
  Cluster cluster(3, 1);
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        co_await replicate(cluster, here, 0, 2, acknowledged, last);
        const Result<LogIndex> unknown = co_await cluster.snapshot_now(here, NodeId(1), GroupId(9));
        EXPECT_FALSE(unknown.ok());
        if (!unknown.ok()) {
          EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
        }
        co_await cluster.on_machine(here, NodeId(1), [](RecordingStateMachine* machine) {
          machine->refuse_snapshots = true;
        });
        co_await cluster.wait_applied(here, NodeId(1), kGroup, last);
        const Result<LogIndex> refused = co_await cluster.snapshot_now(here, NodeId(1), kGroup);
        EXPECT_FALSE(refused.ok());
        if (!refused.ok()) {
          EXPECT_EQ(refused.error().code(), ErrorCode::kUnsupported);
        }
        co_await cluster.on_node(here, NodeId(1), [](ShardEngine* engine) {
          EXPECT_EQ(compaction_point(*engine), LogIndex{0});  // nothing compacted
        });
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}

// A follower down since the first election: the leader compacts automatically many times
// while it is away; it comes back with an empty log and catches up from the latest snapshot.
TEST(Snapshot, FollowerDownSinceTheStartCatchesUpThroughAutomaticSnapshots) {
  Cluster cluster(3, 1);
  cluster.tune = [](EngineOptions& options) { options.snapshot_entries = 20; };
  run_on_reactor(
      [&](Shard& here) -> Task<void> {
        co_await cluster.start_all(here);
        const NodeId leader = co_await cluster.wait_leader(here, NodeId(1), kGroup);
        const NodeId behind = a_follower(leader);
        co_await cluster.stop(here, static_cast<uint32_t>(behind.value() - 1));
        std::vector<std::string> acknowledged;
        LogIndex last{0};
        co_await replicate(cluster, here, 0, 80, acknowledged, last, behind);
        EXPECT_TRUE((co_await cluster.start(here, static_cast<uint32_t>(behind.value() - 1))).ok());
        co_await cluster.wait_applied(here, behind, kGroup, last);
        EXPECT_EQ(co_await applied(cluster, here, behind), acknowledged);
        co_await cluster.stop_all(here);
      },
      cluster.reactor_config());
}
}  // namespace
}  // namespace ringraft::replica::testing
