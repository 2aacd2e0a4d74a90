// ShardBus: a MessageBus between nodes hosted on the shards of ONE Reactor (node k on shard
// k - 1), for examples, demos and single-process clusters. Each message is copied into a
// cross-shard message (Shard::try_send; a full ring answers kFull) and handed to the engine
// attached on the recipient's shard after verification. The TCP transport replaces it in a
// real deployment behind the same MessageBus.
#pragma once

#include <mutex>
#include <unordered_set>
#include <vector>

#include "raft/replica/message_bus.h"
#include "reactor/shard.h"

namespace ringraft::replica {

class ShardEngine;

// The engines of one reactor by shard, shared by its ShardBuses. attach() and detach() run on
// the engine's own shard; so do deliveries to it.
class LocalNetwork {
 public:
  explicit LocalNetwork(uint32_t shard_count) : engines_(shard_count, nullptr) {}
  ~LocalNetwork();
  LocalNetwork(const LocalNetwork&) = delete;
  LocalNetwork& operator=(const LocalNetwork&) = delete;

  void attach(ShardId shard, ShardEngine* engine) { engines_[shard.value()] = engine; }
  void detach(ShardId shard) { engines_[shard.value()] = nullptr; }

 private:
  friend class ShardBus;
  struct Delivery;
  static void deliver(Shard& receiver, const ShardMessage& message);

  std::vector<ShardEngine*> engines_;
  // Messages still in a ring when the reactor stops are freed with the network.
  std::mutex in_flight_mutex_;
  std::unordered_set<Delivery*> in_flight_;
};

class ShardBus final : public MessageBus {
 public:
  ShardBus(LocalNetwork& network, Shard& shard, NodeId self)
      : network_(network), shard_(shard), self_(self) {}
  SendStatus send(NodeId to, ConstByteSpan message_flatbuffer) override;

 private:
  LocalNetwork& network_;
  Shard& shard_;
  NodeId self_;
};

}  // namespace ringraft::replica
