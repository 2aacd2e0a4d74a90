// BenchCluster: election, the Ready loop and the message pump.
#include "bench/micro/raft_bench_cluster.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/assert.h"

namespace ringraft::bench {

namespace {

constexpr size_t kNodeCount = 3;
constexpr size_t kLogBytes = size_t{64} << 20;
constexpr int kPumpRoundsMax = 10'000;

}  // namespace

BenchCluster::BenchCluster(uint32_t append_entries_max) : log_bytes_(kLogBytes) {
  for (uint64_t id = 1; id <= kNodeCount; ++id) {
    raft::Config config;
    config.id = NodeId{id};
    config.voters = {NodeId{1}, NodeId{2}, NodeId{3}};
    config.append_entries_max = append_entries_max;
    config.append_bytes_max = uint64_t{64} << 20;
    config.uncommitted_bytes_max = uint64_t{1} << 30;
    config.seed = 1;
    cores_.push_back(raft::Core::create(std::move(config)).value());
  }
  cores_[0].campaign();
  pump();
  RR_ASSERT_MSG(cores_[0].role() == raft::Role::kLeader, "node 1 wins the first election");
}

uint64_t BenchCluster::commit(std::vector<raft::Payload> batch) {
  const raft::ProposeResult result = cores_[0].propose(std::move(batch));
  const auto* proposed = std::get_if<raft::Proposed>(&result);
  RR_ASSERT_MSG(proposed != nullptr, "the leader accepts the batch");
  pump();
  for (const raft::Core& core : cores_) {
    RR_ASSERT(core.log().applied() >= proposed->last);
  }
  return proposed->last.value() - proposed->first.value() + 1;
}

uint64_t BenchCluster::entries_in_log() const {
  return cores_[0].log().last_index().value();
}

void BenchCluster::pump() {
  for (int round = 0; round < kPumpRoundsMax; ++round) {
    for (size_t node = 0; node < cores_.size(); ++node) take_ready(node);
    if (queue_.empty()) return;
    std::swap(queue_, delivering_);
    for (raft::Message& message : delivering_) {
      const size_t to = message.to.value() - 1;
      const Result<void> stepped = cores_[to].step(std::move(message));
      RR_ASSERT(stepped.ok());
      take_ready(to);
    }
    delivering_.clear();
  }
  RR_UNREACHABLE("the cluster did not settle");
}

// Persisting is a copy of the payload bytes into the in-memory log; it is durable at once, so
// messages_after_persist leave with the rest and persisted_to follows immediately.
void BenchCluster::take_ready(size_t node) {
  raft::Core& core = cores_[node];
  while (core.has_ready()) {
    raft::Ready ready = core.ready();
    for (const raft::Entry& entry : ready.entries) {
      const size_t size_bytes = entry.payload.size();
      if (log_offset_ + size_bytes > log_bytes_.size()) log_offset_ = 0;
      if (size_bytes > 0) std::memcpy(&log_bytes_[log_offset_], entry.payload.data(), size_bytes);
      log_offset_ += size_bytes;
      persisted_bytes_ += size_bytes;
    }
    for (raft::Message& message : ready.messages) queue_.push_back(std::move(message));
    for (raft::Message& message : ready.messages_after_persist) {
      queue_.push_back(std::move(message));
    }
    core.advance(ready);
    if (!ready.entries.empty()) {
      core.persisted_to(ready.entries.back().index, ready.entries.back().term);
    }
  }
}

std::vector<raft::Payload> make_batch(size_t count, size_t size_bytes, uint64_t first_value) {
  std::vector<raft::Payload> batch;
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    raft::Payload payload(size_bytes);
    const uint64_t value = first_value + i;
    std::memcpy(payload.data(), &value, std::min(size_bytes, sizeof value));
    batch.push_back(std::move(payload));
  }
  return batch;
}

}  // namespace ringraft::bench
