// The simulator's key-value workload: the commands clients propose and the state machine each
// node applies them to. Commands travel as short text payloads ("<op id> <P|A|G> <key> [value]")
// so traces stay readable; the op id makes every payload unique, which is how a node matches an
// applied entry to the client proposal waiting on it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "raft/core/entry.h"

namespace ringraft::sim {

enum class OpKind : uint8_t { kPut, kAppend, kGet };

const char* op_kind_name(OpKind kind);

struct KvCommand {
  uint64_t op_id = 0;
  OpKind kind = OpKind::kGet;
  std::string key;
  std::string value;  // put / append only

  bool operator==(const KvCommand&) const = default;
};

raft::Payload encode_command(const KvCommand& command);
// nullopt for a payload that is not a command (the leader's empty entry of a new term).
std::optional<KvCommand> decode_command(ConstByteSpan payload);

// What one node has applied. Rebuilt from the log after a restart (the core re-applies from
// index 1: this slice has no snapshots).
class KvStateMachine {
 public:
  // Applies one command; returns the value read for a get, and "" for put / append.
  std::string apply(const KvCommand& command);
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace ringraft::sim
