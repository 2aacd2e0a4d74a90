#!/usr/bin/env bash
# The main job at this stage: installs what is missing, builds the optimized binaries, runs a
# 3-node replicated counter (three Raft nodes in one process, each with its own fsynced WAL),
# then drives load through a 3-node engine cluster (committed entries/s and commit latency beside
# one WAL alone: bench/run_replica.sh) and the reactor microbenchmarks against their baselines,
# printing each summary table.
# Results are saved as JSON under bench/results/. (The RESP server and `ringraft cluster` will
# turn this into a 3-process cluster demo.)
#
# Usage: tools/demo.sh [--help] [extra Google Benchmark flags, e.g. --benchmark_filter=Echo]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,10p' "$0"
  exit 0
fi

tools/deps.sh
echo "demo: building the bench preset (gcc -O3 -march=native)..."
cmake --preset bench >/dev/null
cmake --build --preset bench -j "$(nproc)" >/dev/null
echo "demo: checking io_uring support"
build/bench/tools/ringraft check --shards 2
echo "demo: a 3-node replicated counter (examples/counter.cc): the leader proposes 1..10"
build/bench/examples/ringraft_example_counter
echo "demo: load through a 3-node engine cluster, fsync on (one repetition; ~1 minute)"
REPETITIONS=1 bench/run_replica.sh --benchmark_filter='(engine|wal_alone)/100/(1|64|1024)/'
echo "demo: reactor microbenchmarks"
exec bench/run_micro.sh "$@"
