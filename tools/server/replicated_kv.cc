// The replicated backend (see replicated_kv.h).
#include "tools/server/replicated_kv.h"

#include <variant>

#include "common/assert.h"
#include "tools/kv/local_commands.h"

namespace ringraft::server {

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
  }
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

Task<Result<void>> ReplicatedKv::read_barrier() {
  Result<LogIndex> index = co_await engine_.read_index(group_);
  if (!index.ok()) co_return index.error();
  co_return Result<void>{};
}

Task<void> ReplicatedKv::write(ConstByteSpan entry, kv::RespWriter& reply, WriteOrigin origin) {
  replica::ProposeResult result = co_await engine_.propose(group_, entry);
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
