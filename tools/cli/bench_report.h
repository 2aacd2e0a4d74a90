// What `ringraft bench` shows after a run: the table on stdout, the JSON file, the PNG plot.
#pragma once

#include <string>

#include "common/result.h"
#include "tools/cli/bench_options.h"
#include "tools/cli/bench_run.h"

namespace ringraft::tools {

// The table: per op type and together, requests, errors, ops/s and latency percentiles
// (p50/p90/p99/p99.9/max, ms); then the error messages and the connection failures.
std::string format_table(const BenchResult& result);

// The whole run as one JSON object: settings, totals, per-op latency (microseconds), errors,
// the throughput per interval and the latency CDF.
std::string format_json(const BenchOptions& options, const BenchResult& result);

// Writes `text` to `path` through a temporary file (a failed write leaves no half file).
Result<void> write_file(const std::string& path, const std::string& text);

// Draws throughput over time and the latency CDF into `png_path` with gnuplot. kUnsupported
// when gnuplot is not installed (the caller says so and goes on).
Result<void> write_plot(const std::string& png_path, const BenchResult& result);

}  // namespace ringraft::tools
