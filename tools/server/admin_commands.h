// AdminCommands: the operator's commands of `ringraft server` that change the cluster, over
// RESP, through ShardEngine's administrative operations (shard_engine_admin.cc):
//
//   RINGRAFT.TRANSFER <node>                        hand leadership to voter <node>
//   RINGRAFT.ADDNODE <id> <raft-addr> <client-addr>  add a node (learner, then voter)
//   RINGRAFT.REMOVENODE <id>                        remove a member (voter or learner)
//   RINGRAFT.SNAPSHOT                               snapshot this node's state now
//
// The first three run on the leader and answer +OK once done, or -ERR with the reason; a
// follower answers the redirect writes get ("-ERR not leader, leader is node N at host:port").
// RINGRAFT.SNAPSHOT runs on the node it is sent to (each node compacts its own log) and
// answers the snapshot's index as an integer once the file is durable.
//
// Adding a node: every member must learn its addresses, on every restart too, so they travel
// through the log: the leader first commits SET ringraft:member:<id> "raft=H:P client=H:P" (a
// key of the replicated store), and every member, applying it, adds the peer to its transport
// and the client address to its redirects and forwarding (MemberAddresses). Then the leader
// adds the node as a learner and promotes it once it caught up (Raft thesis §4.2.1). The new
// node runs `ringraft server --join` with --peers naming the current members and itself.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "raft/replica/shard_engine.h"
#include "raft/replica/transport_bus.h"
#include "tools/server/kv_backend.h"
#include "tools/server/leader_forwarder.h"
#include "tools/server/replicated_kv.h"

namespace ringraft::server {

// Applies the member entries (KvGroupMachine::set_member_listener) to the node's transport,
// redirect addresses and forwarder. The backend and forwarder come later than the first
// entries (the log is applied while the engine opens): attach() hands them what was learned.
class MemberAddresses {
 public:
  MemberAddresses(NodeId self, replica::TransportBus& bus) : self_(self), bus_(bus) {}
  // One member entry: `id` the key's suffix, `value` "raft=H:P client=H:P". Bad entries are
  // logged and skipped: they came through the log, refusing them would stop the group.
  void on_member(std::string_view id, std::string_view value);
  void attach(ReplicatedKv* backend, LeaderForwarder* forwarder);

  // The member entry's value for these addresses.
  static std::string entry_value(const Endpoint& raft, const Endpoint& client);

 private:
  NodeId self_;
  replica::TransportBus& bus_;
  std::map<NodeId, Endpoint> clients_;
  ReplicatedKv* backend_ = nullptr;
  LeaderForwarder* forwarder_ = nullptr;
};

class AdminCommands final : public AdminHandler {
 public:
  // All must outlive the handler.
  AdminCommands(replica::ShardEngine& engine, GroupId group, ReplicatedKv& backend);

  bool handles(std::string_view name) const override;
  Task<void> run(std::span<const std::string_view> arguments, kv::RespWriter& reply) override;

 private:
  Task<void> transfer(std::span<const std::string_view> arguments, kv::RespWriter& reply);
  Task<void> add_node(std::span<const std::string_view> arguments, kv::RespWriter& reply);
  Task<void> remove_node(std::span<const std::string_view> arguments, kv::RespWriter& reply);
  Task<void> snapshot(std::span<const std::string_view> arguments, kv::RespWriter& reply);
  // Commits the member entry of `node`; an error text, or empty.
  Task<std::string> commit_member_entry(NodeId node, const Endpoint& raft, const Endpoint& client);
  bool leads() const;
  // True on the leader; otherwise appends the redirect.
  bool leads_or_redirect(kv::RespWriter& reply) const;

  replica::ShardEngine& engine_;
  GroupId group_;
  ReplicatedKv& backend_;
};

// "ERR <what>: <why>" from an engine error.
std::string admin_error(std::string_view what, const Error& error);

}  // namespace ringraft::server
