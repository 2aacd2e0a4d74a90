#include "wal/snapshot_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "common/assert.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "reactor/ops.h"
#include "wal/segment.h"

namespace ringraft::wal {

namespace {

constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kSuffix = ".snap";
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr size_t kDigits = 20;
constexpr size_t kCheckChunkBytes = size_t{1} << 20;
constexpr size_t kOffsetContentCrc = 40;
constexpr size_t kOffsetHeaderCrc = 44;

struct Header {
  uint32_t version = kSnapshotVersion;
  GroupId group;
  LogIndex index;
  Term term;
  uint64_t content_bytes = 0;
  uint32_t content_crc = 0;
};

void encode_header(const Header& header, std::byte* out) {
  std::memset(out, 0, kSnapshotHeaderBytes);
  const uint32_t magic = kSnapshotMagic;
  const uint32_t version = header.version;
  const uint64_t fields[] = {header.group.value(), header.index.value(), header.term.value(),
                             header.content_bytes};
  std::memcpy(out, &magic, 4);
  std::memcpy(out + 4, &version, 4);
  std::memcpy(out + 8, fields, sizeof(fields));
  std::memcpy(out + kOffsetContentCrc, &header.content_crc, 4);
  const uint32_t header_crc = crc32c(ConstByteSpan(out, kOffsetHeaderCrc));
  std::memcpy(out + kOffsetHeaderCrc, &header_crc, 4);
}

// The header, or why it is not one.
Result<Header> decode_header(ConstByteSpan bytes, const std::string& path) {
  const auto bad = [&path](std::string_view what) {
    return Error(ErrorCode::kInvalidInput, fmt::format("snapshot {}: {}", path, what));
  };
  if (bytes.size() < kSnapshotHeaderBytes) return bad("shorter than its header");
  uint32_t magic = 0, version = 0, header_crc = 0;
  uint64_t fields[4] = {};
  std::memcpy(&magic, bytes.data(), 4);
  std::memcpy(&version, bytes.data() + 4, 4);
  std::memcpy(fields, bytes.data() + 8, sizeof(fields));
  std::memcpy(&header_crc, bytes.data() + kOffsetHeaderCrc, 4);
  if (magic != kSnapshotMagic) return bad(fmt::format("bad magic {:#010x}", magic));
  if (version != kSnapshotVersion && version != kSnapshotVersionNoMembership) {
    return bad(fmt::format("unknown version {}", version));
  }
  if (header_crc != crc32c(bytes.first(kOffsetHeaderCrc))) return bad("header CRC mismatch");
  Header header;
  header.version = version;
  header.group = GroupId(fields[0]);
  header.index = LogIndex(fields[1]);
  header.term = Term(fields[2]);
  header.content_bytes = fields[3];
  std::memcpy(&header.content_crc, bytes.data() + kOffsetContentCrc, 4);
  return header;
}

// The configuration section of a version-2 file (see the header comment).
constexpr size_t kMembershipCountsBytes = 8;
size_t membership_section_bytes(size_t member_count) {
  return kMembershipCountsBytes + member_count * sizeof(uint64_t) + sizeof(uint32_t);
}

std::vector<std::byte> encode_membership(const SnapshotMembership& membership) {
  const size_t members = membership.voters.size() + membership.learners.size();
  RR_ASSERT_MSG(members <= kSnapshotMembersMax, "a snapshot configuration beyond its bound");
  std::vector<std::byte> out(membership_section_bytes(members));
  const uint32_t counts[] = {static_cast<uint32_t>(membership.voters.size()),
                             static_cast<uint32_t>(membership.learners.size())};
  std::memcpy(out.data(), counts, sizeof(counts));
  size_t offset = kMembershipCountsBytes;
  for (const std::vector<NodeId>* ids : {&membership.voters, &membership.learners}) {
    for (NodeId id : *ids) {
      const uint64_t value = id.value();
      std::memcpy(out.data() + offset, &value, sizeof(value));
      offset += sizeof(value);
    }
  }
  const uint32_t section_crc = crc32c(ConstByteSpan(out).first(offset));
  std::memcpy(out.data() + offset, &section_crc, sizeof(section_crc));
  RR_ASSERT(offset + sizeof(section_crc) == out.size());
  return out;
}

// The ids of a section whose counts (its first 8 bytes) were read already and bounded.
Result<SnapshotMembership> decode_membership(ConstByteSpan section, uint32_t voter_count,
                                             const std::string& path) {
  const size_t ids_end = section.size() - sizeof(uint32_t);
  uint32_t section_crc = 0;
  std::memcpy(&section_crc, section.data() + ids_end, sizeof(section_crc));
  if (section_crc != crc32c(section.first(ids_end))) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("snapshot {}: configuration CRC mismatch", path));
  }
  SnapshotMembership membership;
  for (size_t offset = kMembershipCountsBytes, i = 0; offset < ids_end; offset += 8, ++i) {
    uint64_t value = 0;
    std::memcpy(&value, section.data() + offset, sizeof(value));
    (i < voter_count ? membership.voters : membership.learners).push_back(NodeId(value));
  }
  return membership;
}

