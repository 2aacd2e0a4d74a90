// Segment files: names that sort by sequence number, and creation at full size.
#include "wal/segment.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/reactor/test_reactor.h"
#include "tests/wal/wal_test_util.h"

namespace ringraft::wal {
namespace {

using ringraft::testing::run_on_reactor;
using testing::TempDir;

TEST(Segment, NamesAreZeroPaddedAndParseBack) {
  EXPECT_EQ(segment_file_name(Seq(1)), "00000000000000000001.wal");
  EXPECT_EQ(segment_file_name(Seq(UINT64_MAX)), "18446744073709551615.wal");
  EXPECT_LT(segment_file_name(Seq(9)), segment_file_name(Seq(10)));
  for (uint64_t seq : {uint64_t{1}, uint64_t{42}, UINT64_MAX}) {
    EXPECT_EQ(parse_segment_file_name(segment_file_name(Seq(seq))), Seq(seq));
  }
}

TEST(Segment, OtherNamesAreNotSegments) {
  for (const char* name :
       {"", ".", "..", "1.wal", "0000000000000000000a.wal", "00000000000000000001.wa",
        "00000000000000000001.wal.tmp", "000000000000000000001.wal", "-0000000000000000001.wal",
        "99999999999999999999.wal"}) {
    EXPECT_FALSE(parse_segment_file_name(name).has_value()) << name;
  }
}

TEST(Segment, CreatedAtFullSizeAndNeverOverwritten) {
  TempDir dir;
  Result<Segment> created = Error(ErrorCode::kNotFound, "not run");
  Result<Segment> again = Error(ErrorCode::kNotFound, "not run");
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Result<FileDescriptor> directory = co_await open_directory(shard.io(), dir.path());
    EXPECT_TRUE(directory.ok());
    if (!directory.ok()) co_return;
    created = co_await create_segment(shard.io(), directory.value().get(), dir.path(), Seq(5),
                                      uint64_t{64} * 1024);
    again = co_await create_segment(shard.io(), directory.value().get(), dir.path(), Seq(5),
                                    uint64_t{64} * 1024);
  });
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_EQ(created.value().path, dir.file("00000000000000000005.wal"));
  EXPECT_EQ(created.value().write_offset_bytes, 0u);
  struct stat status {};
  ASSERT_EQ(::stat(created.value().path.c_str(), &status), 0);
  EXPECT_EQ(static_cast<uint64_t>(status.st_size), uint64_t{64} * 1024);
  EXPECT_GE(static_cast<uint64_t>(status.st_blocks) * 512,
            uint64_t{64} * 1024);  // preallocated, not sparse
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().errno_value(), EEXIST);
  EXPECT_NE(again.error().message().find("00000000000000000005.wal"), std::string::npos);
}

}  // namespace
}  // namespace ringraft::wal
