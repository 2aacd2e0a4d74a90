#!/usr/bin/env bash
# Builds and runs the WAL benchmarks (bench/micro/wal_bench.cc), saves their JSON as
# bench/results/wal_bench.json and prints a summary: durable appends/s and MB/s per entry size
# and appends in flight, entries per fdatasync, the fraction of the disk's sequential bandwidth
# (WAL payload MiB/s ÷ the median of the sequential baseline) and the ratio of appends/s to the
# pwrite(4 KiB)+fdatasync baseline (one fdatasync per append), both measured in the same run.
#
# Each benchmark runs $REPETITIONS times (default 3), interleaved in random order; the summary
# takes medians. Files go to $RINGRAFT_BENCH_DIR (default /tmp): pick the disk you mean to
# measure. $WAL_BENCH names an already built wal_bench to run instead of building one with the
# bench preset. Extra arguments go to wal_bench (e.g. --benchmark_filter=BM_Wal/wal/100).
#
# Usage: bench/run_wal.sh [wal_bench arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

repetitions=${REPETITIONS:-3}
results=bench/results/wal_bench.json
binary=${WAL_BENCH:-build/bench/bench/wal_bench}

if [[ -z "${WAL_BENCH:-}" ]]; then
  if [[ ! -f build/bench/build.ninja ]]; then
    cmake --preset bench >/dev/null
  fi
  cmake --build build/bench --target wal_bench
fi

mkdir -p bench/results
# Written to a .tmp first so that a failed run leaves the previous results in place.
"$binary" \
  --benchmark_repetitions="$repetitions" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$results.tmp" --benchmark_out_format=json \
  "$@" >/dev/null
mv "$results.tmp" "$results"

python3 - "$results" <<'PY'
import json, re, statistics, sys
from collections import defaultdict

data = json.load(open(sys.argv[1]))
runs = defaultdict(list)
for row in data["benchmarks"]:
    if row.get("run_type") != "iteration" or row.get("error_occurred"):
        continue
    name = re.sub(r"/(iterations:\d+|manual_time)", "", row["name"])
    runs[name].append(row)

def median(name, key):
    values = [row.get(key, 0.0) for row in runs.get(name, [])]
    return statistics.median(values) if values else float("nan")

baseline = median("BM_Wal/pwrite_fdatasync/4096/1", "items_per_second")
disk = median("BM_Wal/sequential_write/1048576/1", "bytes_per_second")
print(f"filesystem: {next(iter(runs.values()))[0].get('label', '?')}")
print(f"baseline pwrite(4 KiB)+fdatasync: {baseline:,.0f} appends/s")
direct = median("BM_Wal/pwrite_fdatasync_odirect/4096/1", "items_per_second")
print(f"same with O_DIRECT:               {direct:,.0f} appends/s")
print(f"baseline sequential 1 MiB writes + fdatasync: {disk / 2**20:,.1f} MiB/s")
print(f"{'variant':>12} {'entry B':>8} {'in flight':>9} {'appends/s':>12} {'MiB/s':>8} {'entries/fsync':>13} "
      f"{'disk frac':>9} {'x pwrite+fsync':>14}")
def sort_key(name):
    return [int(part) if part.isdigit() else part for part in name.split("/")]

for name in sorted(runs, key=sort_key):
    match = re.fullmatch(r"BM_Wal/(wal\w*)/(\d+)/(\d+)", name)
    if not match:
        continue
    rate = median(name, "items_per_second")
    print(f"{match[1]:>12} {match[2]:>8} {match[3]:>9} {rate:>12,.0f} "
          f"{median(name, 'bytes_per_second') / 2**20:>8.2f} "
          f"{median(name, 'entries_per_fsync'):>13.1f} "
          f"{median(name, 'bytes_per_second') / disk:>9.3f} "
          f"{rate / baseline:>14.1f}")
PY