// Reads a version-2 file's configuration section into `scratch` (large enough for the
// biggest one); the content starts right after it.
Task<Result<SnapshotMembership>> read_membership(Io& io, int fd, ByteSpan scratch,
                                                 const std::string& path) {
  RR_ASSERT(scratch.size() >= membership_section_bytes(kSnapshotMembersMax));
  const auto short_file = [&path] {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("snapshot {}: ends inside its configuration", path));
  };
  const IoResult counts_read =
      co_await ops::read_exact(io, fd, scratch.first(kMembershipCountsBytes), kSnapshotHeaderBytes);
  if (!counts_read.ok()) co_return Error::from_errno(counts_read.error(), "reading " + path);
  if (counts_read.bytes() != kMembershipCountsBytes) co_return short_file();
  uint32_t counts[2] = {};
  std::memcpy(counts, scratch.data(), sizeof(counts));
  if (uint64_t{counts[0]} + counts[1] > kSnapshotMembersMax) {
    co_return Error(ErrorCode::kInvalidInput,
                    fmt::format("snapshot {}: {} voters and {} learners exceed the bound {}", path,
                                counts[0], counts[1], kSnapshotMembersMax));
  }
  const size_t section_bytes = membership_section_bytes(size_t{counts[0]} + counts[1]);
  const IoResult rest_read =
      co_await ops::read_exact(io, fd, scratch.first(section_bytes).subspan(kMembershipCountsBytes),
                               kSnapshotHeaderBytes + kMembershipCountsBytes);
  if (!rest_read.ok()) co_return Error::from_errno(rest_read.error(), "reading " + path);
  if (rest_read.bytes() != section_bytes - kMembershipCountsBytes) co_return short_file();
  co_return decode_membership(ConstByteSpan(scratch).first(section_bytes), counts[0], path);
}

