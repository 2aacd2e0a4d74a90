// A node's metrics and their renderings (see node_metrics.h).
#include "tools/server/node_metrics.h"

#include <fmt/format.h>

#include <cmath>

#include "common/assert.h"

namespace ringraft::server {
namespace {

// One field of NodeMetrics as every rendering names it.
struct Field {
  const char* name;
  const char* help;
  bool counter;  // Prometheus TYPE: counter, else gauge
  double value;
};

constexpr size_t kFieldCount = 27;

std::array<Field, kFieldCount> fields_of(const NodeMetrics& m) {
  const auto d = [](uint64_t value) { return static_cast<double>(value); };
  return {{
      {"term", "Current Raft term", false, d(m.term)},
      {"leader", "Leader node id as this node sees it (0: none known)", false, d(m.leader)},
      {"commit", "Commit index", false, d(m.commit)},
      {"applied", "Applied index", false, d(m.applied)},
      {"last_index", "Last log index", false, d(m.last_index)},
      {"voters", "Voters in the configuration", false, d(m.voters)},
      {"learners", "Learners in the configuration", false, d(m.learners)},
      {"log_size_bytes", "Bytes of WAL segments on disk", false, d(m.log_size_bytes)},
      {"snapshot_size_bytes", "Bytes of the latest snapshot (0: none)", false,
       d(m.snapshot_size_bytes)},
      {"snapshot_index", "Index the latest snapshot covers", false, d(m.snapshot_index)},
      {"elections_started", "Elections this node started as a candidate", true,
       d(m.elections_started)},
      {"elections_won", "Elections this node won", true, d(m.elections_won)},
      {"rpc_inbound_refused", "Raft messages and frames refused", true, d(m.rpc_inbound_refused)},
      {"rpc_sends_dropped",
       "Raft messages dropped: sends refused (full, unreachable), queued frames dropped, "
       "arrivals before the engine attached",
       true, d(m.rpc_sends_dropped)},
      {"rpc_connection_errors", "Raft peer connections closed (other than replaced)", true,
       d(m.rpc_connection_errors)},
      {"fsyncs", "WAL fsyncs completed", true, d(m.fsyncs)},
      {"entries_durable", "Raft entries made durable in the WAL", true, d(m.entries_durable)},
      {"wal_bytes_written", "Bytes written to the WAL", true, d(m.wal_bytes_written)},
      {"requests", "RESP requests served", true, d(m.requests)},
      {"connections_open", "RESP connections open", false, d(m.connections_open)},
      {"protocol_errors", "RESP connections closed for malformed input", true,
       d(m.protocol_errors)},
      {"window_seconds", "Length of the last rate window", false, m.window_s},
      {"ops_per_second", "RESP requests per second over the last window", false, m.ops_per_s},
      {"fsyncs_per_second", "WAL fsyncs per second over the last window", false, m.fsyncs_per_s},
      {"entries_per_fsync", "Raft entries per WAL fsync over the last window", false,
       m.entries_per_fsync},
      {"latency_p50_us", "Median RESP request latency over the last window", false,
       d(m.latency_p50_us)},
      {"latency_p99_us", "99th percentile RESP request latency over the last window", false,
       d(m.latency_p99_us)},
  }};
}

// Integers print without a fraction; rates with two decimals.
std::string number(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{:.2f}", value);
}

}  // namespace

std::string render_prometheus(const NodeMetrics& metrics) {
  std::string out;
  out.reserve(4096);
  const std::string labels = fmt::format("{{node=\"{}\"}}", metrics.node);
  out += "# HELP ringraft_role Raft role of this node (1 for the current one)\n";
  out += "# TYPE ringraft_role gauge\n";
  for (const char* role : {"follower", "pre-candidate", "candidate", "leader"}) {
    out += fmt::format("ringraft_role{{node=\"{}\",role=\"{}\"}} {}\n", metrics.node, role,
                       metrics.role == role ? 1 : 0);
  }
  for (const Field& field : fields_of(metrics)) {
    const std::string name =
        fmt::format("ringraft_{}{}", field.name, field.counter ? "_total" : "");
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}{} {}\n", name, field.help, name,
                       field.counter ? "counter" : "gauge", name, labels, number(field.value));
  }
  return out;
}

std::string render_json(const NodeMetrics& metrics) {
  std::string out = fmt::format("{{\"node\":{},\"role\":\"{}\"", metrics.node, metrics.role);
  for (const Field& field : fields_of(metrics)) {
    out += fmt::format(",\"{}\":{}", field.name, number(field.value));
  }
  out += "}";
  return out;
}

