// The replicated backend (see replicated_kv.h).
#include "tools/server/replicated_kv.h"

#include <cctype>
#include <variant>

#include "common/assert.h"
#include "tools/kv/local_commands.h"
#include "tools/kv/write_entry.h"

namespace ringraft::server {

namespace {

// The engine's snapshot streams seen as the store's (kv_snapshot.h).
class ToEngineSink final : public kv::SnapshotSink {
 public:
  explicit ToEngineSink(replica::SnapshotWriter& writer) : writer_(writer) {}
  Result<void> write(ConstByteSpan bytes) override { return writer_.write(bytes); }

 private:
  replica::SnapshotWriter& writer_;
};

// The store as of its creation, written in steps into whichever engine writer each step gets.
class StoreView final : public replica::SnapshotView {
 public:
  explicit StoreView(const kv::KvStore& store) : writer_(store, sink_) {}
  Result<bool> write_some(replica::SnapshotWriter& writer, size_t bytes_max) override {
    sink_.to = &writer;
    return writer_.write_some(bytes_max);
  }

 private:
  struct Sink final : kv::SnapshotSink {
    Result<void> write(ConstByteSpan bytes) override { return to->write(bytes); }
    replica::SnapshotWriter* to = nullptr;
  };
  Sink sink_;  // before writer_, which holds it
  kv::SteppedSnapshotWriter writer_;
};

class FromEngineSource final : public kv::SnapshotSource {
 public:
  explicit FromEngineSource(replica::SnapshotReader& reader) : reader_(reader) {}
  Result<size_t> read(ByteSpan out) override { return reader_.read(out); }

