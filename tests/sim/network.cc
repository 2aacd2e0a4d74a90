// SimNetwork: drops, duplicates, delays and partitions.
#include "tests/sim/network.h"

#include <utility>

#include "common/assert.h"

namespace ringraft::sim {

SimNetwork::SimNetwork(size_t node_count, const FaultProfile& faults, raft::SplitMix64& rng,
                       EventQueue& events)
    : faults_(&faults), rng_(rng), events_(events), side_(node_count, 0) {
  RR_ASSERT(faults_->delay_min_ms <= faults_->delay_max_ms);
}

void SimNetwork::send(raft::Message message) {
  ++stats_.sent;
  if (!connected(message.from, message.to)) {
    ++stats_.cut;
    return;
  }
  if (rng_.below(100) < faults_->drop_percent) {
    ++stats_.dropped;
    return;
  }
  if (rng_.below(100) < faults_->duplicate_percent) {
    ++stats_.duplicated;
    schedule_delivery(message);
  }
  schedule_delivery(std::move(message));
}

bool SimNetwork::arrives(const raft::Message& message) {
  if (!connected(message.from, message.to)) {
    ++stats_.cut;
    return false;
  }
  ++stats_.delivered;
  return true;
}

void SimNetwork::schedule_delivery(raft::Message message) {
  const uint64_t delay_ms =
      faults_->delay_min_ms + rng_.below(faults_->delay_max_ms - faults_->delay_min_ms + 1);
  Event event;
  event.kind = EventKind::kDeliver;
  event.node = static_cast<uint32_t>(message.to.value());
  event.message = std::move(message);
  events_.schedule_in(delay_ms, std::move(event));
}

void SimNetwork::partition(std::vector<uint8_t> side) {
  RR_ASSERT(side.size() == side_.size());
  side_ = std::move(side);
  partitioned_ = true;
}

void SimNetwork::heal() {
  side_.assign(side_.size(), 0);
  partitioned_ = false;
}

bool SimNetwork::connected(NodeId a, NodeId b) const {
  RR_ASSERT(a.value() >= 1 && a.value() <= side_.size());
  RR_ASSERT(b.value() >= 1 && b.value() <= side_.size());
  return side_[a.value() - 1] == side_[b.value() - 1];
}

}  // namespace ringraft::sim
