// The command table: every command the key-value service answers, its arity and where it runs.
//
// Where a command runs decides its path through the server:
//   kWrite  changes the store: encoded once as a log entry (write_entry.h), replicated through
//           Raft, applied on every replica; the proposer answers with the apply's reply.
//   kRead   reads the store: linearizable through ReadIndex, answered by the state machine.
//   kLocal  touches no replicated state (PING, INFO, COMMAND, ...): answered by the connection
//           itself (local_commands.h).
// Names match case-insensitively; arity follows Redis (n > 0: exactly n arguments including the
// name; n < 0: at least -n), and so do the error texts, so that clients show familiar messages.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"

namespace ringraft::kv {

enum class CommandKind : uint8_t { kWrite, kRead, kLocal };

// Values are stable: a write command's id is part of the log entry format.
enum class CommandId : uint8_t {
  kPing = 1,
  kEcho = 2,
  kSet = 3,
  kGet = 4,
  kDel = 5,
  kExists = 6,
  kIncr = 7,
  kIncrBy = 8,
  kDecr = 9,
  kDecrBy = 10,
  kMSet = 11,
  kMGet = 12,
  kInfo = 13,
  kCommand = 14,
  kQuit = 15,
  kSelect = 16,
  kConfig = 17,
};

struct CommandSpec {
  CommandId id;
  std::string_view name;  // lower case, as Redis prints it in errors
  int32_t arity;
  CommandKind kind;
  // Redis COMMAND metadata: flags, and where the keys are among the arguments.
  std::string_view flags;  // space-separated: "write denyoom", "readonly fast"
  int32_t first_key;
  int32_t last_key;  // -1: the last argument
  int32_t key_step;
};

// Every command, in a stable order.
std::span<const CommandSpec> all_commands();

// The command called `name`, in any letter case; nullptr when there is none.
const CommandSpec* find_command(std::string_view name);

// The command `arguments` (name first, non-empty) calls, with its arity checked. The error's
// context is the RESP error text to answer: "ERR unknown command 'foo', with args beginning
// with: 'a' " or "ERR wrong number of arguments for 'get' command".
Result<const CommandSpec*> resolve_command(std::span<const std::string_view> arguments);

// Whether `text` equals `lower_case` (an ASCII lower-case name) in any letter case.
bool equals_ignoring_case(std::string_view text, std::string_view lower_case);

// Redis's error texts, shared by the places that check arguments.
Error wrong_arity_error(const CommandSpec& spec);
Error not_integer_error();
Error syntax_error();

}  // namespace ringraft::kv
