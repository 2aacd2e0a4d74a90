// The cluster-changing admin commands (see admin_commands.h).
#include "tools/server/admin_commands.h"

#include <charconv>
#include <variant>

#include "common/assert.h"
#include "common/log.h"
#include "tools/kv/command.h"
#include "tools/kv/write_entry.h"

namespace ringraft::server {
namespace {

constexpr int kPromoteTries = 3;

// A node id argument (1..); 0 when it is not one.
NodeId node_argument(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return NodeId{0};
  return NodeId{value};
}

// "host:port" of node `node` as the flags parse it; an error naming `what`.
Result<Endpoint> endpoint_argument(NodeId node, std::string_view text, std::string_view what) {
  auto members = parse_members(std::to_string(node.value()) + "=" + std::string(text), what);
  if (!members.ok()) return members.error();
  return members.value().begin()->second;
}

void error_reply(kv::RespWriter& reply, const std::string& text) {
  kv::ReplyBuilder(reply).error(text);
}

}  // namespace

std::string admin_error(std::string_view what, const Error& error) {
  return "ERR " + std::string(what) + ": " + error.context();
}

std::string MemberAddresses::entry_value(const Endpoint& raft, const Endpoint& client) {
  return "raft=" + raft.text() + " client=" + client.text();
}

void MemberAddresses::on_member(std::string_view id, std::string_view value) {
  const NodeId node = node_argument(id);
  const size_t space = value.find(' ');
  const bool shaped = value.substr(0, 5) == "raft=" && space != std::string_view::npos &&
                      value.substr(space + 1, 7) == "client=";
  if (node.value() == 0 || !shaped) {
    RR_LOG_WARN("member entry for '{}' ignored: '{}' is not raft=H:P client=H:P", id, value);
    return;
  }
  Result<Endpoint> raft = endpoint_argument(node, value.substr(5, space - 5), "member raft");
  Result<Endpoint> client = endpoint_argument(node, value.substr(space + 8), "member client");
  if (!raft.ok() || !client.ok()) {
    RR_LOG_WARN("member entry for node {} ignored: {}", node.value(),
                (!raft.ok() ? raft.error() : client.error()).context());
    return;
  }
  if (node != self_) {
    net::PeerAddress peer;
    peer.node = node;
    peer.host = raft.value().host;
    peer.port = raft.value().port;
    if (Result<void> added = bus_.add_peer(peer); !added.ok()) {
      RR_LOG_WARN("member entry for node {}: {}", node.value(), added.error().context());
    }
  }
  clients_.emplace(node, client.value());
  if (backend_ != nullptr) backend_->add_peer_address(node, client.value().text());
  if (forwarder_ != nullptr) forwarder_->add_client(node, client.value());
}

void MemberAddresses::attach(ReplicatedKv* backend, LeaderForwarder* forwarder) {
  backend_ = backend;
  forwarder_ = forwarder;
  for (const auto& [node, client] : clients_) {
    if (backend_ != nullptr) backend_->add_peer_address(node, client.text());
    if (forwarder_ != nullptr) forwarder_->add_client(node, client);
  }
}

AdminCommands::AdminCommands(replica::ShardEngine& engine, GroupId group, ReplicatedKv& backend)
    : engine_(engine), group_(group), backend_(backend) {}

bool AdminCommands::handles(std::string_view name) const {
  return kv::equals_ignoring_case(name, "ringraft.transfer") ||
         kv::equals_ignoring_case(name, "ringraft.addnode") ||
         kv::equals_ignoring_case(name, "ringraft.removenode") ||
         kv::equals_ignoring_case(name, "ringraft.snapshot");
}

Task<void> AdminCommands::run(std::span<const std::string_view> arguments, kv::RespWriter& reply) {
  RR_ASSERT(!arguments.empty() && handles(arguments[0]));
  if (kv::equals_ignoring_case(arguments[0], "ringraft.transfer")) {
    co_await transfer(arguments, reply);
  } else if (kv::equals_ignoring_case(arguments[0], "ringraft.addnode")) {
    co_await add_node(arguments, reply);
  } else if (kv::equals_ignoring_case(arguments[0], "ringraft.snapshot")) {
    co_await snapshot(arguments, reply);
  } else {
    co_await remove_node(arguments, reply);
  }
}

Task<void> AdminCommands::snapshot(std::span<const std::string_view> arguments,
                                   kv::RespWriter& reply) {
  if (arguments.size() != 1) {
    error_reply(reply, "ERR usage: RINGRAFT.SNAPSHOT");
    co_return;
  }
  const Result<LogIndex> taken = co_await engine_.snapshot_now(group_);
  if (!taken.ok()) {
    error_reply(reply, admin_error("snapshot", taken.error()));
    co_return;
  }
  kv::ReplyBuilder(reply).integer(static_cast<int64_t>(taken.value().value()));
}

bool AdminCommands::leads() const {
  const replica::Replica* replica = engine_.replica(group_);
  return replica != nullptr && replica->core().role() == raft::Role::kLeader;
}

bool AdminCommands::leads_or_redirect(kv::RespWriter& reply) const {
  const replica::Replica* replica = engine_.replica(group_);
  RR_ASSERT(replica != nullptr);
  if (replica->core().role() == raft::Role::kLeader) return true;
  error_reply(reply, not_leader_error(replica->core().leader(), backend_.peer_addresses()));
  return false;
}

Task<void> AdminCommands::transfer(std::span<const std::string_view> arguments,
                                   kv::RespWriter& reply) {
  const NodeId to = arguments.size() == 2 ? node_argument(arguments[1]) : NodeId{0};
  if (to.value() == 0) {
    error_reply(reply, "ERR usage: RINGRAFT.TRANSFER <node id>");
    co_return;
  }
  if (!leads_or_redirect(reply)) co_return;
  if (to == engine_.node()) {
    kv::ReplyBuilder(reply).simple_string("OK");  // already leads
    co_return;
  }
  const Result<void> moved = co_await engine_.transfer_leader(group_, to);
  if (!moved.ok()) {
    error_reply(reply, admin_error("transfer", moved.error()));
    co_return;
  }
  kv::ReplyBuilder(reply).simple_string("OK");
}

Task<std::string> AdminCommands::commit_member_entry(NodeId node, const Endpoint& raft,
                                                     const Endpoint& client) {
  const std::string key =
      std::string(KvGroupMachine::kMemberKeyPrefix) + std::to_string(node.value());
  const std::string value = MemberAddresses::entry_value(raft, client);
  const std::string_view set[] = {"SET", key, value};
  Result<const kv::CommandSpec*> spec = kv::resolve_command(set);
  RR_ASSERT(spec.ok());
  Result<kv::WriteCommand> planned = kv::plan_write(*spec.value(), set);
  RR_ASSERT(planned.ok());
  std::vector<std::byte> entry(planned.value().entry_bytes);
  const size_t written = kv::encode_write_entry(planned.value(), entry);
  RR_ASSERT(written == entry.size());
  const replica::ProposeResult result = co_await engine_.propose(group_, entry);
  if (std::holds_alternative<replica::Committed>(result)) co_return std::string();
  if (const auto* not_leader = std::get_if<replica::NotLeader>(&result)) {
    co_return not_leader_error(not_leader->leader_hint, backend_.peer_addresses());
  }
  co_return std::string("ERR addnode: the member entry failed: ") +
      replica::fail_reason_name(std::get<replica::Failed>(result).reason);
}

Task<void> AdminCommands::add_node(std::span<const std::string_view> arguments,
                                   kv::RespWriter& reply) {
  const NodeId node = arguments.size() == 4 ? node_argument(arguments[1]) : NodeId{0};
  if (node.value() == 0) {
    error_reply(reply, "ERR usage: RINGRAFT.ADDNODE <id> <raft host:port> <client host:port>");
    co_return;
  }
  Result<Endpoint> raft = endpoint_argument(node, arguments[2], "raft address");
  Result<Endpoint> client = endpoint_argument(node, arguments[3], "client address");
  if (!raft.ok() || !client.ok()) {
    error_reply(reply, "ERR addnode: " + (!raft.ok() ? raft.error() : client.error()).context());
    co_return;
  }
  if (!leads_or_redirect(reply)) co_return;
  if (engine_.replica(group_)->core().membership().is_voter(node)) {
    error_reply(reply, "ERR addnode: node " + std::to_string(node.value()) + " is already a voter");
    co_return;
  }
  const std::string refused = co_await commit_member_entry(node, raft.value(), client.value());
  if (!refused.empty()) {
    error_reply(reply, refused);
    co_return;
  }
  // A learner already (an earlier ADDNODE that did not finish): go on with the promotion.
  if (!engine_.replica(group_)->core().membership().is_learner(node)) {
    const Result<LogIndex> learner = co_await engine_.add_learner(group_, node);
    if (!learner.ok()) {
      error_reply(reply, admin_error("addnode (learner)", learner.error()));
      co_return;
    }
  }
  // A learner that has just started may still be backing off its reconnects to the leader
  // (up to 2 s) and miss one promotion's catch-up window: try a bounded number of times.
  Result<LogIndex> promoted = co_await engine_.promote(group_, node);
  for (int retry = 1; retry < kPromoteTries && !promoted.ok() &&
                      promoted.error().code() == ErrorCode::kCancelled && leads();
       ++retry) {
    promoted = co_await engine_.promote(group_, node);
  }
  if (!promoted.ok()) {
    error_reply(reply, admin_error("addnode (promote)", promoted.error()));
    co_return;
  }
  kv::ReplyBuilder(reply).simple_string("OK");
}

Task<void> AdminCommands::remove_node(std::span<const std::string_view> arguments,
                                      kv::RespWriter& reply) {
  const NodeId node = arguments.size() == 2 ? node_argument(arguments[1]) : NodeId{0};
  if (node.value() == 0) {
    error_reply(reply, "ERR usage: RINGRAFT.REMOVENODE <id>");
    co_return;
  }
  if (!leads_or_redirect(reply)) co_return;
  const Result<LogIndex> removed = co_await engine_.remove_member(group_, node);
  if (!removed.ok()) {
    error_reply(reply, admin_error("removenode", removed.error()));
    co_return;
  }
  kv::ReplyBuilder(reply).simple_string("OK");
}

}  // namespace ringraft::server
