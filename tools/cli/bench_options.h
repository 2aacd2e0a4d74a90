// BenchOptions: what `ringraft bench` was asked to do, checked before anything starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tools/cli/info_client.h"

namespace ringraft::tools {

// write:read weights, "1:1" or "9:1" or "0:1" (reads only).
struct Ratio {
  uint32_t write_weight = 1;
  uint32_t read_weight = 1;
};

Result<Ratio> parse_ratio(std::string_view text);

struct BenchOptions {
  static constexpr uint32_t kConnectionsMax = 10'000;
  static constexpr uint32_t kPipelineMax = 4096;
  static constexpr uint32_t kValueBytesMax = 16 * 1024 * 1024;
  static constexpr std::chrono::seconds kDurationMax{24 * 3600};
  static constexpr std::chrono::seconds kDefaultDuration{10};

  // Where the load goes: every connection starts at targets[i % size] and, after a failure,
  // reconnects to the next target (a cluster's other nodes forward to the leader).
  std::vector<Endpoint> targets;
  uint32_t connections = 50;
  uint32_t pipeline = 1;
  uint64_t keys = 100'000;  // key space: key:000000000000 .. key:<keys-1>
  uint32_t value_bytes = 100;
  Ratio ratio;
  // Bounds: the run ends at whichever comes first; with neither given, kDefaultDuration.
  std::chrono::milliseconds duration{0};
  uint64_t requests = 0;
  std::chrono::milliseconds request_timeout{5000};  // no reply for this long: the connection is
                                                    // closed and its requests count as errors
  uint64_t seed = 0;
  bool progress_on_terminal = true;  // overwrite one progress line when stderr is a terminal
  std::string json_path;
  std::string plot_path;
};

// Checks ranges and combinations; the error says which option is wrong and what it may be.
// Fills in the default duration when no bound was given.
Result<void> validate(BenchOptions& options);

}  // namespace ringraft::tools
