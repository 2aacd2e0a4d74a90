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
exec "$(dirname "$0")/run_bench.sh" net_bench "$@"
