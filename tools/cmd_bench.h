// `ringraft bench`: drives a RESP server or a local cluster with load and reports throughput and
// latency (tools/cli/bench_run.h does the work, tools/cli/bench_report.h the output).
//
//   ringraft bench --port 6381 --connections 50 --pipeline 16 --duration 10
//   ringraft bench --cluster ./ringraft-cluster --ratio 1:1 --json out.json --plot out.png
//
// Exit codes: 0 the run completed with at least one successful reply, 1 nothing succeeded or the
// server could not be reached or the output could not be written, 2 usage.
#pragma once

#include <CLI/CLI.hpp>

namespace ringraft::tools {

inline constexpr int kBenchExitOk = 0;
inline constexpr int kBenchExitFailed = 1;
inline constexpr int kBenchExitUsage = 2;

// Adds `bench` to `app`; the command stores its exit code in *exit_code.
void add_bench_command(CLI::App& app, int* exit_code);

}  // namespace ringraft::tools
