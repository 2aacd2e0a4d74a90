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
# BENCH_BUILD_DIR picks an existing build directory instead of the bench preset's.
exec "$(dirname "$0")/run_bench.sh" reactor_bench "$@"
