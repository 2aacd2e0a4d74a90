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
exec "$(dirname "$0")/run_bench.sh" replica_bench "$@"
