// Snapshot files: write, load, a corrupt newest one skipped, older ones removed, leftovers.
#include "wal/snapshot_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

std::vector<std::byte> random_content(uint32_t seed, size_t size_bytes) {
  std::mt19937 random(seed);
  std::vector<std::byte> bytes(size_bytes);
  for (std::byte& b : bytes) b = std::byte(static_cast<uint8_t>(random()));
  return bytes;
}

// Writes `content` as the snapshot of `group` at `index`, in chunks of 10 000 bytes.
Task<Result<SnapshotInfo>> write_snapshot(Io& io, const std::string& directory, GroupId group,
                                          LogIndex index, Term term,
                                          const std::vector<std::byte>& content,
                                          std::optional<SnapshotMembership> membership = {}) {
  Result<std::unique_ptr<SnapshotWriter>> writer =
      co_await SnapshotWriter::create(io, directory, group, index, term, std::move(membership));
  if (!writer.ok()) co_return writer.error();
  for (size_t offset = 0; offset < content.size(); offset += 10000) {
    const size_t chunk = std::min<size_t>(10000, content.size() - offset);
    Result<void> appended =
        co_await writer.value()->append(ConstByteSpan(content).subspan(offset, chunk));
    if (!appended.ok()) co_return appended.error();
  }
  co_return co_await writer.value()->finish();
}

Task<std::vector<std::byte>> read_content(Io& io, const SnapshotInfo& info) {
  std::vector<std::byte> content;
  Result<SnapshotReader> reader = co_await SnapshotReader::open(io, info);
  if (!reader.ok()) co_return content;
  std::vector<std::byte> chunk(7000);
  for (;;) {
    Result<size_t> read = co_await reader.value().read(chunk);
    if (!read.ok() || read.value() == 0) break;
    content.insert(content.end(), chunk.begin(),
                   chunk.begin() + static_cast<ptrdiff_t>(read.value()));
  }
  co_return content;
}

std::set<std::string> file_names(const TempDir& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

TEST(SnapshotFile, NamesRoundTrip) {
  EXPECT_EQ(snapshot_file_name(GroupId(7), LogIndex(100)),
            "snapshot-00000000000000000007-00000000000000000100.snap");
  EXPECT_EQ(parse_snapshot_file_name("snapshot-00000000000000000007-00000000000000000100.snap"),
            std::pair(GroupId(7), LogIndex(100)));
  EXPECT_FALSE(parse_snapshot_file_name("snapshot-7-100.snap"));
  EXPECT_FALSE(
      parse_snapshot_file_name("snapshot-00000000000000000007-00000000000000000100.snap.tmp"));
}

TEST(SnapshotFile, WrittenSnapshotLoadsAndReadsBack) {
  TempDir dir;
  const uint32_t seed = 11;
  std::cout << "seed " << seed << "\n";
  const std::vector<std::byte> content = random_content(seed, 123457);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Result<SnapshotInfo> written =
        co_await write_snapshot(shard.io(), dir.path(), GroupId(3), LogIndex(42), Term(5), content);
    RR_CO_ASSERT_TRUE(written.ok());
    EXPECT_EQ(written.value().content_bytes, content.size());
    auto loaded = co_await load_snapshots(shard.io(), dir.path());
    RR_CO_ASSERT_TRUE(loaded.ok() && loaded.value().size() == 1);
    const SnapshotInfo& info = loaded.value().at(GroupId(3));
    EXPECT_EQ(info.index, LogIndex(42));
    EXPECT_EQ(info.term, Term(5));
    EXPECT_EQ(info.content_bytes, content.size());
    EXPECT_EQ(co_await read_content(shard.io(), info), content);
  });
}

// Version 2 records the configuration before the content; a version-1 file (written without
// one) still loads, with none.
TEST(SnapshotFile, ConfigurationLoadsBackAndAVersionOneFileHasNone) {
  TempDir dir;
  const uint32_t seed = 12;
  std::cout << "seed " << seed << "\n";
  const std::vector<std::byte> content = random_content(seed, 30001);
  SnapshotMembership membership;
  membership.voters = {NodeId(1), NodeId(2), NodeId(4)};
  membership.learners = {NodeId(7)};
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Result<SnapshotInfo> with = co_await write_snapshot(shard.io(), dir.path(), GroupId(1),
                                                        LogIndex(9), Term(2), content, membership);
    RR_CO_ASSERT_TRUE(with.ok());
    Result<SnapshotInfo> without =
        co_await write_snapshot(shard.io(), dir.path(), GroupId(2), LogIndex(9), Term(2), content);
    RR_CO_ASSERT_TRUE(without.ok());
    auto loaded = co_await load_snapshots(shard.io(), dir.path());
    RR_CO_ASSERT_TRUE(loaded.ok() && loaded.value().size() == 2);
    const SnapshotInfo& v2 = loaded.value().at(GroupId(1));
    EXPECT_EQ(v2.membership, std::optional<SnapshotMembership>(membership));
    EXPECT_GT(v2.content_offset_bytes, kSnapshotHeaderBytes);
    EXPECT_EQ(co_await read_content(shard.io(), v2), content);
    const SnapshotInfo& v1 = loaded.value().at(GroupId(2));
    EXPECT_FALSE(v1.membership.has_value());
    EXPECT_EQ(v1.content_offset_bytes, kSnapshotHeaderBytes);
    EXPECT_EQ(co_await read_content(shard.io(), v1), content);
  });
  std::ifstream v1_file(dir.path() + "/" + snapshot_file_name(GroupId(2), LogIndex(9)),
                        std::ios::binary);
  char header[8] = {};
  v1_file.read(header, sizeof(header));
  uint32_t version = 0;
  std::memcpy(&version, header + 4, 4);
  EXPECT_EQ(version, kSnapshotVersionNoMembership);
}

