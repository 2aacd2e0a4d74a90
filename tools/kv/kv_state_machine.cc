// Applying write entries and answering reads (see kv_state_machine.h).
#include "tools/kv/kv_state_machine.h"

#include <optional>

#include "tools/kv/decimal.h"

namespace ringraft::kv {

KvStateMachine::KvStateMachine(const KvLimits& limits) : store_(limits) {}

Result<void> KvStateMachine::apply(ConstByteSpan entry, RespWriter& writer) {
  Result<WriteEntry> decoded = decode_write_entry(entry);
  if (!decoded.ok()) return decoded.error();
  ReplyBuilder reply(writer);
  switch (decoded.value().op) {
    case WriteOp::kSet:
      apply_set(decoded.value(), reply);
      break;
    case WriteOp::kDel:
      apply_del(decoded.value(), reply);
      break;
    case WriteOp::kIncrBy:
      apply_incr_by(decoded.value(), reply);
      break;
    case WriteOp::kMSet:
      apply_mset(decoded.value(), reply);
      break;
  }
  return {};
}

// SET key value [NX|XX] [GET]: OK, or nil when the condition fails; with GET, the old value.
void KvStateMachine::apply_set(const WriteEntry& entry, ReplyBuilder& reply) {
  OperandCursor operands(entry);
  const std::string_view key = operands.next();
  const std::string_view value = operands.next();
  const KvLimits& limits = store_.limits();
  if (key.size() > limits.value_bytes_max || value.size() > limits.value_bytes_max) {
    return reply.error(kValueTooLargeError);
  }
  std::string* old = store_.find_for_update(key);  // the only lookup of an existing key
  const bool condition_holds = ((entry.flags & kSetIfMissing) == 0 || old == nullptr) &&
                               ((entry.flags & kSetIfPresent) == 0 || old != nullptr);
  if (condition_holds && !store_.has_room(store_.cost_of_set(old, key, value))) {
    return reply.error(kOomError);
  }
  // The reply comes first: `old` points into the value that set() replaces.
  if ((entry.flags & kSetReturnOld) != 0) {
    if (old != nullptr) {
      reply.bulk(*old);
    } else {
      reply.null_bulk();
    }
  } else if (condition_holds) {
    reply.simple_string("OK");
  } else {
    reply.null_bulk();
  }
  if (condition_holds) store_.set_found(old, key, value);
}

void KvStateMachine::apply_del(const WriteEntry& entry, ReplyBuilder& reply) {
  OperandCursor operands(entry);
  int64_t erased = 0;
  for (uint32_t i = 0; i < entry.operand_count; ++i) erased += store_.erase(operands.next());
  reply.integer(erased);
}

// INCR, DECR, INCRBY, DECRBY: a missing key counts as 0; the value must be a canonical int64.
void KvStateMachine::apply_incr_by(const WriteEntry& entry, ReplyBuilder& reply) {
  OperandCursor operands(entry);
  const std::string_view key = operands.next();
  if (key.size() > store_.limits().value_bytes_max) return reply.error(kValueTooLargeError);
  int64_t value = 0;
  if (const std::string* old = store_.find(key); old != nullptr) {
    const std::optional<int64_t> parsed = parse_int64(*old);
    if (!parsed.has_value()) return reply.error(not_integer_error().context());
    value = *parsed;
  }
  int64_t result = 0;
  if (__builtin_add_overflow(value, entry.delta, &result)) return reply.error(kOverflowError);
  char text[kInt64TextBytesMax];
  const std::string_view result_text = format_int64(result, text);
  if (!store_.has_room(store_.cost_of_set(key, result_text))) return reply.error(kOomError);
  store_.set(key, result_text);
  reply.integer(result);
}

// MSET k1 v1 k2 v2 ...: all or nothing. The room check counts a key set twice twice: a bound
// that errs on the safe side, and the same on every replica.
void KvStateMachine::apply_mset(const WriteEntry& entry, ReplyBuilder& reply) {
  SetCost total;
  OperandCursor check(entry);
  for (uint32_t i = 0; i < entry.operand_count; i += 2) {
    const std::string_view key = check.next();
    const std::string_view value = check.next();
    if (key.size() > store_.limits().value_bytes_max ||
        value.size() > store_.limits().value_bytes_max) {
      return reply.error(kValueTooLargeError);
    }
    const SetCost cost = store_.cost_of_set(key, value);
    total.new_keys += cost.new_keys;
    total.added_bytes += cost.added_bytes;
  }
  if (!store_.has_room(total)) return reply.error(kOomError);
  OperandCursor operands(entry);
  for (uint32_t i = 0; i < entry.operand_count; i += 2) {
    const std::string_view key = operands.next();
    store_.set(key, operands.next());
  }
  reply.simple_string("OK");
}

void KvStateMachine::read(const CommandSpec& spec, std::span<const std::string_view> arguments,
                          RespWriter& writer) const {
  RR_ASSERT(spec.kind == CommandKind::kRead && arguments.size() >= 2);
  ReplyBuilder reply(writer);
  const std::span<const std::string_view> keys = arguments.subspan(1);
  switch (spec.id) {
    case CommandId::kGet: {
      const std::string* value = store_.find(keys[0]);
      if (value != nullptr) {
        reply.bulk(*value);
      } else {
        reply.null_bulk();
      }
      return;
    }
    case CommandId::kExists: {
      int64_t found = 0;
      for (std::string_view key : keys) found += store_.find(key) != nullptr;
      return reply.integer(found);
    }
    case CommandId::kMGet:
      reply.array_header(keys.size());
      for (std::string_view key : keys) {
        const std::string* value = store_.find(key);
        if (value != nullptr) {
          reply.bulk(*value);
        } else {
          reply.null_bulk();
        }
        if (reply.overflowed()) return;
      }
      return;
    default:
      RR_UNREACHABLE("a read command the state machine does not answer");
  }
}

}  // namespace ringraft::kv
