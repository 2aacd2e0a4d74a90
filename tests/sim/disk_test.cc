// SimDisk: durability only after the simulated fsync, in order; what a crash keeps.
#include "tests/sim/disk.h"

#include <gtest/gtest.h>

namespace ringraft::sim {
namespace {

using raft::Entry;
using raft::HardState;

DiskWrite write_of(uint64_t first, uint64_t count, uint64_t term) {
  DiskWrite write;
  write.hard_state = HardState{Term{term}, NodeId{1}, LogIndex{0}};
  for (uint64_t i = 0; i < count; ++i)
    write.entries.push_back(Entry{Term{term}, LogIndex{first + i}, {}});
  return write;
}

TEST(SimDisk, WritesBecomeDurableInOrder) {
  SimDisk disk;
  EXPECT_EQ(disk.write(write_of(1, 2, 1), /*now_ms=*/0, /*fsync_ms=*/10), 10u);
  // A faster fsync issued later still completes after the earlier write.
  EXPECT_EQ(disk.write(write_of(3, 1, 1), 1, 2), 10u);
  EXPECT_TRUE(disk.durable_entries().empty());
  disk.complete_oldest();
  EXPECT_EQ(disk.durable_entries().size(), 2u);
  disk.complete_oldest();
  EXPECT_EQ(disk.durable_entries().size(), 3u);
  EXPECT_FALSE(disk.has_pending());
}

TEST(SimDisk, CrashLosesUnsyncedWrites) {
  SimDisk disk;
  disk.write(write_of(1, 2, 1), 0, 1);
  disk.complete_oldest();
  disk.write(write_of(3, 2, 1), 1, 5);
  disk.write(write_of(5, 1, 2), 1, 5);
  raft::SplitMix64 rng(7);
  EXPECT_EQ(disk.crash(rng, /*flush_percent=*/0), 2u);
  EXPECT_EQ(disk.durable_entries().size(), 2u);
  EXPECT_EQ(disk.durable_hard_state().term, Term{1});
}

TEST(SimDisk, CrashKeepsAnInOrderPrefixOfFlushedWrites) {
  SimDisk disk;
  disk.write(write_of(1, 1, 1), 0, 5);
  disk.write(write_of(2, 1, 2), 0, 5);
  raft::SplitMix64 rng(7);
  EXPECT_EQ(disk.crash(rng, /*flush_percent=*/100), 0u);
  EXPECT_EQ(disk.durable_entries().size(), 2u);
  EXPECT_EQ(disk.durable_hard_state().term, Term{2});
}

TEST(SimDisk, AWriteFromAnEarlierIndexReplacesTheSuffix) {
  SimDisk disk;
  disk.write(write_of(1, 3, 1), 0, 1);
  disk.write(write_of(2, 1, 2), 0, 1);
  disk.complete_oldest();
  disk.complete_oldest();
  ASSERT_EQ(disk.durable_entries().size(), 2u);
  EXPECT_EQ(disk.durable_entries()[1].term, Term{2});
  const raft::InitialState state = disk.durable_state();
  EXPECT_EQ(state.entries.size(), 2u);
}

}  // namespace
}  // namespace ringraft::sim
