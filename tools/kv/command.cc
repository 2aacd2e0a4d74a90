// The command table and name/arity resolution (see command.h).
#include "tools/kv/command.h"

#include <array>
#include <string>

namespace ringraft::kv {
namespace {

constexpr CommandKind kWrite = CommandKind::kWrite;
constexpr CommandKind kRead = CommandKind::kRead;
constexpr CommandKind kLocal = CommandKind::kLocal;

// Arity, flags and key positions as Redis's COMMAND reports them, so that clients that plan
// from COMMAND (cluster-aware ones, redis-cli hints) see what they expect.
constexpr std::array kCommands = {
    CommandSpec{CommandId::kPing, "ping", -1, kLocal, "fast", 0, 0, 0},
    CommandSpec{CommandId::kEcho, "echo", 2, kLocal, "fast", 0, 0, 0},
    CommandSpec{CommandId::kSet, "set", -3, kWrite, "write denyoom", 1, 1, 1},
    CommandSpec{CommandId::kGet, "get", 2, kRead, "readonly fast", 1, 1, 1},
    CommandSpec{CommandId::kDel, "del", -2, kWrite, "write", 1, -1, 1},
    CommandSpec{CommandId::kExists, "exists", -2, kRead, "readonly fast", 1, -1, 1},
    CommandSpec{CommandId::kIncr, "incr", 2, kWrite, "write denyoom fast", 1, 1, 1},
    CommandSpec{CommandId::kIncrBy, "incrby", 3, kWrite, "write denyoom fast", 1, 1, 1},
    CommandSpec{CommandId::kDecr, "decr", 2, kWrite, "write denyoom fast", 1, 1, 1},
    CommandSpec{CommandId::kDecrBy, "decrby", 3, kWrite, "write denyoom fast", 1, 1, 1},
    CommandSpec{CommandId::kMSet, "mset", -3, kWrite, "write denyoom", 1, -1, 2},
    CommandSpec{CommandId::kMGet, "mget", -2, kRead, "readonly fast", 1, -1, 1},
    CommandSpec{CommandId::kInfo, "info", -1, kLocal, "loading stale", 0, 0, 0},
    CommandSpec{CommandId::kCommand, "command", -1, kLocal, "loading stale", 0, 0, 0},
    CommandSpec{CommandId::kQuit, "quit", -1, kLocal, "loading stale fast", 0, 0, 0},
    CommandSpec{CommandId::kSelect, "select", 2, kLocal, "loading stale fast", 0, 0, 0},
    CommandSpec{CommandId::kConfig, "config", -2, kLocal, "admin noscript loading stale", 0, 0, 0},
};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Redis quotes at most 128 bytes of the name and of each argument, and stops listing
// arguments after about 128 bytes, so that the reply stays one short line.
constexpr size_t kQuotedBytesMax = 128;

Error unknown_command_error(std::span<const std::string_view> arguments) {
  std::string text = "ERR unknown command '" +
                     std::string(arguments[0].substr(0, kQuotedBytesMax)) +
                     "', with args beginning with: ";
  size_t listed_bytes = 0;
  for (size_t i = 1; i < arguments.size() && listed_bytes < kQuotedBytesMax; ++i) {
    const std::string_view argument = arguments[i].substr(0, kQuotedBytesMax - listed_bytes);
    text += "'" + std::string(argument) + "' ";
    listed_bytes += argument.size();
  }
  return Error(ErrorCode::kNotFound, std::move(text));
}

bool arity_matches(const CommandSpec& spec, size_t argument_count) {
  if (spec.arity > 0) return argument_count == static_cast<size_t>(spec.arity);
  return argument_count >= static_cast<size_t>(-spec.arity);
}

}  // namespace

bool equals_ignoring_case(std::string_view text, std::string_view lower_case) {
  if (text.size() != lower_case.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (lower(text[i]) != lower_case[i]) return false;
  }
  return true;
}

std::span<const CommandSpec> all_commands() {
  return kCommands;
}

const CommandSpec* find_command(std::string_view name) {
  for (const CommandSpec& spec : kCommands) {
    if (equals_ignoring_case(name, spec.name)) return &spec;
  }
  return nullptr;
}

Result<const CommandSpec*> resolve_command(std::span<const std::string_view> arguments) {
  RR_ASSERT(!arguments.empty());
  const CommandSpec* spec = find_command(arguments[0]);
  if (spec == nullptr) return unknown_command_error(arguments);
  if (!arity_matches(*spec, arguments.size())) return wrong_arity_error(*spec);
  // Arities COMMAND cannot express: MSET takes pairs, PING at most one message.
  if (spec->id == CommandId::kMSet && arguments.size() % 2 == 0) return wrong_arity_error(*spec);
  if (spec->id == CommandId::kPing && arguments.size() > 2) return wrong_arity_error(*spec);
  return spec;
}

Error wrong_arity_error(const CommandSpec& spec) {
  return Error(ErrorCode::kInvalidInput,
               "ERR wrong number of arguments for '" + std::string(spec.name) + "' command");
}

Error not_integer_error() {
  return Error(ErrorCode::kInvalidInput, "ERR value is not an integer or out of range");
}

Error syntax_error() {
  return Error(ErrorCode::kInvalidInput, "ERR syntax error");
}

}  // namespace ringraft::kv
