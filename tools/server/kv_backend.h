// KvBackend: what stands behind the RESP connection layer.
//
// The connection layer parses and resolves requests; local and read commands are answered at
// once by answer_now(), write commands are encoded once into a log entry (write_entry.h) by the
// connection and handed to write(), which completes when the entry committed and applied and
// appends the apply's reply. A connection awaits each write before the next request, so the
// replies of a pipelined connection leave in request order.
#pragma once

#include <span>
#include <string_view>

#include "common/bytes.h"
#include "reactor/task.h"
#include "tools/kv/command.h"
#include "tools/kv/local_commands.h"
#include "tools/kv/resp_writer.h"

namespace ringraft::server {

class KvBackend {
 public:
  virtual ~KvBackend() = default;
  // A local (PING, INFO, QUIT, ...) or read (GET, EXISTS, MGET) command, arity checked.
  virtual kv::AfterReply answer_now(const kv::CommandSpec& spec,
                                    std::span<const std::string_view> arguments,
                                    kv::RespWriter& reply) = 0;
  // One encoded write entry; appends its reply (the apply's, or a refusal such as a redirect).
  // `entry` stays valid until the returned task ends.
  virtual Task<void> write(ConstByteSpan entry, kv::RespWriter& reply) = 0;
};

}  // namespace ringraft::server
