// SmallTmpfs: a tmpfs of a given size mounted on a fresh directory for one test and unmounted
// afterwards (even when the test fails), for real "no space left on device" errors. Needs root
// (CAP_SYS_ADMIN); when it cannot mount, skip_reason() says why and the test skips.
#pragma once

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "tests/support/temp_dir.h"

namespace ringraft::testing {

class SmallTmpfs {
 public:
  explicit SmallTmpfs(uint64_t size_bytes) {
    if (::geteuid() != 0) {
      skip_reason_ = "mounting a size-limited tmpfs needs root";
      return;
    }
    const std::string options = "size=" + std::to_string(size_bytes);
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) != 0) {
      skip_reason_ = std::string("mount of a tmpfs failed: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallTmpfs() {
    if (mounted_) {
      EXPECT_EQ(::umount2(dir_.path().c_str(), MNT_DETACH), 0) << std::strerror(errno);
    }
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  // Grows (or shrinks) the filesystem in place.
  bool resize(uint64_t size_bytes) {
    const std::string options = "size=" + std::to_string(size_bytes);
    return ::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
  }
  bool mounted() const { return mounted_; }
  const std::string& skip_reason() const { return skip_reason_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string skip_reason_;
};

}  // namespace ringraft::testing
