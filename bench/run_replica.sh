#!/usr/bin/env bash
# Builds and runs the engine benchmark (bench/micro/replica_bench.cc: a 3-node cluster in one
# process with fsync on, beside one Wal alone with the same load), saves its JSON as
# bench/results/replica_bench.json and prints the summary table (engine ÷ wal_alone entries/s
# for each entry size and in-flight count, with the commit latency percentiles; see
# bench/summarize.py).
#
# WAL directories go under /tmp (the cluster's) and $RINGRAFT_BENCH_DIR (the ceiling's, default
# /tmp): both must be on the disk you mean to measure, not tmpfs. Each benchmark runs
# $REPETITIONS times (default 3), interleaved in random order so that a drift in the disk's speed
# spreads over both sides of a pair; the summary takes medians. Extra arguments go to
# replica_bench, e.g. --benchmark_filter=/100/.
#
# Usage: bench/run_replica.sh [replica_bench arguments...]
# BENCH_BUILD_DIR picks an existing build directory instead of the bench preset's.
set -euo pipefail
cd "$(dirname "$0")/.."

repetitions=${REPETITIONS:-3}
results=bench/results/replica_bench.json

build_dir=${BENCH_BUILD_DIR:-build/bench}
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake --preset bench >/dev/null
fi
cmake --build "$build_dir" --target replica_bench

mkdir -p bench/results
# Written to a .tmp first so that a failed run leaves the previous results in place.
"$build_dir/bench/replica_bench" \
  --benchmark_repetitions="$repetitions" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$results.tmp" --benchmark_out_format=json \
  "$@" 2> >(grep -v '^I ' >&2)
mv "$results.tmp" "$results"

echo
python3 bench/summarize.py "$results"
