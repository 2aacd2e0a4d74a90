#!/usr/bin/env bash
# Builds and runs the net/ microbenchmarks (bench/micro/net_bench.cc), saves their JSON as
# bench/results/net_bench.json and prints the summary table (transport ÷ plain TCP for each
# pair; see bench/summarize.py).
#
# Each benchmark runs $REPETITIONS times (default 3), interleaved in random order so that a drift
# in machine speed spreads over both sides of a pair; the summary takes medians. Extra arguments
# go to net_bench, e.g. --benchmark_filter=BM_NetRtt.
#
# Usage: bench/run_net.sh [net_bench arguments...]
# BENCH_BUILD_DIR picks an existing build directory instead of the bench preset's.
set -euo pipefail
cd "$(dirname "$0")/.."

repetitions=${REPETITIONS:-3}
results=bench/results/net_bench.json

build_dir=${BENCH_BUILD_DIR:-build/bench}
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake --preset bench >/dev/null
fi
cmake --build "$build_dir" --target net_bench

mkdir -p bench/results
# Written to a .tmp first so that a failed run leaves the previous results in place.
"$build_dir/bench/net_bench" \
  --benchmark_repetitions="$repetitions" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$results.tmp" --benchmark_out_format=json \
  "$@" 2> >(grep -v '^I ' >&2)
mv "$results.tmp" "$results"

echo
python3 bench/summarize.py "$results"
