#!/usr/bin/env bash
# Builds and runs the reactor microbenchmarks, saves their JSON under bench/results/, and prints
# the summary table (reactor ÷ baseline for every pair; see bench/summarize.py).
#
# Each benchmark runs $REPETITIONS times (default 3), interleaved in random order so that a drift
# in machine speed spreads over both sides of a pair; the summary takes medians. Extra arguments
# go to reactor_bench, e.g. --benchmark_filter=BM_Echo (filters match Google Benchmark's internal
# names, which end in /iterations:1/manual_time, so do not anchor them with $).
# Files for BM_Fsync go to $RINGRAFT_BENCH_DIR (default /tmp): pick the disk you mean to measure.
#
# Usage: bench/run_micro.sh [reactor_bench arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

repetitions=${REPETITIONS:-3}
results=bench/results/reactor_bench.json

if [[ ! -f build/bench/build.ninja ]]; then
  cmake --preset bench >/dev/null
fi
cmake --build build/bench --target reactor_bench

mkdir -p bench/results
# Written to a .tmp first so that a failed run leaves the previous results in place.
build/bench/bench/reactor_bench \
  --benchmark_repetitions="$repetitions" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$results.tmp" --benchmark_out_format=json \
  "$@"
mv "$results.tmp" "$results"

echo
python3 bench/summarize.py "$results"
