// One node of the 3-process replication benchmark (bench/run_cluster.sh): the engine over the
// TCP transport (TransportBus), a state machine that only counts, fsync on.
//
// Every node: start the transport, open the engine with its WAL under DATA_DIR/wal, attach.
// Leadership is pinned on the measuring node: it draws shorter election timeouts (it usually
// wins the first election), and any other node that finds itself leading a group hands it over
// (transfer_leader) until the run ends.
//
// The measuring node waits (bounded) until it leads every group, runs the cells of the matrix
// one after the other (bench_load.h), then reports and stops on its own. The other nodes serve
// until `stop_requested` counts down (SIGTERM from the driver), then report. Each report is
// one JSON object (see bench/README.md "Cluster benchmark"): CPU seconds of the process and
// per cell, and on the measuring node the cells' throughput and latency percentiles.
#pragma once

#include <string>

#include "bench/cluster/bench_node_options.h"
#include "common/result.h"
#include "reactor/latch.h"
#include "reactor/shard.h"
#include "reactor/task.h"

namespace ringraft::bench {

// Runs the node as above; its JSON report, or an error if it could not start or the
// measuring node never led every group in time.
Task<Result<std::string>> run_bench_node(Shard& shard, const BenchNodeOptions& options,
                                         Latch& stop_requested);

}  // namespace ringraft::bench
