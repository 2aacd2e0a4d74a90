// KvStateMachine: the replicated key-value state, driven by committed log entries.
//
// apply() takes one committed write entry (write_entry.h) and writes the reply the proposer
// returns to its client; every replica applies the same entries in the same order and reaches
// the same store. Applying is deterministic: it reads nothing but the entry and the store (no
// clock, no randomness, no per-replica configuration other than KvLimits, which must match on
// all replicas). A write that would break the store's memory bound changes nothing and replies
// with Redis's OOM error. read() answers GET, EXISTS and MGET from the current state; the server
// calls it once ReadIndex says the state is recent enough.
//
// Snapshots: snapshot() writes the store as a kv_snapshot.h stream, restore() replaces it with
// one (the engine calls them through the server's replica::StateMachine, replicated_kv.h).
#pragma once

#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "tools/kv/command.h"
#include "tools/kv/kv_snapshot.h"
#include "tools/kv/kv_store.h"
#include "tools/kv/resp_writer.h"
#include "tools/kv/write_entry.h"

namespace ringraft::kv {

class KvStateMachine {
 public:
  explicit KvStateMachine(const KvLimits& limits = KvLimits{});

  // Applies one committed entry and appends its reply to `reply`. An entry that does not decode
  // is an error (no state change, nothing written): the log holds only what an encoder wrote,
  // so the caller treats it as corruption, not as a client's mistake.
  Result<void> apply(ConstByteSpan entry, RespWriter& reply);

  // Answers a read command (spec.kind == kRead, arity checked) from the current state.
  void read(const CommandSpec& spec, std::span<const std::string_view> arguments,
            RespWriter& reply) const;

  // The store as a snapshot stream (kv_snapshot.h), and back: on error the store is unchanged.
  Result<void> snapshot(SnapshotSink& sink) const { return write_snapshot(store_, sink); }
  Result<void> restore(SnapshotSource& source) { return read_snapshot(source, store_); }

  KvStore& store() { return store_; }
  const KvStore& store() const { return store_; }

  void check_invariants() const { store_.check_invariants(); }

 private:
  void apply_set(const WriteEntry& entry, ReplyBuilder& reply);
  void apply_del(const WriteEntry& entry, ReplyBuilder& reply);
  void apply_incr_by(const WriteEntry& entry, ReplyBuilder& reply);
  void apply_mset(const WriteEntry& entry, ReplyBuilder& reply);

  KvStore store_;
};

// Redis's texts for the refusals apply can answer.
inline constexpr std::string_view kOomError =
    "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kValueTooLargeError =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kOverflowError = "ERR increment or decrement would overflow";

}  // namespace ringraft::kv
