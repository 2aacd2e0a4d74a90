// The client workload: each client runs one operation at a time (put, append or get of a few
// keys, unique values), sends it to the node it believes leads, follows NotLeader hints, backs
// off when the leader is busy or the node is down, and gives up at a deadline. Every
// operation lands in the history with its outcome:
//   ok       the node that proposed it applied it (a get carries the value read);
//   fail     certainly not applied: refused by every node tried, or its log slot was taken
//            by another entry;
//   unknown  the deadline passed while a request could still be in some log.
#include <utility>

#include "common/assert.h"
#include "tests/sim/cluster.h"

namespace ringraft::sim {

namespace {

constexpr uint64_t kClientLinkMs = 1;  // client <-> node, each way
constexpr uint64_t kThinkMaxMs = 20;
constexpr uint64_t kRetryBackoffMs = 5;
constexpr uint64_t kBusyBackoffMs = 20;

}  // namespace

void Cluster::on_client_next(const Event& event) {
  SimClient& client = clients_[event.client - 1];
  RR_ASSERT(!client.busy);
  const uint64_t roll = rng_.below(100);
  KvCommand command;
  command.op_id = next_op_id_++;
  command.kind = roll < 30 ? OpKind::kPut : roll < 70 ? OpKind::kAppend : OpKind::kGet;
  command.key = "k" + std::to_string(rng_.below(options_.key_count));
  if (command.kind != OpKind::kGet) {
    command.value = "c" + std::to_string(client.id) + "." + std::to_string(command.op_id) + ";";
  }
  client.busy = true;
  client.command = command;
  client.history_index = history_.invoke(client.id, command.kind, command.key, command.value,
                                         command.op_id, events_.next_seq());
  client.deadline_ms = events_.now_ms() + options_.op_timeout_ms;
  ++client.op_seq;
  Event deadline;
  deadline.kind = EventKind::kClientDeadline;
  deadline.client = client.id;
  deadline.attempt = client.op_seq;
  events_.schedule(client.deadline_ms, std::move(deadline));
  // With local reads injected, gets go anywhere (that is where stale reads come from).
  const bool anywhere = options_.inject_local_reads && command.kind == OpKind::kGet;
  send_attempt(client, anywhere ? 1 + rng_.below(nodes_.size()) : client.target, kClientLinkMs);
}

void Cluster::send_attempt(SimClient& client, uint64_t node, uint64_t delay_ms) {
  client.target = node;
  client.attempt = next_attempt_++;
  Event request;
  request.kind = EventKind::kClientRequest;
  request.node = static_cast<uint32_t>(node);
  request.client = client.id;
  request.attempt = client.attempt;
  request.read_value = std::string();
  events_.schedule_in(delay_ms, std::move(request));
}

// A request reaches a node. The node does not know whether its client still waits: a late
// request is proposed all the same (that is why an expired operation is "unknown").
void Cluster::on_client_request(Event& event) {
  SimNode& node = nodes_[event.node - 1];
  const SimClient& client = clients_[event.client - 1];
  if (!node.core.has_value()) {
    answer(event.node, event.client, event.attempt, Answer::kUnreachable, 0, {});
    return;
  }
  // The command travels with the attempt: the client's current command if the attempt is
  // current, else the request is stale and its command unknown to us; drop it (a real late
  // request would carry the command; dropping it only makes "unknown" outcomes rarer).
  if (event.attempt != client.attempt || !client.busy) return;
  if (options_.inject_local_reads && client.command.kind == OpKind::kGet) {
    const auto it = node.kv.values().find(client.command.key);
    answer(event.node, event.client, event.attempt, Answer::kOk, 0,
           it == node.kv.values().end() ? std::string() : it->second);
    return;
  }
  std::vector<raft::Payload> batch;
  batch.push_back(encode_command(client.command));
  const raft::ProposeResult result = node.core->propose(std::move(batch));
  if (const auto* proposed = std::get_if<raft::Proposed>(&result)) {
    node.pending[proposed->first.value()] =
        PendingProposal{event.client, event.attempt, client.command.op_id};
  } else if (const auto* not_leader = std::get_if<raft::NotLeader>(&result)) {
    answer(event.node, event.client, event.attempt, Answer::kNotLeader,
           not_leader->leader_hint.value(), {});
  } else {
    answer(event.node, event.client, event.attempt, Answer::kBusy, 0, {});
  }
  drain(node);
}

void Cluster::answer(uint64_t node, uint32_t client, uint64_t attempt, Answer answer_kind,
                     uint64_t leader_hint, std::string read_value) {
  Event response;
  response.kind = EventKind::kClientResponse;
  response.node = static_cast<uint32_t>(node);
  response.client = client;
  response.attempt = attempt;
  response.answer = answer_kind;
  response.leader_hint = leader_hint;
  response.read_value = std::move(read_value);
  events_.schedule_in(kClientLinkMs, std::move(response));
}

void Cluster::on_client_response(Event& event) {
  SimClient& client = clients_[event.client - 1];
  if (!client.busy || event.attempt != client.attempt) return;  // an earlier attempt's answer
  switch (event.answer) {
    case Answer::kOk:
      return finish(client, Outcome::kOk, std::move(event.read_value));
    case Answer::kFail:
      return finish(client, Outcome::kFail, {});
    case Answer::kNotLeader:
    case Answer::kBusy:
    case Answer::kUnreachable:
      break;
  }
  // Refused: the request entered no log. Retry unless the deadline would pass first.
  const uint64_t backoff_ms = event.answer == Answer::kBusy ? kBusyBackoffMs : kRetryBackoffMs;
  if (events_.now_ms() + backoff_ms + kClientLinkMs >= client.deadline_ms) {
    return finish(client, Outcome::kFail, {});
  }
  uint64_t next_node = event.node;
  if (event.answer == Answer::kNotLeader && event.leader_hint != 0) {
    next_node = event.leader_hint;
  } else if (event.answer != Answer::kBusy) {
    next_node = 1 + rng_.below(nodes_.size());
  }
  send_attempt(client, next_node, backoff_ms + kClientLinkMs);
}

void Cluster::on_client_deadline(const Event& event) {
  SimClient& client = clients_[event.client - 1];
  if (!client.busy || event.attempt != client.op_seq) return;  // that operation already ended
  finish(client, Outcome::kUnknown, {});
}

void Cluster::finish(SimClient& client, Outcome outcome, std::string read_value) {
  RR_ASSERT(client.busy);
  history_.complete(client.history_index, outcome, std::move(read_value), events_.next_seq());
  trace(describe(history_.operations()[client.history_index]));
  switch (outcome) {
    case Outcome::kOk:
      ++stats_.ops_ok;
      break;
    case Outcome::kFail:
      ++stats_.ops_fail;
      break;
    case Outcome::kUnknown:
      ++stats_.ops_unknown;
      break;
  }
  client.busy = false;
  client.attempt = 0;
  Event next;
  next.kind = EventKind::kClientNext;
  next.client = client.id;
  events_.schedule_in(1 + rng_.below(kThinkMaxMs), std::move(next));
}

}  // namespace ringraft::sim
