// Simulator: a cluster of 3 or 5 Raft cores on simulated disks, a simulated network and a
// simulated clock, driven by a client workload, with every random choice drawn from one seed.
// Same options, same run, byte for byte (SimResult::trace_hash fingerprints every event).
//
// One run: `steps` simulated milliseconds under the fault profile, then a quiet period with
// every fault healed and every node up, during which some client must still get an answer
// (liveness). Raft's safety properties are checked continuously (invariants.h); at the end the
// client history goes through the linearizability checker.
//
//   event queue (event_queue.h) ──> node: Core.step / tick / propose / persisted_to
//                                     └─ drain: Ready -> disk write (+ held messages),
//                                               messages -> network, committed -> KV apply
//   clients ──(1 ms)──> node ──(on apply)──> client       history -> linearizability.h
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raft/core/core.h"
#include "raft/core/random.h"
#include "tests/sim/disk.h"
#include "tests/sim/event_queue.h"
#include "tests/sim/faults.h"
#include "tests/sim/history.h"
#include "tests/sim/invariants.h"
#include "tests/sim/kv.h"
#include "tests/sim/linearizability.h"
#include "tests/sim/network.h"
#include "tests/sim/trace_hash.h"

namespace ringraft::sim {

struct SimOptions {
  uint64_t seed = 1;
  size_t node_count = 3;
  uint64_t steps = 20'000;  // simulated milliseconds under faults
  uint64_t quiet_ms = 4'000;
  FaultProfile faults;
  uint32_t client_count = 3;
  uint32_t key_count = 3;
  uint64_t tick_ms = 10;
  uint64_t op_timeout_ms = 1'000;
  bool mermaid = false;  // keep the message trace as a Mermaid sequence diagram
  // A deliberate storage bug, to show the checks catch it: messages that must wait for the
  // write (votes, acknowledgements) leave before it is durable.
  bool inject_ack_before_fsync = false;
  // A deliberate service bug: any node answers a get from its own state machine, without the
  // log (a stale read on a follower or a deposed leader). The history check must catch it.
  bool inject_local_reads = false;
  // The direct check of ready.h's persistence contract (invariants.h); off only to show that
  // the end-to-end checks catch a broken contract too.
  bool check_persisted_before_sent = true;
  // Chance (percent) that a fault event is instead a membership change on the leader: remove
  // a voter (the leader itself sometimes), add it back as a learner, promote it. At most one
  // node is outside the voters at a time, so majorities of voters stay majorities of nodes.
  uint32_t membership_percent = 10;
};

struct SimStats {
  uint64_t ops_ok = 0;
  uint64_t ops_fail = 0;
  uint64_t ops_unknown = 0;
  uint64_t ops_ok_when_quiet = 0;
  uint64_t crashes = 0;
  uint64_t writes_lost = 0;
  uint64_t partitions = 0;
  uint64_t leader_terms = 0;
  uint64_t committed = 0;
  uint64_t membership_changes = 0;  // accepted by a leader
  NetworkStats network;
};

struct SimResult {
  std::optional<std::string> violation;  // the first broken property, if any
  LinearizabilityResult linearizability;
  uint64_t trace_hash = 0;
  SimStats stats;
  std::string mermaid;  // when SimOptions::mermaid
  // When the history is not linearizable: that key's operations, one per line (the first
  // kFailingHistoryLinesMax), to read beside the replayed trace.
  std::string failing_history;
  bool ok() const { return !violation.has_value(); }
};

inline constexpr size_t kFailingHistoryLinesMax = 400;

SimResult run_simulation(const SimOptions& options);

// One line: seed, verdict, and the counters.
std::string summarize(const SimOptions& options, const SimResult& result);

}  // namespace ringraft::sim