std::optional<uint64_t> parse_digits(std::string_view digits) {
  uint64_t value = 0;
  if (digits.size() != kDigits) return std::nullopt;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

Error io_error(const IoResult& result, std::string context) {
  return Error::from_errno(result.error(), std::move(context));
}

// Reads the whole file back and checks header, name, length and content CRC.
Task<Result<SnapshotInfo>> check_snapshot(Io& io, int directory_fd, const std::string& directory,
                                          const std::string& name, GroupId group, LogIndex index) {
  const std::string path = directory + "/" + name;
  const IoResult opened =
      co_await ops::openat(io, directory_fd, name.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (!opened.ok()) co_return io_error(opened, "opening snapshot " + path);
  const FileDescriptor fd(opened.value);
  std::vector<std::byte> bytes(kCheckChunkBytes);
  const IoResult head =
      co_await ops::read_exact(io, fd.get(), ByteSpan(bytes).first(kSnapshotHeaderBytes), 0);
  if (!head.ok()) co_return io_error(head, "reading snapshot " + path);
  Result<Header> header = decode_header(ConstByteSpan(bytes).first(head.bytes()), path);
  if (!header.ok()) co_return header.error();
  if (header.value().group != group || header.value().index != index) {
    co_return Error(ErrorCode::kInvalidInput,
                    fmt::format("snapshot {}: its header says group {} index {}", path,
                                header.value().group.value(), header.value().index.value()));
  }
  SnapshotInfo info;
  info.group = group;
  info.index = index;
  info.term = header.value().term;
  info.content_bytes = header.value().content_bytes;
  info.path = path;
  if (header.value().version == kSnapshotVersion) {
    Result<SnapshotMembership> membership = co_await read_membership(io, fd.get(), bytes, path);
    if (!membership.ok()) co_return membership.error();
    info.content_offset_bytes =
        kSnapshotHeaderBytes + membership_section_bytes(membership.value().voters.size() +
                                                        membership.value().learners.size());
    info.membership = std::move(membership).value();
  }
  uint32_t crc = 0;
  uint64_t offset = info.content_offset_bytes;
  const uint64_t end = info.content_offset_bytes + header.value().content_bytes;
  for (;;) {
    // One byte past the content too: a longer file is as wrong as a shorter one.
    const size_t chunk =
        static_cast<size_t>(std::min<uint64_t>(kCheckChunkBytes, end + 1 - offset));
    const IoResult read =
        co_await ops::read_exact(io, fd.get(), ByteSpan(bytes).first(chunk), offset);
    if (!read.ok()) co_return io_error(read, "reading snapshot " + path);
    const size_t content = static_cast<size_t>(std::min<uint64_t>(read.bytes(), end - offset));
    crc = crc32c_extend(crc, ConstByteSpan(bytes).first(content));
    offset += read.bytes();
    if (read.bytes() < chunk || offset > end) break;
  }
  if (offset != end) {
    co_return Error(ErrorCode::kInvalidInput,
                    fmt::format("snapshot {}: {} content bytes where the header says {}", path,
                                offset - info.content_offset_bytes, header.value().content_bytes));
  }
  if (crc != header.value().content_crc) {
    co_return Error(ErrorCode::kInvalidInput,
                    fmt::format("snapshot {}: content CRC mismatch", path));
  }
  co_return info;
}

struct Listed {
  std::vector<std::tuple<GroupId, LogIndex, std::string>> snapshots;
  std::vector<std::string> leftovers;  // .tmp files
};

Result<Listed> list_directory(const std::string& directory) {
  DIR* listing = ::opendir(directory.c_str());
  if (listing == nullptr) {
    return Error::from_errno(errno, fmt::format("listing snapshot directory {}", directory));
  }
  Listed listed;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name(entry->d_name);
    if (auto parsed = parse_snapshot_file_name(name)) {
      listed.snapshots.emplace_back(parsed->first, parsed->second, std::string(name));
    } else if (name.ends_with(kTmpSuffix) &&
               parse_snapshot_file_name(name.substr(0, name.size() - kTmpSuffix.size()))) {
      listed.leftovers.emplace_back(name);
    }
  }
  ::closedir(listing);
  // Newest first within each group.
  std::sort(listed.snapshots.begin(), listed.snapshots.end(), [](const auto& a, const auto& b) {
    return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) < std::get<0>(b)
                                            : std::get<1>(a) > std::get<1>(b);
  });
  return listed;
}

}  // namespace

std::string snapshot_file_name(GroupId group, LogIndex index) {
  return fmt::format("{}{:020}-{:020}{}", kPrefix, group.value(), index.value(), kSuffix);
}

std::optional<std::pair<GroupId, LogIndex>> parse_snapshot_file_name(std::string_view name) {
  if (name.size() != kPrefix.size() + kDigits + 1 + kDigits + kSuffix.size()) return std::nullopt;
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  if (name[kPrefix.size() + kDigits] != '-') return std::nullopt;
  const std::optional<uint64_t> group = parse_digits(name.substr(kPrefix.size(), kDigits));
  const std::optional<uint64_t> index =
      parse_digits(name.substr(kPrefix.size() + kDigits + 1, kDigits));
  if (!group || !index) return std::nullopt;
  return std::pair{GroupId(*group), LogIndex(*index)};
}

SnapshotWriter::SnapshotWriter(Io& io, const std::string& directory, FileDescriptor directory_fd,
                               FileDescriptor fd, SnapshotInfo info)
    : io_(io),
      directory_(directory),
      directory_fd_(std::move(directory_fd)),
      fd_(std::move(fd)),
      info_(std::move(info)) {}

SnapshotWriter::~SnapshotWriter() = default;

