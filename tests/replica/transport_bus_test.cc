// TransportBus: three engines, each behind its own TCP transport on loopback (all on one shard
// of one reactor, each with its own port), elect a leader and replicate; stop in the order
// the bus documents (transports, then engines).
#include "raft/replica/transport_bus.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <variant>
#include <vector>

#include "raft/replica/shard_engine.h"
#include "tests/net/transport_harness.h"
#include "tests/reactor/test_reactor.h"
#include "tests/replica/cluster.h"
#include "tests/support/temp_dir.h"

namespace ringraft::replica {
namespace {

using ringraft::net::testing::free_port;
using ringraft::net::testing::loopback_options;
using ringraft::net::testing::loopback_peer;
using ringraft::net::testing::wait_until;

constexpr GroupId kGroup{1};
constexpr uint32_t kNodes = 3;

struct TcpNode {
  std::unique_ptr<TransportBus> bus;
  std::unique_ptr<testing::RecordingStateMachine> machine;
  std::unique_ptr<ShardEngine> engine;
};

EngineOptions engine_options(uint64_t node, const std::string& directory) {
  EngineOptions options;
  options.node = NodeId{node};
  for (uint64_t voter = 1; voter <= kNodes; ++voter) options.voters.push_back(NodeId{voter});
  options.groups = {kGroup};
  options.wal.directory = directory;
  options.wal.segment_bytes = uint64_t{4} << 20;
  options.wal.batch_bytes_max = 256u << 10;
  options.raft.seed = node * 7919;
  return options;
}

Task<void> start_nodes(Shard& shard, ringraft::testing::TempDir& dir, std::vector<TcpNode>& nodes) {
  std::vector<uint16_t> ports;
  for (uint32_t i = 0; i < kNodes; ++i) ports.push_back(free_port());
  for (uint64_t node = 1; node <= kNodes; ++node) {
    std::vector<net::PeerAddress> peers;
    for (uint64_t peer = 1; peer <= kNodes; ++peer) {
      if (peer != node) peers.push_back(loopback_peer(peer, ports[peer - 1]));
    }
    auto bus = TransportBus::create(shard, loopback_options(node, ports[node - 1], peers));
    EXPECT_TRUE(bus.ok());
    if (!bus.ok()) co_return;
    TcpNode& added = nodes.emplace_back();
    added.bus = std::move(bus.value());
    EXPECT_TRUE((co_await added.bus->start()).ok());
    added.machine = std::make_unique<testing::RecordingStateMachine>();
    const std::string wal_dir = dir.path() + "/node" + std::to_string(node);
    std::filesystem::create_directories(wal_dir);
    auto opened = co_await ShardEngine::open(shard, engine_options(node, wal_dir), *added.bus,
                                             *added.machine);
    EXPECT_TRUE(opened.ok()) << opened.error().message();
    if (!opened.ok()) co_return;
    added.engine = std::move(opened.value());
    added.bus->attach(*added.engine);
  }
}

Task<void> stop_nodes(std::vector<TcpNode>& nodes) {
  for (TcpNode& node : nodes) co_await node.bus->stop();
  for (TcpNode& node : nodes) {
    if (node.engine != nullptr) {
      EXPECT_TRUE((co_await node.engine->close()).ok());
    }
    node.bus->detach();
  }
}

TEST(TransportBus, ThreeNodesOverTcpElectAndReplicate) {
  ringraft::testing::TempDir dir;
  ringraft::testing::run_on_reactor([&](Shard& shard) -> Task<void> {
    std::vector<TcpNode> nodes;
    co_await start_nodes(shard, dir, nodes);
    if (nodes.size() != kNodes || nodes.back().engine == nullptr) co_return;
    const NodeId leader = co_await nodes[0].engine->wait_leader(kGroup);
    EXPECT_NE(leader.value(), 0u);
    if (leader.value() == 0) co_return;
    ShardEngine& leader_engine = *nodes[leader.value() - 1].engine;
    constexpr int kProposals = 50;
    for (int i = 0; i < kProposals; ++i) {
      const std::string command = "cmd" + std::to_string(i);
      const ProposeResult result =
          co_await leader_engine.propose(kGroup, as_bytes(command.data(), command.size()));
      EXPECT_TRUE(std::holds_alternative<Committed>(result)) << "proposal " << i;
    }
    const LogIndex last = leader_engine.replica(kGroup)->applied_index();
    for (TcpNode& node : nodes) co_await node.engine->wait_applied(kGroup, last);
    for (TcpNode& node : nodes) {
      const auto& applied = node.machine->applied[kGroup];
      EXPECT_EQ(applied.size(), size_t{kProposals}) << "node " << node.engine->node().value();
      if (applied.size() == size_t{kProposals}) {
        EXPECT_EQ(applied.front(), "cmd0");
        EXPECT_EQ(applied.back(), "cmd" + std::to_string(kProposals - 1));
      }
      EXPECT_GT(node.bus->stats().received, 0u);
      EXPECT_EQ(node.bus->stats().received_refused, 0u);
    }
    // A follower answers NotLeader naming the leader it learnt over TCP.
    TcpNode& follower = nodes[leader.value() % kNodes];
    const std::string command = "refused";
    const ProposeResult refused =
        co_await follower.engine->propose(kGroup, as_bytes(command.data(), command.size()));
    EXPECT_TRUE(std::holds_alternative<NotLeader>(refused));
    if (const auto* not_leader = std::get_if<NotLeader>(&refused)) {
      EXPECT_EQ(not_leader->leader_hint, leader);
    }
    co_await stop_nodes(nodes);
  });
}

TEST(TransportBus, MessagesBeforeAttachAreDroppedAndCounted) {
  ringraft::testing::TempDir dir;
  ringraft::testing::run_on_reactor([&](Shard& shard) -> Task<void> {
    const uint16_t port_a = free_port();
    const uint16_t port_b = free_port();
    auto a = TransportBus::create(shard, loopback_options(1, port_a, {loopback_peer(2, port_b)}));
    auto b = TransportBus::create(shard, loopback_options(2, port_b, {loopback_peer(1, port_a)}));
    EXPECT_TRUE(a.ok() && b.ok());
    if (!a.ok() || !b.ok()) co_return;
    TransportBus& bus_a = *a.value();
    TransportBus& bus_b = *b.value();
    EXPECT_EQ(bus_a.send(NodeId{2}, {}), SendStatus::kUnreachable);  // not started yet
    EXPECT_TRUE((co_await bus_a.start()).ok());
    EXPECT_TRUE((co_await bus_b.start()).ok());
    // Node 1 of a two-voter group campaigns and asks node 2, whose bus has no engine.
    EngineOptions options = engine_options(1, dir.path() + "/node1");
    std::filesystem::create_directories(options.wal.directory);
    options.voters = {NodeId{1}, NodeId{2}};
    testing::RecordingStateMachine machine;
    auto opened = co_await ShardEngine::open(shard, options, bus_a, machine);
    EXPECT_TRUE(opened.ok());
    if (!opened.ok()) co_return;
    bus_a.attach(*opened.value());
    const bool dropped =
        co_await wait_until(shard, [&] { return bus_b.stats().received_unattached > 0; });
    EXPECT_TRUE(dropped);
    EXPECT_EQ(bus_b.stats().received, bus_b.stats().received_unattached);
    EXPECT_GT(bus_a.stats().sent, 0u);
    co_await bus_a.stop();
    co_await bus_b.stop();
    EXPECT_TRUE((co_await opened.value()->close()).ok());
  });
}

}  // namespace
}  // namespace ringraft::replica
