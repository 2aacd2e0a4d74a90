// run_bench: the load generator behind `ringraft bench`, on our own reactor (io_uring).
//
// One shard runs `connections` tasks. Each connection is closed-loop: it encodes up to `pipeline`
// requests (SET or GET at the write:read ratio, uniform keys) into one buffer, sends them in one
// send, and reads the replies as they come; a request's latency runs from that send to the
// receive that completed its reply. Nothing is allocated per request: the request buffer, the
// receive buffer (one reply's worth plus 64 KiB) and the histograms are sized at the start.
//
// Failures are part of the measurement, not the end of it: an error reply (`-ERR not leader`)
// counts as an error of its op type; a connection that closes, fails or stays silent for
// request_timeout counts its outstanding requests as errors, and reconnects (10 ms backoff,
// doubling up to 1 s) to the next target, so a leader kill shows as a dip in the throughput.
// A connection that cannot reconnect for 10 s gives up (counted as lost).
//
// A ticker task records the replies completed in every 100 ms interval (for the plot) and once a
// second prints a progress line on stderr.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "reactor/operation.h"
#include "tools/cli/bench_options.h"
#include "tools/cli/latency_histogram.h"

namespace ringraft::tools {

enum class OpType : uint8_t { kSet = 0, kGet = 1 };
inline constexpr size_t kOpTypeCount = 2;
const char* op_type_name(OpType type);  // "SET", "GET"

struct OpStats {
  LatencyHistogram latency;  // replies that were not errors
  uint64_t errors = 0;       // error replies and requests lost with their connection
};

struct ErrorTally {
  std::string message;  // the error reply's first 100 bytes, or what happened to the connection
  uint64_t count = 0;
};

struct BenchResult {
  static constexpr size_t kErrorMessagesMax = 16;  // further distinct messages count as "other"
  static constexpr uint32_t kIntervalMs = 100;

  std::array<OpStats, kOpTypeCount> ops;
  std::vector<ErrorTally> error_messages;
  uint64_t connections_closed = 0;         // connections that failed mid-run (each then reconnects)
  uint64_t reconnects = 0;                 // connections made again after a failure
  uint64_t connections_lost = 0;           // gave up reconnecting
  std::vector<uint64_t> interval_replies;  // successful replies per kIntervalMs interval
  double elapsed_s = 0;
  uint64_t seed = 0;

  uint64_t replies_ok() const;
  uint64_t errors() const;
  // Both op types' latencies together.
  LatencyHistogram all_latency() const;
};

// Runs the load described by `options` (already validated) until its bound, then returns what
// it measured. An error only when the reactor could not start.
Result<BenchResult> run_bench(const BenchOptions& options);

}  // namespace ringraft::tools
