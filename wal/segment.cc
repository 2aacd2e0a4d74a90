#include "wal/segment.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "common/assert.h"
#include "reactor/ops.h"

namespace ringraft::wal {

namespace {

constexpr size_t kSeqDigits = 20;  // UINT64_MAX has 20 decimal digits

Error io_error(const IoResult& result, std::string context) {
  return Error::from_errno(result.error(), std::move(context));
}

// The source of every zero-filling write: in .bss, so it costs no allocation and no memory
// until read (zero pages); block-aligned, so that an O_DIRECT segment can be written from it.
alignas(4096) const std::array<std::byte, kZeroFillChunkBytes> kZeroChunk{};

std::optional<Seq> parse_seq_digits(std::string_view digits) {
  if (digits.size() != kSeqDigits) return std::nullopt;
  uint64_t value = 0;
  const char* first = digits.data();
  const char* last = digits.data() + digits.size();
  const auto [end, error] = std::from_chars(first, last, value);
  if (error != std::errc() || end != last) return std::nullopt;
  return Seq(value);
}

}  // namespace

std::string segment_file_name(Seq first_seq) {
  return fmt::format("{:020}{}", first_seq.value(), kSegmentSuffix);
}

std::optional<Seq> parse_segment_file_name(std::string_view name) {
  if (name.size() != kSeqDigits + kSegmentSuffix.size()) return std::nullopt;
  if (name.substr(kSeqDigits) != kSegmentSuffix) return std::nullopt;
  return parse_seq_digits(name.substr(0, kSeqDigits));
}

std::string spare_segment_file_name(Seq stale_below) {
  return fmt::format("{}{:020}{}", kSpareSegmentPrefix, stale_below.value(), kSpareSegmentSuffix);
}

std::optional<Seq> parse_spare_segment_file_name(std::string_view name) {
  if (name.size() != kSpareSegmentPrefix.size() + kSeqDigits + kSpareSegmentSuffix.size())
    return std::nullopt;
  if (!name.starts_with(kSpareSegmentPrefix) || !name.ends_with(kSpareSegmentSuffix))
    return std::nullopt;
  return parse_seq_digits(name.substr(kSpareSegmentPrefix.size(), kSeqDigits));
}

Task<Result<FileDescriptor>> open_directory(Io& io, const std::string& directory) {
  const IoResult fd =
      co_await ops::openat(io, AT_FDCWD, directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (!fd.ok()) co_return io_error(fd, fmt::format("opening WAL directory {}", directory));
  co_return FileDescriptor(fd.value);
}

Task<Result<void>> write_zeros(Io& io, const Segment& segment, uint64_t from, uint64_t to) {
  RR_ASSERT(from <= to && to <= segment.segment_bytes);
  for (uint64_t offset = from; offset < to; offset += kZeroChunk.size()) {
    const size_t chunk_bytes = std::min<uint64_t>(kZeroChunk.size(), to - offset);
    const IoResult wrote = co_await ops::write_all(
        io, segment.fd.get(), ConstByteSpan(kZeroChunk.data(), chunk_bytes), offset);
    if (!wrote.ok()) {
      co_return io_error(
          wrote, fmt::format("zero-filling WAL segment {} at offset {}", segment.path, offset));
    }
  }
  co_return Result<void>{};
}

namespace {

// Creates `name` in the directory (O_EXCL), preallocates it (and fills it, with kZeroes) and
// fsyncs the file.
Task<Result<Segment>> create_full_size(Io& io, int directory_fd, const std::string& directory,
                                       const std::string& name, uint64_t segment_bytes,
                                       SegmentFill fill) {
  RR_ASSERT(segment_bytes > 0);
  Segment segment;
  segment.segment_bytes = segment_bytes;
  segment.path = directory + "/" + name;
  const IoResult fd = co_await ops::openat(io, directory_fd, name.c_str(),
                                           O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
  if (!fd.ok()) co_return io_error(fd, fmt::format("creating WAL segment {}", segment.path));
  segment.fd = FileDescriptor(fd.value);
  const IoResult allocated = co_await ops::fallocate(io, fd.value, 0, 0, segment_bytes);
  if (!allocated.ok()) {
    co_return io_error(allocated, fmt::format("preallocating {} bytes for WAL segment {}",
                                              segment_bytes, segment.path));
  }
  if (fill == SegmentFill::kZeroes) {
    Result<void> filled = co_await write_zeros(io, segment, 0, segment_bytes);
    if (!filled.ok()) co_return filled.error();
  }
  const IoResult synced = co_await ops::fsync(io, fd.value);
  if (!synced.ok())
    co_return io_error(synced, fmt::format("fsync of new WAL segment {}", segment.path));
  co_return segment;
}

Task<Result<void>> sync_directory(Io& io, int directory_fd, const std::string& directory) {
  const IoResult directory_synced = co_await ops::fsync(io, directory_fd);
  if (!directory_synced.ok()) {
    co_return io_error(
        directory_synced,
        fmt::format("fsync of WAL directory {} after creating a segment", directory));
  }
  co_return Result<void>{};
}

}  // namespace

Task<Result<Segment>> create_segment(Io& io, int directory_fd, const std::string& directory,
                                     Seq first_seq, uint64_t segment_bytes) {
  RR_ASSERT(first_seq.value() > 0);
  Result<Segment> segment =
      co_await create_full_size(io, directory_fd, directory, segment_file_name(first_seq),
                                segment_bytes, SegmentFill::kAllocateOnly);
  if (!segment.ok()) co_return segment.error();
  segment.value().first_seq = first_seq;
  Result<void> synced = co_await sync_directory(io, directory_fd, directory);
  if (!synced.ok()) co_return synced.error();
  co_return std::move(segment).value();
}

Task<Result<Segment>> prepare_segment(Io& io, int directory_fd, const std::string& directory,
                                      uint64_t segment_bytes) {
  co_return co_await prepare_segment(io, directory_fd, directory, segment_bytes,
                                     SegmentFill::kAllocateOnly);
}

Task<Result<Segment>> prepare_segment(Io& io, int directory_fd, const std::string& directory,
                                      uint64_t segment_bytes, SegmentFill fill) {
  co_return co_await create_full_size(io, directory_fd, directory,
                                      std::string(kPreparedSegmentName), segment_bytes, fill);
}

Result<void> make_spare_segment(int directory_fd, const std::string& directory, Seq first_seq,
                                Seq stale_below) {
  const std::string name = segment_file_name(first_seq);
  const std::string spare = spare_segment_file_name(stale_below);
  if (::renameat2(directory_fd, name.c_str(), directory_fd, spare.c_str(), RENAME_NOREPLACE) != 0) {
    return Error::from_errno(errno, fmt::format("keeping released WAL segment {}/{} as spare {}",
                                                directory, name, spare));
  }
  return {};
}

Task<Result<Segment>> prepare_from_spare(Io& io, int directory_fd, const std::string& directory,
                                         Seq stale_below, uint64_t segment_bytes) {
  const std::string spare = spare_segment_file_name(stale_below);
  const std::string prepared(kPreparedSegmentName);
  Segment segment;
  segment.segment_bytes = segment_bytes;
  segment.path = directory + "/" + prepared;
  if (::renameat2(directory_fd, spare.c_str(), directory_fd, prepared.c_str(), RENAME_NOREPLACE) !=
      0) {
    co_return Error::from_errno(
        errno, fmt::format("preparing the next WAL segment from spare {}/{}", directory, spare));
  }
  const IoResult fd =
      co_await ops::openat(io, directory_fd, prepared.c_str(), O_RDWR | O_CLOEXEC, 0);
  if (!fd.ok()) co_return io_error(fd, fmt::format("opening WAL segment {}", segment.path));
  segment.fd = FileDescriptor(fd.value);
  struct stat status {};
  if (::fstat(segment.fd.get(), &status) != 0)
    co_return Error::from_errno(errno, "fstat of " + segment.path);
  if (static_cast<uint64_t>(status.st_size) != segment_bytes) {
    co_return Error(ErrorCode::kInvalidInput,
                    fmt::format("spare WAL segment {} is {} bytes, not segment_bytes {}",
                                segment.path, status.st_size, segment_bytes));
  }
  co_return segment;
}

Task<Result<void>> name_prepared_segment(Io& io, int directory_fd, const std::string& directory,
                                         Segment& segment, Seq first_seq) {
  RR_ASSERT(first_seq.value() > 0 && segment.write_offset_bytes == 0);
  const std::string name = segment_file_name(first_seq);
  const std::string path = directory + "/" + name;
  const std::string prepared(kPreparedSegmentName);
  if (::renameat2(directory_fd, prepared.c_str(), directory_fd, name.c_str(), RENAME_NOREPLACE) !=
      0) {
    co_return Error::from_errno(
        errno, fmt::format("creating WAL segment {} from the prepared {}", path, segment.path));
  }
  segment.first_seq = first_seq;
  segment.path = path;
  co_return co_await sync_directory(io, directory_fd, directory);
}

Task<Result<void>> reopen_segment(Io& io, Segment& segment, int open_flags) {
  RR_ASSERT(segment.fd.valid());
  const IoResult fd =
      co_await ops::openat(io, AT_FDCWD, segment.path.c_str(), O_RDWR | O_CLOEXEC | open_flags, 0);
  if (!fd.ok() && fd.error() == EINVAL && (open_flags & O_DIRECT) != 0) {
    co_return Error(
        ErrorCode::kUnsupported,
        fmt::format("the filesystem of {} refuses O_DIRECT (EINVAL); write this WAL "
                    "through the page cache (WalOptions.direct_io = kOff, or kPreferred "
                    "to fall back by itself) or move it to a filesystem that takes "
                    "O_DIRECT",
                    segment.path),
        EINVAL);
  }
  if (!fd.ok()) {
    co_return io_error(
        fd, fmt::format("reopening WAL segment {} with flags {:#x}", segment.path, open_flags));
  }
  segment.fd = FileDescriptor(fd.value);  // closes the descriptor it replaces
  co_return Result<void>{};
}

Task<Result<Segment>> open_segment(Io& io, int directory_fd, const std::string& directory,
                                   Seq first_seq, uint64_t segment_bytes,
                                   uint64_t write_offset_bytes) {
  RR_ASSERT(write_offset_bytes <= segment_bytes);
  Segment segment;
  segment.first_seq = first_seq;
  segment.segment_bytes = segment_bytes;
  segment.write_offset_bytes = write_offset_bytes;
  segment.path = directory + "/" + segment_file_name(first_seq);
  const std::string name = segment_file_name(first_seq);
  const IoResult fd = co_await ops::openat(io, directory_fd, name.c_str(), O_RDWR | O_CLOEXEC, 0);
  if (!fd.ok()) co_return io_error(fd, fmt::format("opening WAL segment {}", segment.path));
  segment.fd = FileDescriptor(fd.value);
  co_return segment;
}

}  // namespace ringraft::wal
