#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/bytes.h"
#include "reactor/latch.h"
#include "tests/reactor/test_reactor.h"
#include "tests/support/temp_dir.h"

namespace ringraft {
namespace {

using testing::run_on_reactor;
using testing::TempDir;

std::vector<std::byte> pattern_bytes(size_t size, uint8_t seed) {
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; i++) bytes[i] = std::byte(static_cast<uint8_t>(i * 31 + seed));
  return bytes;
}

TEST(File, WriteFdatasyncAndReadBack) {
  TempDir dir;
  const std::string path = dir.file("data");
  const std::vector<std::byte> written = pattern_bytes(64 * 1024, 5);
  std::vector<std::byte> read_back(written.size());
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Io& io = shard.io();
    const IoResult fd =
        co_await ops::openat(io, AT_FDCWD, path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    EXPECT_TRUE(fd.ok()) << fd.message();
    if (!fd.ok()) co_return;
    EXPECT_TRUE((co_await ops::fallocate(io, fd.value, 0, 0, 1 << 20)).ok());
    const IoResult wrote = co_await ops::write_all(io, fd.value, written, 0);
    EXPECT_EQ(wrote.value, static_cast<int32_t>(written.size()));
    const IoResult synced = co_await ops::fdatasync(io, fd.value);
    EXPECT_TRUE(synced.ok()) << synced.message();
    const IoResult read = co_await ops::read_exact(io, fd.value, read_back, 0);
    EXPECT_EQ(read.value, static_cast<int32_t>(read_back.size()));
    EXPECT_TRUE((co_await ops::close(io, fd.value)).ok());
  });
  EXPECT_EQ(read_back, written);
  // And the bytes are really in the file, as another reader sees it.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::vector<std::byte> seen(written.size());
  ASSERT_EQ(::pread(fd.get(), seen.data(), seen.size(), 0), static_cast<ssize_t>(seen.size()));
  EXPECT_EQ(seen, written);
}

TEST(File, WritevGathersAndReadvScatters) {
  TempDir dir;
  const std::string path = dir.file("vector");
  const std::vector<std::byte> a = pattern_bytes(100, 1), b = pattern_bytes(3000, 2),
                               c = pattern_bytes(17, 3);
  std::vector<std::byte> out_a(100), out_b(3000), out_c(17);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Io& io = shard.io();
    FileDescriptor fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    const iovec gather[] = {{const_cast<std::byte*>(a.data()), a.size()},
                            {const_cast<std::byte*>(b.data()), b.size()},
                            {const_cast<std::byte*>(c.data()), c.size()}};
    const IoResult wrote = co_await ops::writev(io, fd.get(), gather, 3, 0);
    EXPECT_EQ(wrote.value, 3117);
    EXPECT_TRUE((co_await ops::fsync(io, fd.get())).ok());
    const iovec scatter[] = {
        {out_a.data(), out_a.size()}, {out_b.data(), out_b.size()}, {out_c.data(), out_c.size()}};
    const IoResult read = co_await ops::readv(io, fd.get(), scatter, 3, 0);
    EXPECT_EQ(read.value, 3117);
  });
  EXPECT_EQ(out_a, a);
  EXPECT_EQ(out_b, b);
  EXPECT_EQ(out_c, c);
}

TEST(File, LinkedWriteAndFdatasync) {
  TempDir dir;
  const std::string path = dir.file("linked");
  const std::vector<std::byte> written = pattern_bytes(16 * 1024, 4);
  LinkedPairAwaiter::Results ok_results, failed_results;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FileDescriptor fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    ok_results = co_await ops::write_fdatasync(shard.io(), fd.get(), written, 4096);
    // A failed write must not be followed by a sync that reports success.
    failed_results = co_await ops::write_fdatasync(shard.io(), 987654, written, 0);
  });
  EXPECT_EQ(ok_results.first.value, static_cast<int32_t>(written.size()));
  EXPECT_EQ(ok_results.second.value, 0);
  EXPECT_EQ(failed_results.first.value, -EBADF);
  EXPECT_EQ(failed_results.second.value, -ECANCELED);
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::vector<std::byte> seen(written.size());
  ASSERT_EQ(::pread(fd.get(), seen.data(), seen.size(), 4096), static_cast<ssize_t>(seen.size()));
  EXPECT_EQ(seen, written);
}

TEST(File, ShortReadAtEndOfFile) {
  TempDir dir;
  const std::string path = dir.file("short");
  const std::vector<std::byte> written = pattern_bytes(1000, 9);
  IoResult plain_read, exact_read;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Io& io = shard.io();
    FileDescriptor fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    EXPECT_EQ((co_await ops::write(io, fd.get(), written, 0)).value, 1000);
    std::vector<std::byte> buffer(4096);
    plain_read = co_await ops::read(io, fd.get(), buffer, 600);
    exact_read = co_await ops::read_exact(io, fd.get(), buffer, 0);
  });
  EXPECT_EQ(plain_read.value, 400);
  EXPECT_EQ(exact_read.value, 1000);
}

TEST(File, ManyWritesInOneTurnAllLand) {
  // 64 writes submitted back to back go to the kernel together; each lands at its offset.
  TempDir dir;
  const std::string path = dir.file("batch");
  constexpr int kWrites = 64;
  constexpr size_t kBlock = 4096;
  int completed = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FileDescriptor fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    Latch all_done(kWrites);
    for (int i = 0; i < kWrites; i++) {
      shard.spawn([](Io& io, int file, int index, int& ok, Latch& done) -> Task<void> {
        const std::vector<std::byte> block = pattern_bytes(kBlock, static_cast<uint8_t>(index));
        const IoResult result = co_await ops::write(io, file, block, index * kBlock);
        if (result.value == static_cast<int32_t>(kBlock)) ok++;
        done.count_down();
      }(shard.io(), fd.get(), i, completed, all_done));
    }
    co_await all_done.wait();
  });
  EXPECT_EQ(completed, kWrites);
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  for (int i = 0; i < kWrites; i++) {
    std::vector<std::byte> seen(kBlock);
    ASSERT_EQ(::pread(fd.get(), seen.data(), kBlock, i * kBlock), static_cast<ssize_t>(kBlock));
    EXPECT_EQ(seen, pattern_bytes(kBlock, static_cast<uint8_t>(i))) << "block " << i;
  }
}

}  // namespace
}  // namespace ringraft
