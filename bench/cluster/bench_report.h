// A bench node's report as one JSON object, read by bench/cluster_summary.py:
//
//   {"node": 1, "measuring": true, "groups": 4, "fsync": true, "fsyncs_in_flight": 4,
//    "cpu_total_s": 9.1,
//    "applied": 123456, "wal_fsyncs": 900, "wal_bytes": 123, "sent": 10, "sent_full": 0,
//    "cells": [{"cell": 0, "entry_bytes": 100, "in_flight": 64, "committed": 50000,
//               "seconds": 2.0, "entries_per_s": 25000, "p50_us": 2100, "p99_us": 4000,
//               "p999_us": 6000, "max_us": 7000, "mean_us": 2200, "refused_full": 0,
//               "failed": 0, "first_failure": "", "cpu_s": 1.9, "fsyncs": 800}, ...]}
//
// Cells also carry "runq_wait_s": the time the node's shard thread waited for a CPU over the
// cell. On the other nodes a cell has only "cell", "applied" (entries of the cell applied here),
// "runq_wait_s" and "cpu_s": this process's CPU from the first entry of the cell it applied to the
// first entry of the next cell (the last cell's ends at the end mark the measuring node commits
// after it, or at the end of the run if that mark never arrived).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/cluster/bench_load.h"
#include "common/types.h"

namespace ringraft::bench {

// Where a cell began on a node: its first entry applied there.
struct CellMark {
  uint64_t applied = 0;            // the cell's entries applied on this node
  double cpu_seconds = 0.0;        // process CPU when the first was applied
  double runq_wait_seconds = 0.0;  // and its threads' run-queue wait (shard_runq_wait_seconds)
};

struct NodeReport {
  NodeId node;
  bool measuring = false;
  uint32_t group_count = 0;
  uint32_t cell_count = 0;  // cells of the matrix; entries marked cell_count are the end mark
  bool fsync = true;
  uint32_t fsyncs_in_flight = 0;
  double cpu_total_seconds = 0;   // from the start of run_bench_node to the report
  double cpu_at_end_seconds = 0;  // process CPU at the report (closes the last cell's span)
  double runq_wait_at_end_seconds = 0;
  uint64_t applied = 0;
  uint64_t wal_fsyncs = 0;
  uint64_t wal_bytes = 0;
  uint64_t bus_sent = 0;
  uint64_t bus_sent_full = 0;
  std::vector<CellResult> cells;  // the measuring node's
  std::array<CellMark, 256> marks{};
};

std::string node_report_json(const NodeReport& report);

}  // namespace ringraft::bench