Task<Result<std::unique_ptr<SnapshotWriter>>> SnapshotWriter::create(
    Io& io, const std::string& directory, GroupId group, LogIndex index, Term term,
    std::optional<SnapshotMembership> membership) {
  if (membership.has_value() &&
      membership->voters.size() + membership->learners.size() > kSnapshotMembersMax) {
    co_return Error(ErrorCode::kInvalidInput,
                    fmt::format("snapshot of group {}: a configuration of more than {} members",
                                group.value(), kSnapshotMembersMax));
  }
  Result<FileDescriptor> directory_fd = co_await open_directory(io, directory);
  if (!directory_fd.ok()) co_return directory_fd.error();
  const std::string name = snapshot_file_name(group, index);
  const std::string tmp_name = name + std::string(kTmpSuffix);
  // O_TRUNC: a leftover of an earlier attempt at the same snapshot is started over.
  const IoResult opened = co_await ops::openat(io, directory_fd.value().get(), tmp_name.c_str(),
                                               O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (!opened.ok()) {
    co_return io_error(opened, fmt::format("creating snapshot {}/{}", directory, tmp_name));
  }
  SnapshotInfo info;
  info.group = group;
  info.index = index;
  info.term = term;
  info.path = directory + "/" + name;
  if (membership.has_value()) {
    info.content_offset_bytes =
        kSnapshotHeaderBytes +
        membership_section_bytes(membership->voters.size() + membership->learners.size());
    info.membership = std::move(membership);
  }
  co_return std::unique_ptr<SnapshotWriter>(
      new SnapshotWriter(io, directory, std::move(directory_fd).value(),
                         FileDescriptor(opened.value), std::move(info)));
}

Task<Result<void>> SnapshotWriter::append(ConstByteSpan chunk) {
  RR_ASSERT_MSG(!done_, "SnapshotWriter::append after finish or abort");
  const IoResult wrote =
      co_await ops::write_all(io_, fd_.get(), chunk, info_.content_offset_bytes + content_bytes_);
  if (!wrote.ok()) co_return io_error(wrote, fmt::format("writing snapshot {}.tmp", info_.path));
  content_crc_ = crc32c_extend(content_crc_, chunk);
  content_bytes_ += chunk.size();
  co_return Result<void>{};
}

Task<Result<SnapshotInfo>> SnapshotWriter::finish() {
  RR_ASSERT_MSG(!done_, "SnapshotWriter::finish twice");
  done_ = true;
  const std::string tmp_path = info_.path + std::string(kTmpSuffix);
  Header header;
  header.version = info_.membership.has_value() ? kSnapshotVersion : kSnapshotVersionNoMembership;
  header.group = info_.group;
  header.index = info_.index;
  header.term = info_.term;
  header.content_bytes = content_bytes_;
  header.content_crc = content_crc_;
  // The header and the configuration before the content: one write.
  std::vector<std::byte> bytes(kSnapshotHeaderBytes);
  encode_header(header, bytes.data());
  if (info_.membership.has_value()) {
    const std::vector<std::byte> section = encode_membership(*info_.membership);
    bytes.insert(bytes.end(), section.begin(), section.end());
  }
  RR_ASSERT(bytes.size() == info_.content_offset_bytes);
  const IoResult wrote = co_await ops::write_all(io_, fd_.get(), ConstByteSpan(bytes), 0);
  if (!wrote.ok()) co_return io_error(wrote, "writing the header of snapshot " + tmp_path);
  const IoResult synced = co_await ops::fsync(io_, fd_.get());
  if (!synced.ok()) co_return io_error(synced, "fsync of snapshot " + tmp_path);
  const IoResult closed = co_await ops::close(io_, fd_.release());
  if (!closed.ok()) co_return io_error(closed, "closing snapshot " + tmp_path);
  const std::string name = snapshot_file_name(info_.group, info_.index);
  const std::string tmp_name = name + std::string(kTmpSuffix);
  if (::renameat(directory_fd_.get(), tmp_name.c_str(), directory_fd_.get(), name.c_str()) != 0) {
    co_return Error::from_errno(errno, fmt::format("renaming {} to {}", tmp_path, info_.path));
  }
  const IoResult directory_synced = co_await ops::fsync(io_, directory_fd_.get());
  if (!directory_synced.ok()) {
    co_return io_error(directory_synced, "fsync of snapshot directory " + directory_);
  }
  info_.content_bytes = content_bytes_;
  // The new snapshot is durable: the older ones of the group may go.
  if (Result<void> removed = remove_older(); !removed.ok()) co_return removed.error();
  const IoResult removed_synced = co_await ops::fsync(io_, directory_fd_.get());
  if (!removed_synced.ok()) {
    co_return io_error(removed_synced, "fsync of snapshot directory " + directory_);
  }
  co_return info_;
}

Result<void> SnapshotWriter::remove_older() const {
  Result<Listed> listed = list_directory(directory_);
  if (!listed.ok()) return listed.error();
  for (const auto& [group, index, name] : listed.value().snapshots) {
    if (group != info_.group || index >= info_.index) continue;
    if (::unlinkat(directory_fd_.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
      return Error::from_errno(errno, fmt::format("deleting old snapshot {}/{}", directory_, name));
    }
  }
  return {};
}

Task<void> SnapshotWriter::abort() {
  if (done_) co_return;
  done_ = true;
  const IoResult closed = co_await ops::close(io_, fd_.release());
  (void)closed;  // the file is deleted either way
  const std::string tmp_name =
      snapshot_file_name(info_.group, info_.index) + std::string(kTmpSuffix);
  if (::unlinkat(directory_fd_.get(), tmp_name.c_str(), 0) != 0) {
    RR_LOG_WARN("snapshot {}.tmp could not be deleted: {}", info_.path,
                Error::from_errno(errno, "unlinkat").message());
  }
}

Task<Result<std::map<GroupId, SnapshotInfo>>> load_snapshots(Io& io, const std::string& directory) {
  Result<Listed> listed = list_directory(directory);
  if (!listed.ok()) co_return listed.error();
  Result<FileDescriptor> directory_fd = co_await open_directory(io, directory);
  if (!directory_fd.ok()) co_return directory_fd.error();
  for (const std::string& leftover : listed.value().leftovers) {
    RR_LOG_INFO("deleting unfinished snapshot {}/{} (a crash while it was written)", directory,
                leftover);
    if (::unlinkat(directory_fd.value().get(), leftover.c_str(), 0) != 0 && errno != ENOENT) {
      co_return Error::from_errno(errno, fmt::format("deleting {}/{}", directory, leftover));
    }
  }
  std::map<GroupId, SnapshotInfo> newest;
  for (const auto& [group, index, name] : listed.value().snapshots) {
    if (newest.contains(group)) continue;  // a newer valid one was found
    Result<SnapshotInfo> checked =
        co_await check_snapshot(io, directory_fd.value().get(), directory, name, group, index);
    if (!checked.ok()) {
      if (checked.error().code() != ErrorCode::kInvalidInput) co_return checked.error();
      RR_LOG_WARN("skipping a damaged snapshot ({}); using the next older one of group {}",
                  checked.error().context(), group.value());
      continue;
    }
    newest.emplace(group, std::move(checked).value());
  }
  co_return newest;
}

Task<Result<SnapshotReader>> SnapshotReader::open(Io& io, const SnapshotInfo& info) {
  const IoResult opened =
      co_await ops::openat(io, AT_FDCWD, info.path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (!opened.ok()) co_return io_error(opened, "opening snapshot " + info.path);
  co_return SnapshotReader(io, FileDescriptor(opened.value), info.content_offset_bytes,
                           info.content_bytes);
}

Task<Result<size_t>> SnapshotReader::read(ByteSpan into) {
  const size_t wanted =
      static_cast<size_t>(std::min<uint64_t>(into.size(), content_bytes_ - offset_bytes_));
  if (wanted == 0) co_return size_t{0};
  const IoResult read = co_await ops::read_exact(*io_, fd_.get(), into.first(wanted),
                                                 content_offset_bytes_ + offset_bytes_);
  if (!read.ok()) co_return io_error(read, "reading snapshot content");
  if (read.bytes() != wanted) {
    co_return Error(ErrorCode::kInvalidInput, "snapshot content ends before its header says");
  }
  offset_bytes_ += wanted;
  co_return wanted;
}

}  // namespace ringraft::wal
