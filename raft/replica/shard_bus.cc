#include "raft/replica/shard_bus.h"

#include <memory>

#include "raft/replica/shard_engine.h"
#include "raft/replica/wire.h"

namespace ringraft::replica {

struct LocalNetwork::Delivery {
  LocalNetwork* network;
  NodeId from;
  std::vector<std::byte> bytes;
};

LocalNetwork::~LocalNetwork() {
  for (Delivery* delivery : in_flight_) delete delivery;
}

SendStatus ShardBus::send(NodeId to, ConstByteSpan message_flatbuffer) {
  if (to.value() == 0 || to.value() > network_.engines_.size()) return SendStatus::kUnreachable;
  auto* delivery = new LocalNetwork::Delivery{
      &network_, self_,
      std::vector<std::byte>(message_flatbuffer.begin(), message_flatbuffer.end())};
  {
    const std::lock_guard<std::mutex> lock(network_.in_flight_mutex_);
    network_.in_flight_.insert(delivery);
  }
  ShardMessage message;
  message.handler = &LocalNetwork::deliver;
  message.object = delivery;
  if (shard_.try_send(ShardId(static_cast<uint32_t>(to.value() - 1)), message)) {
    return SendStatus::kQueued;
  }
  const std::lock_guard<std::mutex> lock(network_.in_flight_mutex_);
  network_.in_flight_.erase(delivery);
  delete delivery;
  return SendStatus::kFull;
}

void LocalNetwork::deliver(Shard& receiver, const ShardMessage& message) {
  auto* delivery = static_cast<Delivery*>(message.object);
  LocalNetwork& network = *delivery->network;
  {
    const std::lock_guard<std::mutex> lock(network.in_flight_mutex_);
    network.in_flight_.erase(delivery);
  }
  const std::unique_ptr<Delivery> owned(delivery);
  ShardEngine* engine = network.engines_[receiver.id().value()];
  const wire::Message* decoded = verify_wire_message(delivery->bytes);
  // Refusals are counted by the engine; a bus has no one to report them to.
  if (engine != nullptr && decoded != nullptr) (void)engine->receive(delivery->from, *decoded);
}

}  // namespace ringraft::replica
