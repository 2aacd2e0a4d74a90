#!/usr/bin/env bash
# The main job at this stage: installs what is missing, builds the optimized benchmarks, runs the
# reactor microbenchmarks against their baselines and prints the summary table. Results are saved
# as JSON under bench/results/. (Later stages turn this into a 3-node cluster demo.)
#
# Usage: tools/demo.sh [--help] [extra Google Benchmark flags, e.g. --benchmark_filter=Echo]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,7p' "$0"
  exit 0
fi

tools/deps.sh
echo "demo: building the bench preset (gcc -O3 -march=native)..."
cmake --preset bench >/dev/null
cmake --build --preset bench -j "$(nproc)" >/dev/null
echo "demo: checking io_uring support"
build/bench/tools/ringraft check --shards 2
exec bench/run_micro.sh "$@"
