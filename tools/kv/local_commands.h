// The commands a connection answers itself, without Raft or the store's consistency: PING,
// ECHO, INFO, COMMAND, QUIT, SELECT and CONFIG. They exist so that unmodified clients work:
// redis-cli asks COMMAND DOCS when it starts, redis-benchmark asks CONFIG GET save and
// appendonly, monitoring asks INFO. Answers are what those clients need and nothing more.
#pragma once

#include <span>
#include <string_view>

#include "tools/kv/command.h"
#include "tools/kv/kv_store.h"
#include "tools/kv/resp_writer.h"

namespace ringraft::kv {

struct LocalContext {
  std::string_view server_version = "0.1.0";
  std::string_view role = "master";  // INFO replication: "master" on the leader, else "slave"
  const KvStore* store = nullptr;    // INFO keyspace; none: reported empty
  // More INFO replication lines ("ringraft_term:3\r\n..."), after role.
  std::string_view replication_extra;
};

enum class AfterReply : uint8_t { kContinue, kClose };

// Answers a local command (spec.kind == kLocal, arity checked). kClose after QUIT: the caller
// sends the reply, then closes the connection.
AfterReply execute_local(const CommandSpec& spec, std::span<const std::string_view> arguments,
                         const LocalContext& context, RespWriter& reply);

}  // namespace ringraft::kv
