// NodeMetrics: what an operator sees of one `ringraft server` node, gathered from the counters
// its parts already keep (EngineStats, WalStats, the transport's, the RESP server's), and the
// same numbers rendered three ways: Prometheus text (GET /metrics on the admin port), JSON
// (GET /status) and "name:value" lines (RINGRAFT.STATUS, which `ringraft status` reads).
//
// Nothing here is counted per entry or per request: the parts count per batch or per turn,
// and a MetricsSampler turns the counters into rates once per window (1 s): ops/s, fsyncs/s,
// entries per fsync, and the p50/p99 request latency of the requests answered in the last
// window (the RESP server records a receive's requests as one histogram entry).
#pragma once

#include <cstdint>
#include <string>

#include "raft/replica/shard_engine.h"
#include "raft/replica/transport_bus.h"
#include "reactor/shard.h"
#include "reactor/task.h"
#include "reactor/timer.h"
#include "tools/cli/latency_histogram.h"
#include "tools/server/resp_server.h"

namespace ringraft::server {

struct NodeMetrics {
  uint64_t node = 0;
  std::string role = "follower";  // raft::role_name
  uint64_t term = 0;
  uint64_t leader = 0;  // 0: none known
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t last_index = 0;
  uint64_t voters = 0;
  uint64_t learners = 0;
  uint64_t log_size_bytes = 0;       // WAL segments on disk (preallocated, so whole segments)
  uint64_t snapshot_size_bytes = 0;  // the latest compaction's snapshot; 0 when none
  uint64_t snapshot_index = 0;
  uint64_t elections_started = 0;
  uint64_t elections_won = 0;
  uint64_t rpc_inbound_refused = 0;  // messages and frames refused (decode, invalid, unknown group)
  uint64_t rpc_sends_dropped = 0;    // sends refused, frames dropped, early arrivals
  uint64_t rpc_connection_errors = 0;  // peer connections closed, other than replaced
  uint64_t fsyncs = 0;
  uint64_t entries_durable = 0;
  uint64_t wal_bytes_written = 0;
  uint64_t requests = 0;
  uint64_t connections_open = 0;
  uint64_t protocol_errors = 0;
  // Over the last complete window (0 before the first one).
  double window_s = 0;
  double ops_per_s = 0;
  double fsyncs_per_s = 0;
  double entries_per_fsync = 0;
  uint64_t latency_p50_us = 0;
  uint64_t latency_p99_us = 0;
};

// The Prometheus text exposition (version 0.0.4) of `metrics`, every sample labelled
// node="<id>", each family with its HELP and TYPE lines.
std::string render_prometheus(const NodeMetrics& metrics);
// One JSON object with every field of NodeMetrics under its own name.
std::string render_json(const NodeMetrics& metrics);
// "name:value\r\n" lines with the same names as the JSON (RINGRAFT.STATUS).
std::string render_status_lines(const NodeMetrics& metrics);

// Reads the parts' counters and keeps the windows' rates. All parts belong to one shard and
// must outlive the sampler; run() must end (stop()) before they go.
class MetricsSampler {
 public:
  static constexpr Duration kWindow = std::chrono::seconds(1);

  MetricsSampler(replica::ShardEngine& engine, GroupId group, replica::TransportBus& bus,
                 const RespServer& resp);
  MetricsSampler(const MetricsSampler&) = delete;
  MetricsSampler& operator=(const MetricsSampler&) = delete;

  // The histogram the RESP server records request latencies into (set_latency_histogram).
  tools::LatencyHistogram& latency_recorder() { return recording_; }
  // Closes a window every kWindow until stop().
  Task<void> run();
  void stop();

  NodeMetrics collect() const;

 private:
  struct Counters {
    uint64_t requests = 0;
    uint64_t fsyncs = 0;
    uint64_t entries_durable = 0;
    MonoTime at{};
  };
  Counters counters_now() const;
  void close_window();

  replica::ShardEngine& engine_;
  GroupId group_;
  replica::TransportBus& bus_;
  const RespServer& resp_;
  Timer timer_;
  bool stopping_ = false;
  tools::LatencyHistogram recording_;  // this window's requests
  Counters window_start_;
  // The last complete window.
  double window_s_ = 0;
  double ops_per_s_ = 0;
  double fsyncs_per_s_ = 0;
  double entries_per_fsync_ = 0;
  uint64_t latency_p50_us_ = 0;
  uint64_t latency_p99_us_ = 0;
};

}  // namespace ringraft::server
