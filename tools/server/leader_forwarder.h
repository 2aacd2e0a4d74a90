// LeaderForwarder: a follower's path for client writes to the leader. Each write entry the
// connection layer encoded goes, unchanged, to the leader's RESP address as
//   RINGRAFT.PROPOSE <entry>
// and the leader's reply (the apply's RESP reply, or an error) is handed back verbatim. The
// leader proposes a forwarded entry itself and never forwards it again (no loops when two
// members disagree on who leads: the second one answers "not leader").
//
// One pipelined TCP connection per leader (at most one per member): a writer task sends what
// forward() calls queued since its last send in one send, a reader task matches replies to
// the queued writes in order (RESP answers in request order). Connections open on first use.
//
// Bounds and full behaviour: at most `in_flight_max` writes queued or unanswered per link; one
// more is answered "-ERR forward queue full, retry" at once. A reply larger than
// kReplyBytesMax, a reply that is not RESP, a failed connect, send or receive break the link:
// every write queued on it is answered "-ERR forwarding to leader node N failed (...): outcome
// unknown, retry" (it may have committed), and the next write reconnects.
#pragma once

#include <coroutine>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/types.h"
#include "reactor/latch.h"
#include "reactor/shard.h"
#include "reactor/socket.h"
#include "reactor/task.h"
#include "tools/kv/resp_writer.h"
#include "tools/server/server_options.h"

namespace ringraft::server {

struct ForwarderStats {
  uint64_t writes_forwarded = 0;
  uint64_t writes_refused_full = 0;
  uint64_t writes_failed = 0;  // answered with an error because the link broke
  uint64_t links_opened = 0;
  uint64_t links_broken = 0;
};

// The length of the first complete RESP reply in `bytes`: 0 while incomplete, an error when
// the bytes are not RESP (or nest deeper than 8 arrays).
Result<size_t> resp_reply_length(std::string_view bytes);

class LeaderForwarder {
 public:
  static constexpr size_t kReplyBytesMax = size_t{64} << 20;

  // `clients`: the members' RESP addresses (--clients).
  LeaderForwarder(Shard& shard, std::map<NodeId, Endpoint> clients, uint32_t in_flight_max = 4096);
  ~LeaderForwarder();
  LeaderForwarder(const LeaderForwarder&) = delete;
  LeaderForwarder& operator=(const LeaderForwarder&) = delete;

  bool knows(NodeId node) const { return clients_.count(node) != 0; }
  // A member's RESP address learned at run time (a node added by RINGRAFT.ADDNODE); a node
  // already known keeps its address.
  void add_client(NodeId node, const Endpoint& endpoint) { clients_.emplace(node, endpoint); }
  // Sends `entry` to `leader` and appends its reply to `reply` (or an error, see above).
  // `entry` must stay valid until the task ends.
  Task<void> forward(NodeId leader, ConstByteSpan entry, kv::RespWriter& reply);
  // Breaks every link (queued writes get the error) and waits for their tasks. Call once.
  Task<void> stop();

  const ForwarderStats& stats() const { return stats_; }

 private:
  struct Waiter;
  struct Link;
  Task<void> run_writer(Link& link);
  Task<void> run_reader(Link& link);
  Task<bool> connect(Link& link);
  void break_link(Link& link, const std::string& why);
  void task_ended(Link& link);

  Shard& shard_;
  std::map<NodeId, Endpoint> clients_;
  const uint32_t in_flight_max_;
  std::map<NodeId, std::unique_ptr<Link>> links_;
  uint32_t tasks_live_ = 0;
  std::coroutine_handle<> stop_waiter_;
  bool stopping_ = false;
  ForwarderStats stats_;
};

}  // namespace ringraft::server
