// The TCP MessageBus (see transport_bus.h).
#include "raft/replica/transport_bus.h"

#include "common/assert.h"
#include "raft/replica/shard_engine.h"

namespace ringraft::replica {

Result<std::unique_ptr<TransportBus>> TransportBus::create(Shard& shard,
                                                           net::TransportOptions options) {
  if (Result<void> valid = options.validate(); !valid.ok()) return valid.error();
  std::unique_ptr<TransportBus> bus(new TransportBus(shard));
  TransportBus* self = bus.get();
  // The handler holds the bus, which outlives the transport it owns.
  auto transport = net::Transport::create(
      shard, std::move(options),
      [self](NodeId from, const wire::Message& message) { self->deliver(from, message); });
  if (!transport.ok()) return transport.error();
  bus->transport_ = std::move(transport.value());
  return bus;
}

TransportBus::~TransportBus() {
  // A started transport must be stopped (its tasks hold it) before it is destroyed, unless the
  // shard is stopping and destroys every task anyway.
  RR_ASSERT(!started_ || stopped_ || shard_.stopping());
}

Task<Result<void>> TransportBus::start() {
  RR_ASSERT(!started_);
  Result<void> started = co_await transport_->start();
  if (started.ok()) started_ = true;
  co_return started;
}

Task<void> TransportBus::stop() {
  RR_ASSERT(started_ && !stopped_);
  stopped_ = true;
  co_await transport_->stop();
}

void TransportBus::end_of_turn() {
  if (transport_ != nullptr) transport_->flush_now();
}

SendStatus TransportBus::send(NodeId to, ConstByteSpan message_flatbuffer) {
  if (!started_ || stopped_) {
    ++stats_.sent_unreachable;
    return SendStatus::kUnreachable;
  }
  const net::SendStatus status = transport_->send(to, message_flatbuffer);
  switch (status) {
    case net::SendStatus::kQueued:
      ++stats_.sent;
      return SendStatus::kQueued;
    case net::SendStatus::kFull:
      ++stats_.sent_full;
      return SendStatus::kFull;
    case net::SendStatus::kUnreachable:
      break;
  }
  ++stats_.sent_unreachable;
  return SendStatus::kUnreachable;
}

void TransportBus::deliver(NodeId from, const wire::Message& message) {
  ++stats_.received;
  if (engine_ == nullptr) {
    ++stats_.received_unattached;
    return;
  }
  if (!engine_->receive(from, message).ok()) ++stats_.received_refused;
}

}  // namespace ringraft::replica