TEST(SnapshotFile, OlderSnapshotsAreRemovedOnceANewerOneIsDurable) {
  TempDir dir;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    for (uint64_t index : {10, 20, 30}) {
      RR_CO_ASSERT_TRUE((co_await write_snapshot(shard.io(), dir.path(), GroupId(1),
                                                 LogIndex(index), Term(1), random_content(1, 500)))
                            .ok());
    }
    RR_CO_ASSERT_TRUE((co_await write_snapshot(shard.io(), dir.path(), GroupId(2), LogIndex(15),
                                               Term(1), random_content(2, 500)))
                          .ok());
  });
  EXPECT_EQ(file_names(dir), (std::set<std::string>{snapshot_file_name(GroupId(1), LogIndex(30)),
                                                    snapshot_file_name(GroupId(2), LogIndex(15))}));
}

TEST(SnapshotFile, CorruptNewestIsSkippedForTheNextValidOne) {
  for (const bool truncate : {false, true}) {
    TempDir dir;
    const std::vector<std::byte> old_content = random_content(3, 40000);
    std::vector<std::byte> old_file;
    std::string new_path;
    run_on_reactor([&](Shard& shard) -> Task<void> {
      Result<SnapshotInfo> old_one = co_await write_snapshot(shard.io(), dir.path(), GroupId(1),
                                                             LogIndex(10), Term(1), old_content);
      RR_CO_ASSERT_TRUE(old_one.ok());
      old_file = read_file(old_one.value().path);
      Result<SnapshotInfo> new_one = co_await write_snapshot(
          shard.io(), dir.path(), GroupId(1), LogIndex(20), Term(2), random_content(4, 40000));
      RR_CO_ASSERT_TRUE(new_one.ok());
      new_path = new_one.value().path;
    });
    // Put the older one back (as if the crash came before it was deleted) and damage the newer.
    const std::string old_path = dir.path() + "/" + snapshot_file_name(GroupId(1), LogIndex(10));
    FileDescriptor(::open(old_path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    write_file(old_path, old_file);
    std::vector<std::byte> damaged = read_file(new_path);
    if (truncate) {
      damaged.resize(damaged.size() - 100);
    } else {
      damaged[20000] ^= std::byte{1};
    }
    write_file(new_path, damaged);
    run_on_reactor([&](Shard& shard) -> Task<void> {
      auto loaded = co_await load_snapshots(shard.io(), dir.path());
      RR_CO_ASSERT_TRUE(loaded.ok() && loaded.value().size() == 1);
      const SnapshotInfo& info = loaded.value().at(GroupId(1));
      EXPECT_EQ(info.index, LogIndex(10));
      EXPECT_EQ(info.term, Term(1));
      EXPECT_EQ(co_await read_content(shard.io(), info), old_content);
    });
  }
}

TEST(SnapshotFile, UnfinishedSnapshotIsNotLoadedAndIsDeleted) {
  TempDir dir;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    {
      auto writer =
          co_await SnapshotWriter::create(shard.io(), dir.path(), GroupId(1), LogIndex(5), Term(1));
      RR_CO_ASSERT_TRUE(writer.ok());
      const std::vector<std::byte> content = random_content(5, 1000);
      RR_CO_ASSERT_TRUE((co_await writer.value()->append(content)).ok());
      // Destroyed without finish(): a crash mid-write.
    }
    EXPECT_EQ(file_names(dir).size(), 1u);
    auto loaded = co_await load_snapshots(shard.io(), dir.path());
    RR_CO_ASSERT_TRUE(loaded.ok());
    EXPECT_TRUE(loaded.value().empty());
    EXPECT_TRUE(file_names(dir).empty());
    auto aborted =
        co_await SnapshotWriter::create(shard.io(), dir.path(), GroupId(1), LogIndex(6), Term(1));
    RR_CO_ASSERT_TRUE(aborted.ok());
    co_await aborted.value()->abort();
    EXPECT_TRUE(file_names(dir).empty());
  });
}

}  // namespace
}  // namespace ringraft::wal
