// BenchNodeOptions: what one `ringraft-bench-node` process runs with. Every node of a run gets
// the same flags but --id; the node named by --measure-node takes the leadership of every group
// and runs the load matrix (entry sizes x proposals in flight), one cell after the other, each
// bounded by a duration and an entry count. The others serve as followers until SIGTERM.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"

namespace ringraft::bench {

struct BenchEndpoint {
  std::string host;
  uint16_t port = 0;
};

struct BenchNodeOptions {
  NodeId id;
  std::map<NodeId, BenchEndpoint> peers;  // every member's Raft address, this node included
  NodeId measure_node{1};                 // leads every group and runs the load
  uint32_t group_count = 1;               // groups 1..group_count, all on the one shard
  std::vector<uint32_t> entry_bytes{100};
  std::vector<uint32_t> in_flight{64};
  std::chrono::milliseconds cell_duration{2000};
  uint64_t cell_entries_max = 2'000'000;  // bounds the in-memory log too (no snapshots yet)
  std::chrono::milliseconds leader_timeout{30000};  // to get every group's leadership
  std::string data_dir;
  std::string out_path;  // the node's JSON report; "" = stdout
  bool fsync = true;
  // WAL batches whose write+fdatasync may be in flight at once (WalOptions); `ringraft server`
  // runs with 4.
  uint32_t fsyncs_in_flight = 4;
  // The engine's Raft tick (EngineOptions::tick_interval): heartbeats every tick, elections
  // after 20-100 ticks. Nothing on the commit path should wait for one; changing it tells.
  std::chrono::milliseconds tick{10};

  // An error naming the first bad setting.
  Result<void> validate() const;
  // Cells in run order: entry sizes outer, in-flight counts inner.
  size_t cell_count() const { return entry_bytes.size() * in_flight.size(); }
};

// "1=127.0.0.1:7001,2=127.0.0.1:7002" -> members.
Result<std::map<NodeId, BenchEndpoint>> parse_bench_peers(const std::string& text);
// "1,64,1024" -> numbers (each >= 1).
Result<std::vector<uint32_t>> parse_count_list(const std::string& text, const char* what);

}  // namespace ringraft::bench
