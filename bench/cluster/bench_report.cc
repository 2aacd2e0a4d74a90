// A bench node's JSON report (see bench_report.h).
#include "bench/cluster/bench_report.h"

#include <fmt/format.h>

namespace ringraft::bench {
namespace {

double us(uint64_t ns) {
  return static_cast<double>(ns) / 1e3;
}

// The measuring node's cell: what it committed and how fast.
std::string measured_cell_json(const CellResult& cell) {
  const tools::LatencyHistogram& latency = cell.latency;
  const double rate = cell.seconds > 0 ? static_cast<double>(cell.committed) / cell.seconds : 0.0;
  return fmt::format(
      R"({{"cell": {}, "entry_bytes": {}, "in_flight": {}, "committed": {}, "seconds": {:.4f}, )"
      R"("entries_per_s": {:.1f}, "p50_us": {:.1f}, "p99_us": {:.1f}, "p999_us": {:.1f}, )"
      R"("max_us": {:.1f}, "mean_us": {:.1f}, "refused_full": {}, "failed": {}, )"
      R"("first_failure": "{}", "cpu_s": {:.4f}, "runq_wait_s": {:.4f}, "fsyncs": {}}})",
      cell.spec.cell, cell.spec.entry_bytes, cell.spec.in_flight, cell.committed, cell.seconds,
      rate, us(latency.percentile_ns(0.5)), us(latency.percentile_ns(0.99)),
      us(latency.percentile_ns(0.999)), us(latency.max_ns()), latency.mean_ns() / 1e3,
      cell.refused_full, cell.failed, cell.first_failure, cell.cpu_seconds, cell.runq_wait_seconds,
      cell.fsyncs);
}

// Another node's cells: the CPU between the first entries of consecutive cells it applied.
std::string observed_cells_json(const NodeReport& report) {
  std::string json;
  for (size_t cell = 0; cell < report.marks.size(); cell++) {
    const CellMark& mark = report.marks[cell];
    if (mark.applied == 0 || cell >= report.cell_count) continue;  // cell_count: the end mark
    CellMark end;
    end.cpu_seconds = report.cpu_at_end_seconds;
    end.runq_wait_seconds = report.runq_wait_at_end_seconds;
    for (size_t next = cell + 1; next < report.marks.size(); next++) {
      if (report.marks[next].applied > 0) {
        end = report.marks[next];
        break;
      }
    }
    if (!json.empty()) json += ", ";
    json += fmt::format(R"({{"cell": {}, "applied": {}, "cpu_s": {:.4f}, "runq_wait_s": {:.4f}}})",
                        cell, mark.applied, end.cpu_seconds - mark.cpu_seconds,
                        end.runq_wait_seconds - mark.runq_wait_seconds);
  }
  return json;
}

}  // namespace

std::string node_report_json(const NodeReport& report) {
  std::string cells;
  if (report.measuring) {
    for (const CellResult& cell : report.cells) {
      if (!cells.empty()) cells += ", ";
      cells += measured_cell_json(cell);
    }
  } else {
    cells = observed_cells_json(report);
  }
  return fmt::format(
      R"({{"node": {}, "measuring": {}, "groups": {}, "fsync": {}, "fsyncs_in_flight": {}, )"
      R"("cpu_total_s": {:.4f}, )"
      R"("applied": {}, "wal_fsyncs": {}, "wal_bytes": {}, "sent": {}, "sent_full": {}, )"
      R"("cells": [{}]}})",
      report.node.value(), report.measuring, report.group_count, report.fsync,
      report.fsyncs_in_flight, report.cpu_total_seconds, report.applied, report.wal_fsyncs,
      report.wal_bytes, report.bus_sent, report.bus_sent_full, cells);
}

}  // namespace ringraft::bench
