#!/usr/bin/env bash
# Builds and runs the WAL benchmarks (bench/micro/wal_bench.cc) through bench/run_bench.sh:
# results in bench/results/wal_bench.json, and bench/summarize.py's table: durable appends/s and
# MiB/s per variant (buffered, 4 fsyncs in flight, O_DIRECT, O_DIRECT|O_DSYNC), entry size and
# appends in flight, entries per fdatasync, and each variant against the pwrite(4 KiB)+fdatasync
# ceiling (appends/s) and the sequential-write baseline (bytes/s: the fraction of the disk's
# bandwidth), all measured in the same run, medians of $REPETITIONS (default 3) interleaved runs.
#
# Files go to $RINGRAFT_BENCH_DIR (default /tmp): pick the disk you mean to measure (on tmpfs
# fdatasync is free). BENCH_BUILD_DIR picks an existing build directory. Extra arguments go to
# wal_bench (e.g. --benchmark_filter=BM_Wal/wal/100).
#
# Usage: bench/run_wal.sh [wal_bench arguments...]
set -euo pipefail
exec "$(dirname "$0")/run_bench.sh" wal_bench "$@"