std::string render_status_lines(const NodeMetrics& metrics) {
  std::string out = fmt::format("role:{}\r\n", metrics.role);
  for (const Field& field : fields_of(metrics)) {
    out += fmt::format("{}:{}\r\n", field.name, number(field.value));
  }
  return out;
}

MetricsSampler::MetricsSampler(replica::ShardEngine& engine, GroupId group,
                               replica::TransportBus& bus, const RespServer& resp)
    : engine_(engine), group_(group), bus_(bus), resp_(resp), timer_(engine.shard().io()) {
  window_start_ = counters_now();
}

MetricsSampler::Counters MetricsSampler::counters_now() const {
  Counters counters;
  counters.requests = resp_.stats().requests;
  counters.fsyncs = engine_.wal_stats().fsyncs_completed;
  counters.entries_durable = engine_.stats().entries_durable;
  counters.at = engine_.shard().io().now();
  return counters;
}

Task<void> MetricsSampler::run() {
  while (!stopping_) {
    const IoResult fired = co_await timer_.wait_for(kWindow);
    if (!fired.ok() || stopping_) break;  // cancelled by stop()
    close_window();
  }
}

void MetricsSampler::stop() {
  stopping_ = true;
  if (timer_.armed()) timer_.cancel();
}

void MetricsSampler::close_window() {
  const Counters now = counters_now();
  // Counters only grow (the engine sums WAL counters across reopens); should one ever go back,
  // this window is dropped rather than showing a negative rate.
  if (now.requests < window_start_.requests || now.fsyncs < window_start_.fsyncs ||
      now.entries_durable < window_start_.entries_durable) {
    window_start_ = now;
    return;
  }
  const double seconds = std::chrono::duration<double>(now.at - window_start_.at).count();
  if (seconds <= 0) return;
  const uint64_t fsyncs = now.fsyncs - window_start_.fsyncs;
  window_s_ = seconds;
  ops_per_s_ = static_cast<double>(now.requests - window_start_.requests) / seconds;
  fsyncs_per_s_ = static_cast<double>(fsyncs) / seconds;
  entries_per_fsync_ =
      fsyncs == 0 ? 0.0
                  : static_cast<double>(now.entries_durable - window_start_.entries_durable) /
                        static_cast<double>(fsyncs);
  latency_p50_us_ = recording_.percentile_ns(0.50) / 1000;
  latency_p99_us_ = recording_.percentile_ns(0.99) / 1000;
  recording_.clear();
  window_start_ = now;
}

NodeMetrics MetricsSampler::collect() const {
  NodeMetrics m;
  m.node = engine_.node().value();
  if (const replica::Replica* replica = engine_.replica(group_); replica != nullptr) {
    const raft::Core& core = replica->core();
    m.role = raft::role_name(core.role());
    m.term = core.term().value();
    m.leader = core.leader().value();
    m.commit = core.log().committed().value();
    m.applied = replica->applied_index().value();
    m.last_index = core.log().last_index().value();
    m.voters = core.membership().voters.size();
    m.learners = core.membership().learners.size();
    m.snapshot_size_bytes = core.snapshot().size_bytes;
    m.snapshot_index = core.snapshot().index.value();
    m.elections_started = core.elections_started();
    m.elections_won = core.elections_won();
  }
  const wal::WalStats wal = engine_.wal_stats();
  m.log_size_bytes = wal.segments_retained * engine_.options().wal.segment_bytes;
  m.fsyncs = wal.fsyncs_completed;
  m.wal_bytes_written = wal.bytes_written;
  const replica::EngineStats& engine = engine_.stats();
  m.entries_durable = engine.entries_durable;
  const net::TransportStats transport = bus_.transport().stats();
  m.rpc_inbound_refused = engine.inbound_refused + engine.inbound_unknown_group;
  for (uint64_t refused : transport.frames.errors_by_reason) m.rpc_inbound_refused += refused;
  const replica::TransportBusStats& bus = bus_.stats();
  m.rpc_sends_dropped = bus.sent_full + bus.sent_unreachable + bus.received_unattached;
  for (const net::PeerStats& peer : transport.peers) m.rpc_sends_dropped += peer.frames_dropped;
  for (uint64_t closed : transport.closed_by_reason) m.rpc_connection_errors += closed;
  m.rpc_connection_errors -= transport.closed(net::CloseReason::kReplaced);
  m.requests = resp_.stats().requests;
  m.connections_open = resp_.connections_open();
  m.protocol_errors = resp_.stats().protocol_errors;
  m.window_s = window_s_;
  m.ops_per_s = ops_per_s_;
  m.fsyncs_per_s = fsyncs_per_s_;
  m.entries_per_fsync = entries_per_fsync_;
  m.latency_p50_us = latency_p50_us_;
  m.latency_p99_us = latency_p99_us_;
  return m;
}

}  // namespace ringraft::server
