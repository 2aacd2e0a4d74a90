// SimNetwork: delivers Raft messages between simulated nodes through the event queue. Each
// message may be dropped, duplicated, and delayed by a random amount (so messages overtake
// each other); a partition splits the nodes into two sides and drops every message that
// crosses it, both at send time and at delivery time (a message in flight when the partition
// comes is lost too). Messages to a crashed node are dropped on arrival by the simulator.
#pragma once

#include <cstdint>
#include <vector>

#include "raft/core/message.h"
#include "raft/core/random.h"
#include "tests/sim/event_queue.h"
#include "tests/sim/faults.h"

namespace ringraft::sim {

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t dropped = 0;  // by the drop rate
  uint64_t cut = 0;      // by a partition
  uint64_t duplicated = 0;
  uint64_t delivered = 0;
};

class SimNetwork {
 public:
  SimNetwork(size_t node_count, const FaultProfile& faults, raft::SplitMix64& rng,
             EventQueue& events);

  // The profile to draw drops, duplicates and delays from (the quiet period switches it).
  void set_faults(const FaultProfile& faults) { faults_ = &faults; }

  void send(raft::Message message);
  // Whether a message scheduled for delivery still gets through (no partition between).
  bool arrives(const raft::Message& message);

  // side[i] says which side node i + 1 is on; nodes on different sides cannot talk.
  void partition(std::vector<uint8_t> side);
  void heal();
  bool partitioned() const { return partitioned_; }
  bool connected(NodeId a, NodeId b) const;
  const std::vector<uint8_t>& sides() const { return side_; }

  const NetworkStats& stats() const { return stats_; }

 private:
  void schedule_delivery(raft::Message message);

  const FaultProfile* faults_;
  raft::SplitMix64& rng_;
  EventQueue& events_;
  std::vector<uint8_t> side_;
  bool partitioned_ = false;
  NetworkStats stats_;
};

}  // namespace ringraft::sim
