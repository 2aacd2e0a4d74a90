// The log entry of a write command: what the proposer encodes once and every replica applies.
//
// Layout (version 1), little endian, lengths as LEB128 varints of at most 5 bytes:
//   u8 version (1) | u8 op | u8 flags | i64 delta (kIncrBy only) | varint operand_count |
//   operand_count x (varint length_bytes, bytes)
// Operands are the command's keys and values in order, without the command name and options:
// SET k v NX becomes (kSet, kSetIfMissing, [k, v]); INCR, DECR and DECRBY become kIncrBy with
// their delta, so that apply has one increment to get right. The entry carries no client or
// replica state, so applying it is a pure function of the store: every replica computes the same
// reply and the same next state.
//
// Decoding checks the whole entry (bounds, counts, flags, no trailing bytes) once, without
// allocating; OperandCursor then walks the operands as views into the entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "tools/kv/command.h"

namespace ringraft::kv {

inline constexpr uint8_t kWriteEntryVersion = 1;

// Values are stable: they are part of the entry format.
enum class WriteOp : uint8_t { kSet = 1, kDel = 2, kIncrBy = 3, kMSet = 4 };

// SET's options (flags byte). kSetIfMissing and kSetIfPresent exclude each other.
inline constexpr uint8_t kSetIfMissing = 1;  // NX
inline constexpr uint8_t kSetIfPresent = 2;  // XX
inline constexpr uint8_t kSetReturnOld = 4;  // GET: reply with the previous value

// A write command checked and ready to encode: views into the request's arguments.
struct WriteCommand {
  WriteOp op = WriteOp::kSet;
  uint8_t flags = 0;
  int64_t delta = 0;                           // kIncrBy
  std::span<const std::string_view> operands;  // keys and values, in order
  size_t entry_bytes = 0;                      // what encode_write_entry writes
};

// Checks a write command's arguments (name first; `spec.kind` is kWrite and its arity already
// checked by resolve_command) and plans its entry. The error's context is the RESP error text
// to answer; nothing is proposed then.
Result<WriteCommand> plan_write(const CommandSpec& spec,
                                std::span<const std::string_view> arguments);

// Encodes `command` into `out` (out.size() >= command.entry_bytes): returns the bytes written,
// which are exactly command.entry_bytes.
size_t encode_write_entry(const WriteCommand& command, ByteSpan out);

// A decoded entry: the operands stay in the entry's bytes.
struct WriteEntry {
  WriteOp op = WriteOp::kSet;
  uint8_t flags = 0;
  int64_t delta = 0;
  uint32_t operand_count = 0;
  ConstByteSpan operand_bytes;  // operand_count x (varint length, bytes), nothing else
};

// Decodes and checks a whole entry; an error for anything a valid encoder cannot produce.
Result<WriteEntry> decode_write_entry(ConstByteSpan payload);

// Walks a decoded entry's operands.
class OperandCursor {
 public:
  explicit OperandCursor(const WriteEntry& entry) : bytes_(entry.operand_bytes) {}
  // The next operand; the caller reads exactly operand_count of them.
  std::string_view next();

 private:
  ConstByteSpan bytes_;
  size_t offset_ = 0;
};

}  // namespace ringraft::kv
