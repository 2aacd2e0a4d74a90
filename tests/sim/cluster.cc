// Cluster: the event loop, the nodes (Ready handling, disk completions, crashes and
// restarts), the fault injector, the trace, and when the invariants are checked.
#include "tests/sim/cluster.h"

#include <algorithm>
#include <utility>

#include "common/assert.h"
#include "raft/core/describe.h"

namespace ringraft::sim {

using raft::Core;
using raft::Message;

namespace {

constexpr uint64_t kCheckIntervalMs = 250;
constexpr int kReadiesPerInputMax = 64;

}  // namespace

Cluster::Cluster(const SimOptions& options)
    : options_(options),
      rng_(options.seed),
      network_(options.node_count, options_.faults, rng_, events_),
      invariants_(options.node_count),
      nodes_(options.node_count),
      clients_(options.client_count) {
  RR_ASSERT(options_.node_count == 3 || options_.node_count == 5);
  RR_ASSERT(options_.tick_ms >= 1);
  quiet_faults_.name = "quiet";
  quiet_faults_.delay_max_ms = std::min(options_.faults.delay_max_ms, uint32_t{10});
  quiet_faults_.delay_min_ms = std::min(options_.faults.delay_min_ms, quiet_faults_.delay_max_ms);
  quiet_faults_.fsync_max_ms = std::min(options_.faults.fsync_max_ms, uint32_t{10});
  quiet_faults_.fsync_min_ms = std::min(options_.faults.fsync_min_ms, quiet_faults_.fsync_max_ms);
  for (uint64_t id = 1; id <= options_.node_count; ++id) {
    SimNode& node = nodes_[id - 1];
    node.config = node_config(id);
    Result<Core> core = Core::create(node.config);
    RR_ASSERT_MSG(core.ok(), "the simulator's node config is valid");
    node.core.emplace(std::move(core).value());
  }
  for (uint32_t i = 0; i < options_.client_count; ++i) clients_[i].id = i + 1;
}

// Each seed also picks a configuration, so that PreVote / CheckQuorum combinations, small
// batches and windows (probe and paused states) and proposal back-pressure all get exercised.
raft::Config Cluster::node_config(uint64_t id) const {
  raft::Config config;
  config.id = NodeId{id};
  for (uint64_t voter = 1; voter <= options_.node_count; ++voter) {
    config.voters.push_back(NodeId{voter});
  }
  const uint64_t seed = options_.seed;
  config.seed = seed;
  config.pre_vote = seed % 2 == 0;
  config.check_quorum = (seed / 2) % 2 == 0;
  config.append_entries_max = (seed / 4) % 2 == 0 ? 64 : 3;
  config.inflight_count_max = (seed / 8) % 2 == 0 ? 256 : 2;
  config.uncommitted_bytes_max = (seed / 16) % 2 == 0 ? uint64_t{64} << 20 : 256;
  return config;
}

uint64_t Cluster::random_between(uint64_t low, uint64_t high) {
  RR_ASSERT(low <= high);
  return low + rng_.below(high - low + 1);
}

size_t Cluster::down_count() const {
  size_t down = 0;
  for (const SimNode& node : nodes_) down += node.core.has_value() ? 0 : 1;
  return down;
}

// ---- the run -------------------------------------------------------------------------------

SimResult Cluster::run() {
  for (uint64_t id = 1; id <= nodes_.size(); ++id) {
    Event tick;
    tick.kind = EventKind::kTick;
    tick.node = static_cast<uint32_t>(id);
    events_.schedule(rng_.below(options_.tick_ms), std::move(tick));
  }
  for (const SimClient& client : clients_) {
    Event next;
    next.kind = EventKind::kClientNext;
    next.client = client.id;
    events_.schedule(random_between(1, 50), std::move(next));
  }
  if (options_.faults.fault_interval_ms > 0) {
    Event fault;
    fault.kind = EventKind::kFault;
    events_.schedule(random_between(1, options_.faults.fault_interval_ms), std::move(fault));
  }
  const auto run_until = [&](uint64_t until_ms) {
    while (!invariants_.violation().has_value()) {
      std::optional<Event> event = events_.pop_until(until_ms);
      if (!event.has_value()) return;
      handle(*event);
      if (events_.now_ms() >= next_check_ms_) check_periodically();
    }
  };
  run_until(options_.steps);
  // The quiet period: heal, bring every node back, no new faults; clients keep going.
  quiet_ = true;
  trace("quiet");
  network_.set_faults(quiet_faults_);
  heal();
  for (SimNode& node : nodes_) {
    if (!node.core.has_value()) restart(node);
  }
  const uint64_t ok_before_quiet = stats_.ops_ok;
  run_until(options_.steps + options_.quiet_ms);
  stats_.ops_ok_when_quiet = stats_.ops_ok - ok_before_quiet;
  final_checks();

  SimResult result;
  result.violation = invariants_.violation();
  if (!result.violation.has_value() && options_.client_count > 0 && stats_.ops_ok_when_quiet == 0) {
    result.violation = "liveness: no client operation succeeded in " +
                       std::to_string(options_.quiet_ms) + " ms without faults";
  }
  if (!result.violation.has_value()) {
    result.linearizability = check_linearizable(history_.operations());
    if (result.linearizability.verdict == Linearizable::kNo) {
      result.violation = "linearizability: the history of key " + result.linearizability.key +
                         " is not linearizable";
      size_t lines = 0;
      for (const Operation& op : history_.operations()) {
        if (op.key != result.linearizability.key || ++lines > kFailingHistoryLinesMax) continue;
        result.failing_history += describe(op) + "\n";
      }
    }
  }
  for (const Operation& op : history_.operations()) {
    if (op.outcome == Outcome::kOk) trace_hash_.add(op.value);
  }
  stats_.leader_terms = invariants_.leader_terms();
  stats_.committed = invariants_.committed_count();
  stats_.network = network_.stats();
  result.stats = stats_;
  result.trace_hash = trace_hash_.value();
  result.mermaid = std::move(mermaid_);
  return result;
}

void Cluster::handle(Event& event) {
  switch (event.kind) {
    case EventKind::kDeliver:
      return on_deliver(event);
    case EventKind::kDiskDone:
      return on_disk_done(event);
    case EventKind::kTick:
      return on_tick(event);
    case EventKind::kClientRequest:
      return on_client_request(event);
    case EventKind::kClientResponse:
      return on_client_response(event);
    case EventKind::kClientDeadline:
      return on_client_deadline(event);
    case EventKind::kClientNext:
      return on_client_next(event);
    case EventKind::kFault:
      if (!quiet_) on_fault();
      return;
    case EventKind::kRestart:
      if (!nodes_[event.node - 1].core.has_value()) restart(nodes_[event.node - 1]);
      return;
    case EventKind::kHeal:
      if (network_.partitioned()) heal();
      return;
  }
}

// ---- nodes -----------------------------------------------------------------------------------

void Cluster::on_deliver(Event& event) {
  SimNode& node = nodes_[event.node - 1];
  Message& message = event.message;
  if (!node.core.has_value() || !network_.arrives(message)) {
    if (options_.mermaid) {
      mermaid_ += "  n" + std::to_string(message.from.value()) + "-xn" +
                  std::to_string(message.to.value()) + ": lost " + message_type_name(message.type) +
                  "\n";
    }
    return;
  }
  const std::string text = describe(message);
  trace(text);
  if (options_.mermaid) {
    const size_t space = text.find(' ');
    mermaid_ += "  n" + std::to_string(message.from.value()) + "->>n" +
                std::to_string(message.to.value()) + ": " + std::to_string(events_.now_ms()) +
                "ms " + text.substr(space + 1) + "\n";
  }
  Result<void> stepped = node.core->step(std::move(message));
  if (!stepped.ok()) {
    // Every message comes from a core: a refusal means a core produced malformed output.
    invariants_.report("a core refused a message: " + stepped.error().message());
  }
  drain(node);
}

void Cluster::on_disk_done(const Event& event) {
  SimNode& node = nodes_[event.node - 1];
  if (!node.core.has_value() || node.incarnation != event.incarnation) return;  // crashed since
  DiskWrite write = node.disk.complete_oldest();
  if (!write.entries.empty()) {
    node.core->persisted_to(write.entries.back().index, write.entries.back().term);
  }
  for (Message& message : write.after_persist) send(node, std::move(message));
  drain(node);
}

void Cluster::on_tick(const Event& event) {
  SimNode& node = nodes_[event.node - 1];
  if (node.core.has_value()) {
    node.core->tick();
    drain(node);
  }
  // Clocks drift: each tick comes up to a fifth of a tick early or late.
  const uint64_t jitter_ms = options_.tick_ms / 5;
  Event next;
  next.kind = EventKind::kTick;
  next.node = event.node;
  events_.schedule_in(random_between(options_.tick_ms - jitter_ms, options_.tick_ms + jitter_ms),
                      std::move(next));
}

// Takes every Ready over as ready.h prescribes: the write (with the messages that wait for it)
// to the disk, the leader's Appends to the network at once, committed entries to the KV.
void Cluster::drain(SimNode& node) {
  Core& core = *node.core;
  // Observed before each Ready: a commit is recorded before any node applies it.
  invariants_.observe(core);
  for (int round = 0; round < kReadiesPerInputMax && core.has_ready(); ++round) {
    raft::Ready ready = core.ready();
    if (ready.hard_state.has_value() || !ready.entries.empty() ||
        !ready.messages_after_persist.empty()) {
      DiskWrite write;
      write.hard_state = ready.hard_state;
      write.entries = ready.entries;
      if (options_.inject_ack_before_fsync) {
        for (Message& message : ready.messages_after_persist) send(node, std::move(message));
      } else {
        write.after_persist = std::move(ready.messages_after_persist);
      }
      const FaultProfile& faults = quiet_ ? quiet_faults_ : options_.faults;
      const uint64_t fsync_ms = random_between(faults.fsync_min_ms, faults.fsync_max_ms);
      Event done;
      done.kind = EventKind::kDiskDone;
      done.node = static_cast<uint32_t>(core.id().value());
      done.incarnation = node.incarnation;
      events_.schedule(node.disk.write(std::move(write), events_.now_ms(), fsync_ms),
                       std::move(done));
    }
    for (Message& message : ready.messages) send(node, std::move(message));
    for (const raft::Entry& entry : ready.committed_entries) apply(node, entry);
    core.advance(ready);
    invariants_.observe(core);
  }
  RR_ASSERT_MSG(!core.has_ready(), "Readies did not settle");
}

void Cluster::send(const SimNode& node, Message message) {
  if (options_.check_persisted_before_sent) invariants_.check_sent(node.disk, message);
  network_.send(std::move(message));
}

// A committed entry reaches the node's state machine; a client waiting on its index learns
// the outcome (another entry in its slot means its proposal was overwritten: it failed).
void Cluster::apply(SimNode& node, const raft::Entry& entry) {
  const NodeId id = node.core->id();
  invariants_.on_apply(id, entry);
  const std::optional<KvCommand> command = decode_command(entry.payload);
  std::string read_value;
  if (command.has_value()) read_value = node.kv.apply(*command);
  const auto pending = node.pending.find(entry.index.value());
  if (pending == node.pending.end()) return;
  const PendingProposal proposal = pending->second;
  node.pending.erase(pending);
  if (command.has_value() && command->op_id == proposal.op_id) {
    invariants_.on_acknowledged(entry);
    answer(id.value(), proposal.client, proposal.attempt, Answer::kOk, 0, std::move(read_value));
  } else {
    answer(id.value(), proposal.client, proposal.attempt, Answer::kFail, 0, {});
  }
}

// ---- faults ------------------------------------------------------------------------------------

void Cluster::on_fault() {
  const FaultProfile& faults = options_.faults;
  const uint64_t roll = rng_.below(100);
  if (rng_.below(100) < options_.membership_percent) {
    change_membership();
  } else if (roll < faults.partition_percent) {
    if (!network_.partitioned()) partition();
  } else if (roll < faults.partition_percent + faults.crash_percent) {
    // At most a minority down at once, so that the cluster can still make progress.
    if (down_count() < (nodes_.size() - 1) / 2) {
      SimNode& node = nodes_[rng_.below(nodes_.size())];
      if (node.core.has_value()) crash(node);
    }
  }
  Event next;
  next.kind = EventKind::kFault;
  events_.schedule_in(
      random_between(faults.fault_interval_ms / 2, faults.fault_interval_ms * 3 / 2),
      std::move(next));
}

// One change on the leader, if there is one: promote a learner, else add back the node outside
// the voters as a learner, else remove a random voter (possibly the leader itself).
void Cluster::change_membership() {
  SimNode* leader = nullptr;
  for (SimNode& node : nodes_) {
    if (node.core.has_value() && node.core->role() == raft::Role::kLeader) leader = &node;
  }
  if (leader == nullptr) return;
  Core& core = *leader->core;
  const raft::Membership& membership = core.membership();
  raft::MembershipChange change;
  if (!membership.learners.empty()) {
    change.op = raft::MembershipOp::kPromote;
    change.node = membership.learners.front();
  } else if (membership.voters.size() < nodes_.size()) {
    change.op = raft::MembershipOp::kAddLearner;
    for (uint64_t id = 1; id <= nodes_.size(); ++id) {
      if (!membership.is_member(NodeId{id})) change.node = NodeId{id};
    }
  } else {
    change.op = raft::MembershipOp::kRemove;
    change.node = membership.voters[rng_.below(membership.voters.size())];
  }
  const Result<void> done = core.change_membership(change);
  trace_note(core.id().value(), std::string("membership ") + raft::membership_op_name(change.op) +
                                    " " + std::to_string(change.node.value()) +
                                    (done.ok() ? "" : ": " + done.error().message()));
  if (done.ok()) ++stats_.membership_changes;
  drain(*leader);
}

void Cluster::crash(SimNode& node) {
  const uint64_t id = node.core->id().value();
  const size_t lost = node.disk.crash(rng_, options_.faults.early_flush_percent);
  trace_note(id, "crash, " + std::to_string(lost) + " unsynced writes lost");
  ++stats_.crashes;
  stats_.writes_lost += lost;
  node.core.reset();
  node.pending.clear();  // their clients time out: outcome unknown
  node.kv = KvStateMachine();
  ++node.incarnation;
  std::vector<const SimDisk*> disks;
  for (const SimNode& each : nodes_) disks.push_back(&each.disk);
  invariants_.check_acknowledged_durable(disks);
  Event restart_event;
  restart_event.kind = EventKind::kRestart;
  restart_event.node = static_cast<uint32_t>(id);
  events_.schedule_in(random_between(1, std::max<uint64_t>(1, options_.faults.down_max_ms)),
                      std::move(restart_event));
}

void Cluster::restart(SimNode& node) {
  Result<Core> core = Core::create(node.config, node.disk.durable_state());
  RR_ASSERT_MSG(core.ok(), "a core restarts from what its disk holds");
  node.core.emplace(std::move(core).value());
  trace_note(node.config.id.value(), "restart: " + describe(*node.core));
  invariants_.on_restart(*node.core);
  drain(node);
}

// Cuts one node off, or a random minority, for a while.
void Cluster::partition() {
  std::vector<uint8_t> side(nodes_.size(), 0);
  const size_t cut_count = rng_.below(2) == 0 ? 1 : 1 + rng_.below((nodes_.size() - 1) / 2);
  for (size_t cut = 0; cut < cut_count;) {
    const size_t i = rng_.below(nodes_.size());
    if (side[i] == 0) {
      side[i] = 1;
      ++cut;
    }
  }
  std::string text = "partition:";
  for (size_t i = 0; i < side.size(); ++i) {
    if (side[i] == 1) text += " n" + std::to_string(i + 1);
  }
  trace_note(1, text + " cut off");
  ++stats_.partitions;
  network_.partition(std::move(side));
  Event heal_event;
  heal_event.kind = EventKind::kHeal;
  events_.schedule_in(random_between(50, std::max<uint64_t>(50, options_.faults.partition_max_ms)),
                      std::move(heal_event));
}

void Cluster::heal() {
  if (network_.partitioned()) trace_note(1, "heal");
  network_.heal();
}

// ---- checks and trace ------------------------------------------------------------------------

void Cluster::check_periodically() {
  next_check_ms_ = events_.now_ms() + kCheckIntervalMs;
  std::vector<const Core*> cores;
  for (const SimNode& node : nodes_) {
    cores.push_back(node.core.has_value() ? &*node.core : nullptr);
    if (node.core.has_value() && node.core->role() == raft::Role::kLeader) {
      invariants_.check_leader_completeness(*node.core);
    }
  }
  invariants_.check_log_matching(cores);
}

void Cluster::final_checks() {
  check_periodically();
  std::vector<const SimDisk*> disks;
  for (const SimNode& node : nodes_) disks.push_back(&node.disk);
  invariants_.check_acknowledged_durable(disks);
}

void Cluster::trace(std::string_view line) {
  trace_hash_.add(events_.now_ms());
  trace_hash_.add(line);
}

void Cluster::trace_note(uint64_t node, std::string_view text) {
  trace(text);
  if (options_.mermaid) {
    mermaid_ += "  Note over n" + std::to_string(node) + ": " + std::to_string(events_.now_ms()) +
                "ms " + std::string(text) + "\n";
  }
}

// ---- entry point -----------------------------------------------------------------------------

SimResult run_simulation(const SimOptions& options) {
  Cluster cluster(options);
  return cluster.run();
}

std::string summarize(const SimOptions& options, const SimResult& result) {
  const SimStats& stats = result.stats;
  std::string text = "seed " + std::to_string(options.seed) + " nodes " +
                     std::to_string(options.node_count) + " faults " + options.faults.name + ": " +
                     (result.ok() ? "ok" : "VIOLATION " + *result.violation);
  text += " | ops ok " + std::to_string(stats.ops_ok) + " fail " + std::to_string(stats.ops_fail) +
          " unknown " + std::to_string(stats.ops_unknown) + ", committed " +
          std::to_string(stats.committed) + ", leader terms " + std::to_string(stats.leader_terms) +
          ", membership changes " + std::to_string(stats.membership_changes) + ", crashes " +
          std::to_string(stats.crashes) + " (writes lost " + std::to_string(stats.writes_lost) +
          "), partitions " + std::to_string(stats.partitions) + ", messages " +
          std::to_string(stats.network.sent) + " (dropped " +
          std::to_string(stats.network.dropped + stats.network.cut) + "), history " +
          linearizable_name(result.linearizability.verdict) + " (" +
          std::to_string(result.linearizability.steps) + " steps), trace " +
          std::to_string(result.trace_hash);
  return text;
}

}  // namespace ringraft::sim
