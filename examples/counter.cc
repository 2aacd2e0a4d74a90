// A replicated counter: three nodes in one process (one reactor, node k on shard k - 1, each
// with its own WAL directory); the leader adds 1..10 and every node ends with the same total.
// ShardBus carries messages between shards; the TCP transport plugs into the same MessageBus.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "raft/replica/shard_bus.h"
#include "raft/replica/shard_engine.h"
#include "reactor/ops.h"
#include "reactor/reactor.h"

using namespace ringraft;
using namespace ringraft::replica;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kNodes = 3;
constexpr int64_t kIncrements = 10;
const GroupId kGroup{1};

class Counter final : public StateMachine {
 public:
  void apply(GroupId, std::span<const CommittedEntry> entries, ApplyResults& results) override {
    for (const CommittedEntry& entry : entries) {
      int64_t delta = 0;
      if (entry.payload.size() == sizeof delta) std::memcpy(&delta, entry.payload.data(), 8);
      total += delta;
      applied++;
      results.push(as_bytes(&total, sizeof total));  // the proposer gets the new total
    }
  }
  int64_t total = 0;
  std::atomic<int64_t> applied{0};
};

std::atomic<uint32_t> g_done{0};    // nodes that applied every increment
std::atomic<uint32_t> g_closed{0};  // nodes whose engine is closed
std::atomic<uint32_t> g_wrong{0};   // nodes that ended with another total

Task<void> run_node(Shard& shard, LocalNetwork& network, std::string directory) {
  const NodeId me(shard.id().value() + 1);
  EngineOptions options;
  options.node = me;
  for (uint32_t k = 1; k <= kNodes; ++k) options.voters.push_back(NodeId(k));
  options.groups = {kGroup};
  options.wal.directory = directory;
  options.wal.segment_bytes = uint64_t{4} << 20;
  ShardBus bus(network, shard, me);
  Counter counter;
  auto opened = co_await ShardEngine::open(shard, options, bus, counter);
  if (!opened) {
    std::fprintf(stderr, "node %lu: %s\n", me.value(), opened.error().message().c_str());
    std::exit(1);
  }
  ShardEngine& engine = *opened.value();
  network.attach(shard.id(), &engine);
  if (co_await engine.wait_leader(kGroup) == me) {
    for (int64_t delta = 1; delta <= kIncrements; ++delta) {
      const ProposeResult result = co_await engine.propose(kGroup, as_bytes(&delta, 8));
      if (const auto* committed = std::get_if<Committed>(&result)) {
        int64_t total = 0;
        std::memcpy(&total, committed->result.data(), sizeof total);
        std::printf("leader %lu: +%ld -> %ld at index %lu\n", me.value(), delta, total,
                    committed->index.value());
      }
    }
  }
  // A demo's shortcut: poll every 5 ms where a real program would use a cross-shard barrier.
  while (counter.applied < kIncrements) co_await ops::sleep_for(shard.io(), 5ms);
  g_done++;
  while (g_done < kNodes) co_await ops::sleep_for(shard.io(), 5ms);
  std::printf("node %lu: total %ld\n", me.value(), counter.total);
  if (counter.total != kIncrements * (kIncrements + 1) / 2) g_wrong++;
  network.detach(shard.id());
  (void)co_await engine.close();
  opened.value().reset();
  if (++g_closed == kNodes) shard.reactor().stop();
}

}  // namespace

int main() {
  char pattern[] = "/tmp/ringraft-counter-XXXXXX";
  const std::filesystem::path root = ::mkdtemp(pattern);
  LocalNetwork network(kNodes);
  ReactorConfig config;
  config.shard_count = kNodes;
  config.pin_threads = false;
  Reactor reactor(config);
  Result<void> ran = reactor.run([&](Shard& shard) -> Task<void> {
    const auto directory = root / ("node-" + std::to_string(shard.id().value() + 1));
    std::filesystem::create_directories(directory);
    co_await run_node(shard, network, directory.string());
  });
  std::filesystem::remove_all(root);
  if (!ran) std::fprintf(stderr, "%s\n", ran.error().message().c_str());
  return ran && g_wrong == 0 ? 0 : 1;
}