 private:
  replica::SnapshotReader& reader_;
};

}  // namespace

Result<void> KvGroupMachine::snapshot(GroupId /*group*/, replica::SnapshotWriter& writer) {
  ToEngineSink sink(writer);
  return state_machine_.snapshot(sink);
}

std::unique_ptr<replica::SnapshotView> KvGroupMachine::snapshot_view(GroupId /*group*/) {
  return std::make_unique<StoreView>(state_machine_.store());
}

Result<void> KvGroupMachine::restore(GroupId /*group*/, replica::SnapshotReader& reader) {
  FromEngineSource source(reader);
  Result<void> restored = state_machine_.restore(source);
  if (!restored.ok() || !member_listener_) return restored;
  // Members added at run time are known by their keys: a snapshot that covers the entries
  // that set them must announce them as those entries did when applied.
  state_machine_.store().for_each([this](std::string_view key, const std::string& value) {
    if (key.compare(0, kMemberKeyPrefix.size(), kMemberKeyPrefix) == 0) {
      member_listener_(std::string_view(key).substr(kMemberKeyPrefix.size()), value);
    }
  });
  return restored;
}

void KvGroupMachine::apply(GroupId /*group*/, std::span<const replica::CommittedEntry> entries,
                           replica::ApplyResults& results) {
  for (const replica::CommittedEntry& entry : entries) {
    scratch_.clear();
    // Entries come from this server's own encoder on some replica; one that does not decode
    // (another version, a bug) must not stop the group: it is answered as an error and counted.
    const Result<void> applied = state_machine_.apply(entry.payload, scratch_);
    if (!applied.ok()) {
      ++bad_entries_;
      scratch_.clear();
      kv::ReplyBuilder(scratch_).error("ERR entry could not be applied");
    }
    const std::string_view reply = scratch_.bytes();
    results.push(as_bytes(reply.data(), reply.size()));
    if (applied.ok() && member_listener_) notify_member(entry.payload);
  }
}

void KvGroupMachine::notify_member(ConstByteSpan payload) {
  // Decoding checks the entry without allocating; only SETs of member keys go further.
  const Result<kv::WriteEntry> decoded = kv::decode_write_entry(payload);
  if (!decoded.ok() || decoded.value().op != kv::WriteOp::kSet ||
      decoded.value().operand_count != 2) {
    return;
  }
  kv::OperandCursor operands(decoded.value());
  const std::string_view key = operands.next();
  const std::string_view value = operands.next();
  if (key.substr(0, kMemberKeyPrefix.size()) != kMemberKeyPrefix) return;
  member_listener_(key.substr(kMemberKeyPrefix.size()), value);
}

ReplicatedKv::ReplicatedKv(replica::ShardEngine& engine, GroupId group, KvGroupMachine& machine,
                           std::map<NodeId, std::string> peers)
    : engine_(engine), group_(group), machine_(machine), peers_(std::move(peers)) {}

kv::AfterReply ReplicatedKv::answer_now(const kv::CommandSpec& spec,
                                        std::span<const std::string_view> arguments,
                                        kv::RespWriter& reply) {
  if (spec.kind == kv::CommandKind::kRead) {
    // Linearizable mode: the connection layer passed read_barrier() before this call.
    machine_.state_machine().read(spec, arguments, reply);
    return kv::AfterReply::kContinue;
  }
  const replica::Replica* replica = engine_.replica(group_);
  const bool leader = replica != nullptr && replica->core().role() == raft::Role::kLeader;
  const std::string extra = spec.id == kv::CommandId::kInfo ? replication_info() : std::string();
  kv::LocalContext context;
  context.role = leader ? "master" : "slave";
  context.store = &machine_.state_machine().store();
  context.replication_extra = extra;
  return kv::execute_local(spec, arguments, context, reply);
}

namespace {

// How long a request that finds no leader (an election is on) waits for one before it is
// answered with an error: two of the longest election timeouts the server uses.
constexpr std::chrono::milliseconds kLeaderWaitMax(2000);

}  // namespace

Task<bool> ReplicatedKv::wait_for_a_leader() {
  if (engine_.replica(group_) == nullptr) co_return false;
  const NodeId leader = co_await engine_.wait_leader(group_, NodeId{0}, kLeaderWaitMax);
  co_return leader.value() != 0;
}

Task<Result<void>> ReplicatedKv::read_barrier() {
  Result<LogIndex> index = co_await engine_.read_index(group_);
  if (!index.ok() && index.error().code() == ErrorCode::kNotFound) {
    // No leader known (an election is on): wait for one (bounded), then ask once more.
    const bool leader_known = co_await wait_for_a_leader();
    if (leader_known) index = co_await engine_.read_index(group_);
  }
  if (!index.ok()) co_return index.error();
  co_return Result<void>{};
}

Task<void> ReplicatedKv::write(ConstByteSpan entry, kv::RespWriter& reply, WriteOrigin origin) {
  replica::ProposeResult result = co_await engine_.propose(group_, entry);
  // During an election the write waits (bounded) for the new leader instead of failing at once.
  const auto* no_leader = std::get_if<replica::NotLeader>(&result);
  if (no_leader != nullptr && no_leader->leader_hint.value() == 0) {
    const bool leader_known = co_await wait_for_a_leader();
    if (leader_known) result = co_await engine_.propose(group_, entry);
  }
  if (const auto* not_leader = std::get_if<replica::NotLeader>(&result)) {
    const NodeId leader = not_leader->leader_hint;
    if (origin == WriteOrigin::kClient && forwarder_ != nullptr && leader.value() != 0 &&
        leader != engine_.node() && forwarder_->knows(leader)) {
      co_await forwarder_->forward(leader, entry, reply);
      co_return;
    }
  }
  kv::ReplyBuilder builder(reply);
  if (auto* committed = std::get_if<replica::Committed>(&result)) {
    const std::string_view bytes(reinterpret_cast<const char*>(committed->result.data()),
                                 committed->result.size());
    if (!reply.raw(bytes).ok()) builder.error("ERR reply does not fit the output buffer");
  } else if (auto* not_leader = std::get_if<replica::NotLeader>(&result)) {
    builder.error(not_leader_error(not_leader->leader_hint, peers_));
  } else {
    const auto& failed = std::get<replica::Failed>(result);
    builder.error(std::string("ERR write failed: ") + replica::fail_reason_name(failed.reason));
  }
}

std::string not_leader_error(NodeId leader_hint, const std::map<NodeId, std::string>& peers) {
  if (leader_hint.value() == 0) return "ERR not leader, no leader known";
  std::string text = "ERR not leader, leader is node " + std::to_string(leader_hint.value());
  const auto peer = peers.find(leader_hint);
  if (peer != peers.end()) text += " at " + peer->second;
  return text;
}

bool ReplicatedKv::answer_admin(std::span<const std::string_view> arguments,
                                kv::RespWriter& reply) {
  std::string name(arguments[0]);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name != "RINGRAFT.STATUS") return false;
  if (arguments.size() != 1) {
    kv::ReplyBuilder(reply).error("ERR wrong number of arguments for 'ringraft.status' command");
    return true;
  }
  const wal::WalStats wal = engine_.wal_stats();
  const replica::EngineStats& engine = engine_.stats();
  std::string text = "node:" + std::to_string(engine_.node().value()) + "\r\n" + replication_info();
  const auto line = [&text](const char* key, uint64_t value) {
    text += std::string(key) + ":" + std::to_string(value) + "\r\n";
  };
  line("wal_batches_durable", wal.batches_durable);
  line("wal_fsyncs", wal.fsyncs_completed);
  line("wal_bytes_written", wal.bytes_written);
  line("wal_records_appended", wal.records_appended);
  // Whether the WAL writes with O_DIRECT (--wal-io; a filesystem may refuse it).
  line("wal_direct_io", engine_.wal().direct_io() ? 1 : 0);
  line("engine_readies", engine.readies);
  line("engine_proposals_refused_full", engine.proposals_refused_full);
  line("engine_inbound_messages", engine.inbound_messages);
  line("engine_inbound_refused", engine.inbound_refused);
  line("engine_wal_failed", engine_.failed() ? 1 : 0);  // disk full or I/O error: retrying
  line("engine_wal_failures", engine.wal_failures);
  line("engine_wal_reopens", engine.wal_reopens);
  line("kv_bad_entries", machine_.bad_entries());
  if (forwarder_ != nullptr) {
    const ForwarderStats& forwarded = forwarder_->stats();
    line("forward_writes", forwarded.writes_forwarded);
    line("forward_writes_failed", forwarded.writes_failed);
    line("forward_writes_refused_full", forwarded.writes_refused_full);
    line("forward_links_opened", forwarded.links_opened);
    line("forward_links_broken", forwarded.links_broken);
  }
  if (status_extra_) text += status_extra_();
  if (!reply.bulk(text).ok()) kv::ReplyBuilder(reply).error("ERR status does not fit");
  return true;
}

std::string ReplicatedKv::replication_info() const {
  const replica::Replica* replica = engine_.replica(group_);
  const char* reads =
      read_mode_ == ReadMode::kLinearizable ? "reads:linearizable\r\n" : "reads:local\r\n";
  if (replica == nullptr) return reads;
  const raft::Core& core = replica->core();
  const auto leader_address = peers_.find(core.leader());
  std::string address_line;
  if (leader_address != peers_.end()) {
    address_line = "raft_leader_addr:" + leader_address->second + "\r\n";
  }
  return std::string("raft_role:") + raft::role_name(core.role()) +
         "\r\nraft_term:" + std::to_string(core.term().value()) +
         "\r\nraft_commit:" + std::to_string(core.log().committed().value()) +
         "\r\nraft_applied:" + std::to_string(replica->applied_index().value()) +
         "\r\nraft_leader:" + std::to_string(core.leader().value()) + "\r\n" + address_line + reads;
}

}  // namespace ringraft::server
