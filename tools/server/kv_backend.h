// KvBackend: what stands behind the RESP connection layer.
//
// The connection layer parses and resolves requests; local and read commands are answered at
// once by answer_now(), write commands are encoded once into a log entry (write_entry.h) by the
// connection and handed to write(), which completes when the entry committed and applied and
// appends the apply's reply. A connection starts every write one receive brought without
// waiting for the previous one (so the engine batches them into one proposal round), and
// appends the replies in request order once they completed. A read or local command waits for
// the connection's earlier writes first, then, when reads_need_barrier(), for read_barrier():
// one barrier covers the reads of one receive that follow the last write.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "reactor/task.h"
#include "tools/kv/command.h"
#include "tools/kv/local_commands.h"
#include "tools/kv/resp_writer.h"

namespace ringraft::server {

enum class WriteOrigin : uint8_t {
  kClient,     // a client's write command, encoded by this connection
  kForwarded,  // an entry another member forwarded (RINGRAFT.PROPOSE): never forwarded again
};

class KvBackend {
 public:
  virtual ~KvBackend() = default;
  // A local (PING, INFO, QUIT, ...) or read (GET, EXISTS, MGET) command, arity checked.
  virtual kv::AfterReply answer_now(const kv::CommandSpec& spec,
                                    std::span<const std::string_view> arguments,
                                    kv::RespWriter& reply) = 0;
  // One encoded write entry; appends its reply (the apply's, or a refusal such as a redirect).
  // `entry` stays valid until the returned task ends.
  virtual Task<void> write(ConstByteSpan entry, kv::RespWriter& reply, WriteOrigin origin) = 0;
  // Whether RINGRAFT.PROPOSE <entry> (a write forwarded by a follower) is served; a backend
  // that accepts it must survive entries that do not decode.
  virtual bool accepts_forwarded_writes() const { return false; }
  // Whether reads wait for read_barrier() (linearizable reads).
  virtual bool reads_need_barrier() const { return false; }
  // Resolves once a read of the local state machine sees every write acknowledged before the
  // call; an error (no leader, leadership changed) is answered to the reader as a retry.
  virtual Task<Result<void>> read_barrier() = 0;
  // An admin command (RINGRAFT.<NAME> ..., other than RINGRAFT.PROPOSE): appends its reply and
  // returns true, or false when the backend has no such command.
  virtual bool answer_admin(std::span<const std::string_view> /*arguments*/,
                            kv::RespWriter& /*reply*/) {
    return false;
  }
};

// Admin commands that take time (a leadership transfer, a membership change): the connection
// layer awaits run() after the connection's earlier writes, before anything later. Checked
// before KvBackend::answer_admin.
class AdminHandler {
 public:
  virtual ~AdminHandler() = default;
  // Whether `name` (RINGRAFT.<NAME>, any case) is one of this handler's commands.
  virtual bool handles(std::string_view name) const = 0;
  // Runs the command and appends its reply. `arguments` stay valid until the task ends.
  virtual Task<void> run(std::span<const std::string_view> arguments, kv::RespWriter& reply) = 0;
};

}  // namespace ringraft::server
