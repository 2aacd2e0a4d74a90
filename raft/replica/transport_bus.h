// TransportBus: the MessageBus of a real deployment, over the TCP transport (net::Transport).
//
// Outbound, send() hands the engine's finished wire::Message to Transport::send (one copy into
// the peer's bounded output); the transport's kQueued / kFull / kUnreachable map one to one.
// Inbound, the transport's MessageHandler (verified message, shard thread) goes to the attached
// engine's receive(); refusals are counted by the engine.
//
// Order of construction: the engine needs its bus at open, and the transport's handler needs
// the engine. So the bus is created first (create() builds the transport with a handler that
// goes through the bus), started, the engine opened over it, then attach(engine). Messages that
// arrive before attach() are dropped and counted: Raft retransmits them.
// Order of shutdown: stop() the transport first (no more deliveries), then close the engine,
// then detach() (or destroy the bus after the engine).
//
// Scope: one shard, one transport per shard; every group of that shard's engine shares it (the
// wire messages carry their groups). Several shards each build their own TransportBus on their
// own port, talking to the same shard of each peer (net/README.md "Connections").
#pragma once

#include <memory>

#include "common/result.h"
#include "net/transport.h"
#include "raft/replica/message_bus.h"
#include "reactor/shard.h"
#include "reactor/task.h"

namespace ringraft::replica {

class ShardEngine;

struct TransportBusStats {
  uint64_t sent = 0;
  uint64_t sent_full = 0;
  uint64_t sent_unreachable = 0;
  uint64_t received = 0;
  uint64_t received_unattached = 0;  // arrived before attach() or after detach(): dropped
  uint64_t received_refused = 0;     // the engine refused (decode error, invalid input)
};

class TransportBus final : public MessageBus {
 public:
  // Validates `options` and builds the transport (not started). Errors name the bad setting.
  static Result<std::unique_ptr<TransportBus>> create(Shard& shard, net::TransportOptions options);
  ~TransportBus() override;
  TransportBus(const TransportBus&) = delete;
  TransportBus& operator=(const TransportBus&) = delete;

  // Listens and dials every peer in the background; an error if the listen address is taken.
  Task<Result<void>> start();
  // Stops the transport and waits for every task of it; deliveries end here. Call once, after
  // a successful start(), before closing the engine.
  Task<void> stop();

  // The engine that receives inbound messages; it must outlive the attachment.
  void attach(ShardEngine& engine) { engine_ = &engine; }
  void detach() { engine_ = nullptr; }

  SendStatus send(NodeId to, ConstByteSpan message_flatbuffer) override;
  // The engine's hook runs after the transport's (the bus starts before the engine opens):
  // left to the transport's hook, a turn's messages would leave at the loop's next wake-up (a
  // tick, the leader's own fsync), not in parallel with that fsync (Raft thesis §10.2.1).
  void end_of_turn() override;

  // A node joining at run time (net::Transport::add_peer): reachable by id from then on.
  Result<void> add_peer(const net::PeerAddress& address) { return transport_->add_peer(address); }

  net::Transport& transport() { return *transport_; }
  const TransportBusStats& stats() const { return stats_; }

 private:
  explicit TransportBus(Shard& shard) : shard_(shard) {}
  void deliver(NodeId from, const wire::Message& message);

  Shard& shard_;
  std::unique_ptr<net::Transport> transport_;
  ShardEngine* engine_ = nullptr;
  bool started_ = false;
  bool stopped_ = false;
  TransportBusStats stats_;
};

}  // namespace ringraft::replica
