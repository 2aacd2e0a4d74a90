// Planning, encoding and decoding of write command log entries (see write_entry.h).
#include "tools/kv/write_entry.h"

#include <cstring>
#include <optional>
#include <string>

#include "tools/kv/decimal.h"

namespace ringraft::kv {
namespace {

constexpr size_t kVarintBytesMax = 5;  // a uint32
constexpr size_t kFixedHeaderBytes = 3;

size_t varint_bytes(uint64_t value) {
  size_t bytes = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++bytes;
  }
  return bytes;
}

size_t put_varint(uint32_t value, std::byte* out) {
  size_t written = 0;
  while (value >= 0x80) {
    out[written++] = std::byte(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out[written++] = std::byte(static_cast<uint8_t>(value));
  return written;
}

// A uint32 varint at `offset`; std::nullopt when truncated, longer than 5 bytes or overflowing.
std::optional<uint32_t> get_varint(ConstByteSpan bytes, size_t* offset) {
  uint64_t value = 0;
  for (size_t i = 0; i < kVarintBytesMax && *offset < bytes.size(); ++i) {
    const auto byte = static_cast<uint8_t>(bytes[(*offset)++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (value > UINT32_MAX) return std::nullopt;
      return static_cast<uint32_t>(value);
    }
  }
  return std::nullopt;
}

Error invalid_entry(const std::string& what) {
  return Error(ErrorCode::kInvalidInput, "write entry: " + what);
}

// SET's options after `SET key value`.
Result<uint8_t> parse_set_options(std::span<const std::string_view> options) {
  uint8_t flags = 0;
  for (std::string_view option : options) {
    if (equals_ignoring_case(option, "nx") && (flags & kSetIfPresent) == 0) {
      flags |= kSetIfMissing;
    } else if (equals_ignoring_case(option, "xx") && (flags & kSetIfMissing) == 0) {
      flags |= kSetIfPresent;
    } else if (equals_ignoring_case(option, "get")) {
      flags |= kSetReturnOld;
    } else if (equals_ignoring_case(option, "ex") || equals_ignoring_case(option, "px") ||
               equals_ignoring_case(option, "exat") || equals_ignoring_case(option, "pxat") ||
               equals_ignoring_case(option, "keepttl")) {
      // Expiry needs a clock every replica agrees on; until entries carry one, keys never expire.
      return Error(ErrorCode::kUnsupported,
                   "ERR SET expiry options (EX PX EXAT PXAT KEEPTTL) are not supported: keys do "
                   "not expire in the replicated store");
    } else {
      return syntax_error();
    }
  }
  return flags;
}

Result<int64_t> delta_of(const CommandSpec& spec, std::span<const std::string_view> arguments) {
  switch (spec.id) {
    case CommandId::kIncr:
      return int64_t{1};
    case CommandId::kDecr:
      return int64_t{-1};
    default:
      break;
  }
  const std::optional<int64_t> amount = parse_int64(arguments[2]);
  if (!amount.has_value()) return not_integer_error();
  if (spec.id == CommandId::kIncrBy) return *amount;
  if (*amount == INT64_MIN) return Error(ErrorCode::kInvalidInput, "ERR decrement would overflow");
  return -*amount;
}

size_t entry_bytes_of(const WriteCommand& command) {
  size_t bytes = kFixedHeaderBytes + varint_bytes(command.operands.size());
  if (command.op == WriteOp::kIncrBy) bytes += sizeof(int64_t);
  for (std::string_view operand : command.operands) {
    bytes += varint_bytes(operand.size()) + operand.size();
  }
  return bytes;
}

}  // namespace

Result<WriteCommand> plan_write(const CommandSpec& spec,
                                std::span<const std::string_view> arguments) {
  RR_ASSERT(spec.kind == CommandKind::kWrite && arguments.size() >= 2);
  WriteCommand command;
  command.operands = arguments.subspan(1);
  switch (spec.id) {
    case CommandId::kSet: {
      Result<uint8_t> flags = parse_set_options(arguments.subspan(3));
      if (!flags.ok()) return flags.error();
      command.op = WriteOp::kSet;
      command.flags = flags.value();
      command.operands = arguments.subspan(1, 2);
      break;
    }
    case CommandId::kDel:
      command.op = WriteOp::kDel;
      break;
    case CommandId::kMSet:
      RR_ASSERT(command.operands.size() % 2 == 0);
      command.op = WriteOp::kMSet;
      break;
    case CommandId::kIncr:
    case CommandId::kDecr:
    case CommandId::kIncrBy:
    case CommandId::kDecrBy: {
      Result<int64_t> delta = delta_of(spec, arguments);
      if (!delta.ok()) return delta.error();
      command.op = WriteOp::kIncrBy;
      command.delta = delta.value();
      command.operands = arguments.subspan(1, 1);
      break;
    }
    default:
      RR_UNREACHABLE("a write command without an entry op");
  }
  for (std::string_view operand : command.operands) {
    // The parser's bulk bound keeps arguments far below this; a caller without it is refused.
    if (operand.size() > UINT32_MAX) {
      return Error(ErrorCode::kInvalidInput, "ERR argument larger than 4 GiB");
    }
  }
  command.entry_bytes = entry_bytes_of(command);
  return command;
}

size_t encode_write_entry(const WriteCommand& command, ByteSpan out) {
  RR_ASSERT(out.size() >= command.entry_bytes);
  std::byte* at = out.data();
  *at++ = std::byte{kWriteEntryVersion};
  *at++ = std::byte{static_cast<uint8_t>(command.op)};
  *at++ = std::byte{command.flags};
  if (command.op == WriteOp::kIncrBy) {
    const auto delta = static_cast<uint64_t>(command.delta);
    for (size_t i = 0; i < sizeof(delta); ++i)
      *at++ = std::byte(static_cast<uint8_t>(delta >> (8 * i)));
  }
  at += put_varint(static_cast<uint32_t>(command.operands.size()), at);
  for (std::string_view operand : command.operands) {
    at += put_varint(static_cast<uint32_t>(operand.size()), at);
    if (!operand.empty()) std::memcpy(at, operand.data(), operand.size());
    at += operand.size();
  }
  const auto written = static_cast<size_t>(at - out.data());
  RR_ASSERT(written == command.entry_bytes);
  return written;
}

namespace {

// The operand counts and flags each op allows.
Result<void> check_shape(const WriteEntry& entry) {
  const uint32_t count = entry.operand_count;
  switch (entry.op) {
    case WriteOp::kSet:
      if (count != 2) return invalid_entry("SET needs 2 operands");
      if ((entry.flags & ~(kSetIfMissing | kSetIfPresent | kSetReturnOld)) != 0 ||
          (entry.flags & (kSetIfMissing | kSetIfPresent)) == (kSetIfMissing | kSetIfPresent)) {
        return invalid_entry("bad SET flags " + std::to_string(entry.flags));
      }
      return {};
    case WriteOp::kDel:
      if (count == 0) return invalid_entry("DEL needs a key");
      break;
    case WriteOp::kIncrBy:
      if (count != 1) return invalid_entry("INCRBY needs 1 operand");
      break;
    case WriteOp::kMSet:
      if (count == 0 || count % 2 != 0) return invalid_entry("MSET needs key-value pairs");
      break;
    default:
      return invalid_entry("unknown op " + std::to_string(static_cast<int>(entry.op)));
  }
  if (entry.flags != 0) return invalid_entry("flags on an op without options");
  return {};
}

}  // namespace

Result<WriteEntry> decode_write_entry(ConstByteSpan payload) {
  if (payload.size() < kFixedHeaderBytes) return invalid_entry("shorter than its header");
  if (static_cast<uint8_t>(payload[0]) != kWriteEntryVersion) {
    return invalid_entry("unknown version " + std::to_string(static_cast<int>(payload[0])));
  }
  WriteEntry entry;
  entry.op = static_cast<WriteOp>(payload[1]);
  entry.flags = static_cast<uint8_t>(payload[2]);
  size_t offset = kFixedHeaderBytes;
  if (entry.op == WriteOp::kIncrBy) {
    if (payload.size() < offset + sizeof(uint64_t)) return invalid_entry("truncated delta");
    uint64_t delta = 0;
    for (size_t i = 0; i < sizeof(delta); ++i) {
      delta |= static_cast<uint64_t>(payload[offset + i]) << (8 * i);
    }
    entry.delta = static_cast<int64_t>(delta);
    offset += sizeof(delta);
  }
  const std::optional<uint32_t> count = get_varint(payload, &offset);
  if (!count.has_value()) return invalid_entry("bad operand count");
  entry.operand_count = *count;
  Result<void> shape = check_shape(entry);
  if (!shape.ok()) return shape.error();
  const size_t operands_offset = offset;
  for (uint32_t i = 0; i < entry.operand_count; ++i) {
    const std::optional<uint32_t> length = get_varint(payload, &offset);
    if (!length.has_value() || *length > payload.size() - offset) {
      return invalid_entry("operand " + std::to_string(i) + " runs past the entry");
    }
    offset += *length;
  }
  if (offset != payload.size()) return invalid_entry("trailing bytes");
  entry.operand_bytes = payload.subspan(operands_offset);
  return entry;
}

std::string_view OperandCursor::next() {
  const std::optional<uint32_t> length = get_varint(bytes_, &offset_);
  // decode_write_entry checked every length: a failure here is a caller's extra next().
  RR_ASSERT(length.has_value() && *length <= bytes_.size() - offset_);
  const std::string_view operand(reinterpret_cast<const char*>(bytes_.data()) + offset_, *length);
  offset_ += *length;
  return operand;
}

}  // namespace ringraft::kv
