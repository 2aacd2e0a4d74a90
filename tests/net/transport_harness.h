// Helpers for the transport tests: options for a node on loopback, an inbox that records what a
// transport delivered, a raw client for sending arbitrary bytes, and a bounded wait on a
// condition that events change.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "net/transport.h"
#include "reactor/shard.h"

namespace ringraft::net::testing {

inline constexpr uint64_t kClusterId = 0xC1A55;

// A port that was free a moment ago (bound, read, closed): lets two nodes know each other's
// address before either starts.
uint16_t free_port();

// Options for `node` on 127.0.0.1:`port` with small bounds (frames up to 64 KiB) and quick
// reconnects, so the tests stay small and fast.
TransportOptions loopback_options(uint64_t node, uint16_t port, std::vector<PeerAddress> peers);
PeerAddress loopback_peer(uint64_t node, uint16_t port);

struct Received {
  NodeId from;
  wire::Body body_type = wire::Body::NONE;
  uint64_t digest = 0;  // read_every_field of the message
};

class Inbox {
 public:
  MessageHandler handler() {
    return [this](NodeId from, const wire::Message& message) { record(from, message); };
  }
  void record(NodeId from, const wire::Message& message);
  const std::vector<Received>& messages() const { return messages_; }
  size_t count() const { return messages_.size(); }

 private:
  std::vector<Received> messages_;
};

// Resumes when `condition` holds (checked every `poll` of loop time) and returns true, or
// returns false after `limit`. The limit is a bound on a hung test, never the thing measured.
Task<bool> wait_until(Shard& shard, std::function<bool()> condition,
                      std::chrono::milliseconds limit = std::chrono::milliseconds(10000),
                      std::chrono::milliseconds poll = std::chrono::milliseconds(1));

// Plays node `as_node` by hand on the accepting side: accepts one connection on `listen_fd`,
// reads the dialler's handshake and answers it. Returns the connection (invalid on failure).
// `cluster_id` lets a test answer with the wrong one.
Task<FileDescriptor> accept_and_answer_handshake(Shard& shard, int listen_fd, uint64_t as_node,
                                                 uint64_t to_node,
                                                 uint64_t cluster_id = kClusterId);

// Connects to 127.0.0.1:`port`, sends `bytes`, optionally closes its sending side, then reads
// until the server closes. True when the server closed the connection (EOF or reset) in time.
Task<bool> send_raw_and_expect_close(
    Shard& shard, uint16_t port, std::vector<std::byte> bytes, bool close_after_send,
    std::chrono::milliseconds limit = std::chrono::milliseconds(5000));

// A finished handshake Message with arbitrary fields, for the tests that lie in one.
std::vector<std::byte> handshake_message(uint64_t cluster_id, uint64_t from, uint64_t to,
                                         uint32_t shard, uint32_t version);

}  // namespace ringraft::net::testing
