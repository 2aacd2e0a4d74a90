#!/usr/bin/env bash
# Builds one Google Benchmark binary of bench/ and runs it: every benchmark $REPETITIONS times
# (default 3), interleaved in random order so that a drift in machine speed spreads over both
# sides of a pair; its JSON goes to bench/results/<binary>.json (through a .tmp, so a failed run
# leaves the previous results in place); then bench/summarize.py prints the pairs' medians and
# ratios. run_micro.sh, run_net.sh and run_replica.sh are this script for one binary each.
#
# Usage: bench/run_bench.sh <binary, e.g. net_bench> [benchmark arguments...]
# BENCH_BUILD_DIR picks an existing build directory instead of the bench preset's.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 ]]; then
  echo "usage: bench/run_bench.sh <benchmark binary> [benchmark arguments...]" >&2
  exit 2
fi
binary=$1
shift
repetitions=${REPETITIONS:-3}
results=bench/results/$binary.json

build_dir=${BENCH_BUILD_DIR:-build/bench}
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake --preset bench >/dev/null
fi
cmake --build "$build_dir" --target "$binary"

mkdir -p bench/results
# Info log lines (prefix "I ") are dropped from stderr: they would drown the table.
"$build_dir/bench/$binary" \
  --benchmark_repetitions="$repetitions" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$results.tmp" --benchmark_out_format=json \
  "$@" 2> >(grep -v '^I ' >&2)
mv "$results.tmp" "$results"

echo
python3 bench/summarize.py "$results"
