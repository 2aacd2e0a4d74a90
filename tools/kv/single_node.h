// SingleNode: the whole command path of a one-replica group, without Raft.
//
// A request's arguments are resolved against the command table; local commands are answered
// at once, reads come from the state machine, and writes take the path they take in the
// replicated server minus replication: planned, encoded once into a log entry, applied. So the
// entry format and the apply logic are exercised exactly as the server will use them, and this
// is the reference the replicated server's replies are compared against.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "tools/kv/kv_state_machine.h"
#include "tools/kv/local_commands.h"
#include "tools/kv/resp_writer.h"

namespace ringraft::kv {

class SingleNode {
 public:
  explicit SingleNode(const KvLimits& limits = KvLimits{});

  // Executes one request (a parser's arguments; an empty request is answered with nothing) and
  // appends its reply. kClose: the connection ends after the reply (QUIT).
  AfterReply execute(std::span<const std::string_view> arguments, RespWriter& reply);

  KvStateMachine& state_machine() { return state_machine_; }
  // The last write's encoded entry (what a replicated server would propose).
  std::span<const std::byte> last_entry() const { return entry_; }

 private:
  KvStateMachine state_machine_;
  std::vector<std::byte> entry_;  // capacity reused across writes
};

}  // namespace ringraft::kv
