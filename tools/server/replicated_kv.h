// ReplicatedKv: the KvBackend of `ringraft server`, a key-value group replicated by Raft.
//
// KvGroupMachine wraps a KvStateMachine as the engine's StateMachine: apply() applies each
// committed write entry and returns the RESP reply it produced as the entry's result, so the
// proposer answers its client with exactly the bytes every replica computed.
//
// ReplicatedKv::write() proposes the connection's encoded entry through ShardEngine::propose (the
// engine batches a turn's proposals). On a follower, a client's write goes to the leader
// through the LeaderForwarder when one is given and knows the leader's RESP address; otherwise
// (--redirect, or no address) the follower answers
//   -ERR not leader, leader is node N at host:port   (or "... no leader known")
// A forwarded write (WriteOrigin::kForwarded) is never forwarded again.
// Reads (GET, EXISTS, MGET): with ReadMode::kLinearizable the connection layer first awaits
// read_barrier() (ShardEngine::read_index: ReadIndex, Raft thesis §6.4), on the leader or a
// follower; with kLocal they read the local state machine as it is (a follower may be stale).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "raft/replica/shard_engine.h"
#include "raft/replica/state_machine.h"
#include "tools/kv/kv_state_machine.h"
#include "tools/server/kv_backend.h"
#include "tools/server/leader_forwarder.h"
#include "tools/server/server_options.h"

namespace ringraft::server {

class KvGroupMachine final : public replica::StateMachine {
 public:
  static constexpr size_t kReplyBytesMax = size_t{64} * 1024 * 1024;

  void apply(GroupId group, std::span<const replica::CommittedEntry> entries,
             replica::ApplyResults& results) override;
  // The group's store as a kv_snapshot.h stream, and back (on error the store is unchanged).
  Result<void> snapshot(GroupId group, replica::SnapshotWriter& writer) override;
  // The same stream in steps, from a copy-on-write copy of the store (kv_store.h): the shard
  // keeps applying between the steps.
  std::unique_ptr<replica::SnapshotView> snapshot_view(GroupId group) override;
  Result<void> restore(GroupId group, replica::SnapshotReader& reader) override;

  kv::KvStateMachine& state_machine() { return state_machine_; }
  // Called for every applied SET whose key starts with kMemberKeyPrefix (a member's addresses,
  // written by RINGRAFT.ADDNODE), with the key's suffix and the value, in log order.
  using MemberListener = std::function<void(std::string_view id, std::string_view value)>;
  static constexpr std::string_view kMemberKeyPrefix = "ringraft:member:";
  void set_member_listener(MemberListener listener) { member_listener_ = std::move(listener); }
  uint64_t bad_entries() const { return bad_entries_; }

 private:
  kv::KvStateMachine state_machine_;
  void notify_member(ConstByteSpan payload);

  kv::RespWriter scratch_{kReplyBytesMax};  // one entry's reply; capacity reused
  uint64_t bad_entries_ = 0;
  MemberListener member_listener_;
};

// The redirect a follower answers ("ERR not leader, leader is node 2 at 127.0.0.1:6381").
std::string not_leader_error(NodeId leader_hint, const std::map<NodeId, std::string>& peers);

class ReplicatedKv final : public KvBackend {
 public:
  // `engine` hosts `group`; `peers` maps node ids to their RESP address ("host:port") for
  // redirects. All must outlive the backend.
  ReplicatedKv(replica::ShardEngine& engine, GroupId group, KvGroupMachine& machine,
               std::map<NodeId, std::string> peers);

  void set_read_mode(ReadMode mode) { read_mode_ = mode; }
  // A member's RESP address learned at run time ("host:port"), for redirects.
  void add_peer_address(NodeId node, std::string address) {
    peers_.emplace(node, std::move(address));
  }
  const std::map<NodeId, std::string>& peer_addresses() const { return peers_; }
  // Lines appended to RINGRAFT.STATUS (the node's metrics, node_metrics.h); none when unset.
  void set_status_extra(std::function<std::string()> extra) { status_extra_ = std::move(extra); }
  // Followers forward client writes through `forwarder` (outlives the backend); null: redirect.
  void set_forwarder(LeaderForwarder* forwarder) { forwarder_ = forwarder; }

  kv::AfterReply answer_now(const kv::CommandSpec& spec,
                            std::span<const std::string_view> arguments,
                            kv::RespWriter& reply) override;
  Task<void> write(ConstByteSpan entry, kv::RespWriter& reply, WriteOrigin origin) override;
  bool accepts_forwarded_writes() const override { return true; }
  bool reads_need_barrier() const override { return read_mode_ == ReadMode::kLinearizable; }
  Task<Result<void>> read_barrier() override;
  // RINGRAFT.STATUS: a bulk string of "name:value" lines (role, term, leader, commit, applied,
  // WAL and engine counters, forwarding counters).
  bool answer_admin(std::span<const std::string_view> arguments, kv::RespWriter& reply) override;

  // INFO's replication section: role, term, commit, applied, leader, and the read mode.
  std::string replication_info() const;

 private:
  // True once `group_` knows a leader; false after kLeaderWaitMax without one.
  Task<bool> wait_for_a_leader();

  replica::ShardEngine& engine_;
  GroupId group_;
  KvGroupMachine& machine_;
  std::map<NodeId, std::string> peers_;
  ReadMode read_mode_ = ReadMode::kLinearizable;
  LeaderForwarder* forwarder_ = nullptr;
  std::function<std::string()> status_extra_;
};

}  // namespace ringraft::server
