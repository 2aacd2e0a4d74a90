#include "raft/replica/snapshot_image.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "reactor/ops.h"
#include "reactor/socket.h"

namespace ringraft::replica {

Result<void> ImageWriter::write(ConstByteSpan bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return {};
}

Result<size_t> ImageReader::read(ByteSpan into) {
  const size_t count = std::min(into.size(), bytes_.size() - offset_);
  if (count > 0) std::memcpy(into.data(), bytes_.data() + offset_, count);
  offset_ += count;
  return count;
}

Task<Result<wal::SnapshotInfo>> write_image_file(Io& io, const std::string& directory,
                                                 GroupId group, LogIndex index, Term term,
                                                 std::optional<wal::SnapshotMembership> membership,
                                                 ConstByteSpan image) {
  Result<std::unique_ptr<wal::SnapshotWriter>> created = co_await wal::SnapshotWriter::create(
      io, directory, group, index, term, std::move(membership));
  if (!created) co_return created.error();
  std::unique_ptr<wal::SnapshotWriter> writer = std::move(created).value();
  for (size_t offset = 0; offset < image.size(); offset += kImageWriteBytes) {
    const size_t piece = std::min(kImageWriteBytes, image.size() - offset);
    Result<void> appended = co_await writer->append(image.subspan(offset, piece));
    if (!appended) {
      co_await writer->abort();
      co_return appended.error();
    }
  }
  Result<wal::SnapshotInfo> finished = co_await writer->finish();
  if (!finished) co_await writer->abort();
  co_return finished;
}

Task<Result<std::vector<std::byte>>> read_image_file(Io& io, const wal::SnapshotInfo& info) {
  Result<wal::SnapshotReader> opened = co_await wal::SnapshotReader::open(io, info);
  if (!opened) co_return opened.error();
  wal::SnapshotReader reader = std::move(opened).value();
  std::vector<std::byte> image(info.content_bytes);
  size_t offset = 0;
  while (offset < image.size()) {
    const size_t piece = std::min(kImageWriteBytes, image.size() - offset);
    Result<size_t> read = co_await reader.read(ByteSpan(image).subspan(offset, piece));
    if (!read) co_return read.error();
    if (read.value() == 0) break;
    offset += read.value();
  }
  if (offset != image.size()) {
    co_return Error(ErrorCode::kInvalidInput, "snapshot " + info.path + " ends early");
  }
  co_return image;
}

Task<Result<std::vector<std::byte>>> read_image_range(Io& io, wal::SnapshotInfo info,
                                                      uint64_t offset, uint64_t bytes) {
  if (offset > info.content_bytes || bytes > info.content_bytes - offset) {
    co_return Error(ErrorCode::kInvalidInput, "snapshot range beyond " + info.path);
  }
  std::vector<std::byte> chunk(bytes);
  if (bytes == 0) co_return chunk;
  const IoResult opened =
      co_await ops::openat(io, AT_FDCWD, info.path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (!opened.ok()) co_return Error::from_errno(opened.error(), "opening snapshot " + info.path);
  const FileDescriptor fd(opened.value);
  const IoResult read =
      co_await ops::read_exact(io, fd.get(), chunk, info.content_offset_bytes + offset);
  if (!read.ok()) co_return Error::from_errno(read.error(), "reading snapshot " + info.path);
  if (read.bytes() != bytes) {
    co_return Error(ErrorCode::kInvalidInput, "snapshot " + info.path + " ends early");
  }
  co_return chunk;
}

}  // namespace ringraft::replica
