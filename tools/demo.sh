#!/usr/bin/env bash
# The main job: installs what is missing, builds ringraft, checks io_uring, starts a 3-node
# cluster of real processes (`ringraft cluster up`, each node fsyncing its WAL), drives it with
# `ringraft bench` for DEMO_SECONDS (default 20) with a progress line, kills the leader halfway
# (`ringraft cluster kill leader`), shows the dip and the recovery second by second, prints the
# table and where the JSON and the plot are, brings the killed node back and stops the cluster.
# A trap stops the cluster even when interrupted (Ctrl-C). A few minutes, most of it the build.
#
# Usage: tools/demo.sh [--help]     BUILD_DIR=dir uses an existing build instead of the bench preset
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,9p' "$0"
  exit 0
fi
seconds=${DEMO_SECONDS:-20}

tools/deps.sh
build_dir=${BUILD_DIR:-build/bench}
echo "demo: building ringraft in $build_dir..."
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake --preset bench >/dev/null
fi
cmake --build "$build_dir" --target ringraft_cli >/dev/null
ringraft=$build_dir/tools/ringraft
"$ringraft" check --shards 2

work=$(mktemp -d /tmp/ringraft-demo-XXXXXX)
dir=$work/cluster
bench_pid=""
cleanup() {
  if [[ -n $bench_pid ]]; then kill "$bench_pid" 2>/dev/null || true; fi
  "$ringraft" cluster down --dir "$dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, stopping the cluster"; exit 130' INT TERM

echo
echo "demo: a 3-node cluster, 3 processes on loopback, fsync on"
"$ringraft" cluster up -n 3 --dir "$dir" --fsync on
"$ringraft" status --dir "$dir"

mkdir -p bench/results
json=bench/results/demo_bench.json
plot=bench/results/demo_bench.png
echo
echo "demo: ${seconds} s of load (SET:GET 1:1, 32 connections, pipeline 8); the leader dies at $((seconds / 2)) s"
"$ringraft" bench --cluster "$dir" --connections 32 --pipeline 8 --keys 10000 --ratio 1:1 \
  --duration "$seconds" --timeout-ms 2000 --json "$json" --plot "$plot" >"$work/table.txt" &
bench_pid=$!
sleep $((seconds / 2))  # a demo's pacing: the kill lands in the middle of the run
echo
killed=$("$ringraft" cluster kill leader --dir "$dir")
echo "demo: $killed"
wait "$bench_pid"
bench_pid=""

echo
echo "demo: throughput per second (each # is 2 % of the best second); the gap is the election"
python3 - "$json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
per_interval = d["throughput_ops_per_s"]
per_s = [sum(per_interval[i:i + 10]) / 10 for i in range(0, len(per_interval) - 9, 10)]
best = max(per_s) if per_s and max(per_s) > 0 else 1
for second, rate in enumerate(per_s):
    print(f"  {second + 1:>3} s {rate:>10.0f} ops/s  {'#' * int(50 * rate / best)}")
PY
echo
cat "$work/table.txt"
echo
"$ringraft" status --dir "$dir"
node=$(sed -n 's/^node \([0-9]*\) .*/\1/p' <<<"$killed")
if [[ -n $node ]]; then
  echo
  echo "demo: node $node comes back and catches up"
  "$ringraft" cluster restart "$node" --dir "$dir"
  sleep 2  # pacing: give it a couple of heartbeats to catch up before showing the indexes
  "$ringraft" status --dir "$dir"
fi
echo
"$ringraft" cluster down --dir "$dir"
echo "demo: results in $json and $plot"
echo "demo: more: bench/compare_redis.sh (ringraft vs redis-server, appendfsync always),"
echo "      bench/run_replica.sh (the engine alone), bench/run_micro.sh (reactor microbenchmarks)"
