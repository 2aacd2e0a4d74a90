// Cluster: the simulator's world (simulator.h is its entry point). Nodes with their cores,
// disks and state machines; clients with their one outstanding operation; the fault injector.
// Event handlers live in cluster.cc (nodes, network, faults) and workload.cc (clients).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/sim/simulator.h"

namespace ringraft::sim {

struct PendingProposal {
  uint32_t client = 0;
  uint64_t attempt = 0;
  uint64_t op_id = 0;
};

struct SimNode {
  raft::Config config;
  std::optional<raft::Core> core;  // nullopt while crashed
  SimDisk disk;
  KvStateMachine kv;
  std::map<uint64_t, PendingProposal> pending;  // by log index: clients waiting on an apply
  uint64_t incarnation = 0;
};

struct SimClient {
  uint32_t id = 0;
  uint64_t target = 1;  // the node it believes leads
  bool busy = false;
  size_t history_index = 0;
  KvCommand command;
  uint64_t op_seq = 0;   // operations started (tags the deadline event)
  uint64_t attempt = 0;  // the attempt answers are matched against
  uint64_t deadline_ms = 0;
};

class Cluster {
 public:
  explicit Cluster(const SimOptions& options);
  SimResult run();

 private:
  // cluster.cc: nodes, network, faults.
  void handle(Event& event);
  void on_deliver(Event& event);
  void on_disk_done(const Event& event);
  void on_tick(const Event& event);
  void on_fault();
  void crash(SimNode& node);
  void change_membership();
  void restart(SimNode& node);
  void partition();
  void heal();
  void drain(SimNode& node);
  void send(const SimNode& node, raft::Message message);
  void apply(SimNode& node, const raft::Entry& entry);
  void check_periodically();
  void final_checks();
  void trace(std::string_view line);
  void trace_note(uint64_t node, std::string_view text);
  uint64_t random_between(uint64_t low, uint64_t high);
  size_t down_count() const;
  raft::Config node_config(uint64_t id) const;

  // workload.cc: clients.
  void on_client_next(const Event& event);
  void on_client_request(Event& event);
  void on_client_response(Event& event);
  void on_client_deadline(const Event& event);
  void send_attempt(SimClient& client, uint64_t node, uint64_t delay_ms);
  void answer(uint64_t node, uint32_t client, uint64_t attempt, Answer answer_kind,
              uint64_t leader_hint, std::string read_value);
  void finish(SimClient& client, Outcome outcome, std::string read_value);

  SimOptions options_;
  FaultProfile quiet_faults_;
  raft::SplitMix64 rng_;
  EventQueue events_;
  SimNetwork network_;
  InvariantChecker invariants_;
  History history_;
  std::vector<SimNode> nodes_;  // node i at nodes_[i - 1]
  std::vector<SimClient> clients_;
  Fnv1a trace_hash_;
  std::string mermaid_;
  SimStats stats_;
  bool quiet_ = false;
  uint64_t next_op_id_ = 1;
  uint64_t next_attempt_ = 1;
  uint64_t next_check_ms_ = 0;
};

}  // namespace ringraft::sim
