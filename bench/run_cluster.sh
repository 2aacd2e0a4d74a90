#!/usr/bin/env bash
# The 3-process replication benchmark: three `ringraft-bench-node` processes on loopback, fsync
# on, the proposers inside the leader (node 1, which takes the leadership of every group):
# committed entries/s and p50/p99/p999 commit latency for each entry size x proposals in flight,
# with 1 group and with 4 groups, and CPU seconds per committed entry summed over the three
# processes. In the same run, the baselines the targets are ratios of:
#   - the WAL's single-node durable append rate with the same entry size and 1024 appenders
#     (wal_bench BM_Wal/wal_4_fsyncs: the engine's WAL settings) -> "wal_fraction"
#   - one durable 4 KiB write+fdatasync through the reactor (reactor_bench BM_Fsync/reactor_linked)
#     plus one loopback round trip of the transport (net_bench BM_NetRtt/reactor/64): what one
#     commit must wait for at 1 in flight -> "latency_vs_floor" of the 1-in-flight rows
# Results: bench/results/cluster_bench.json (rows, baselines, ratios, machine), and a table.
#
# Usage: bench/run_cluster.sh [--quick] [--no-baselines]
#   --quick          1 s per cell (a run of about a minute); the default is 5 s per cell
#   --no-baselines   skip the WAL / fsync / RTT baselines (ratios are then left out)
# Environment:
#   BENCH_BUILD_DIR     build directory (default build/cluster-bench: Release, -march=native,
#                       configured here if missing); NODE_BINARY overrides the node binary
#   RINGRAFT_BENCH_DIR  where the nodes' data directories go (default /tmp; NOT tmpfs, or
#                       fdatasync is free)
#   SIZES / IN_FLIGHT / GROUP_COUNTS / DURATION_MS   override the matrix ("100,1024" / "1,64,1024,8192"
#                       / "1 4" / per-cell ms)
#   FSYNCS_IN_FLIGHT    the nodes' WAL fsyncs in flight, one cluster per value (default "4", as
#                       `ringraft server`; "1 4" compares them in one run)
#   OUT                 the JSON path (default bench/results/cluster_bench.json)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
baselines=1
for argument in "$@"; do
  case $argument in
    --quick) quick=1 ;;
    --no-baselines) baselines=0 ;;
    *) echo "usage: bench/run_cluster.sh [--quick] [--no-baselines]" >&2; exit 2 ;;
  esac
done

sizes=${SIZES:-100,1024}
in_flight=${IN_FLIGHT:-1,64,1024,8192}
group_counts=${GROUP_COUNTS:-1 4}
fsync_depths=${FSYNCS_IN_FLIGHT:-4}
if [[ $quick == 1 ]]; then duration_ms=${DURATION_MS:-1000}; else duration_ms=${DURATION_MS:-5000}; fi
out=${OUT:-bench/results/cluster_bench.json}
build_dir=${BENCH_BUILD_DIR:-build/cluster-bench}

if [[ -z ${NODE_BINARY:-} || $baselines == 1 ]]; then
  if [[ ! -f $build_dir/build.ninja ]]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
      -DCMAKE_CXX_FLAGS=-march=native -DRINGRAFT_BUILD_TESTS=OFF -DRINGRAFT_BUILD_BENCH=ON >/dev/null
  fi
  targets=(ringraft_bench_node)
  [[ $baselines == 1 ]] && targets+=(wal_bench reactor_bench net_bench)
  ninja -C "$build_dir" -j "${BUILD_JOBS:-2}" "${targets[@]}"
fi
node_binary=${NODE_BINARY:-$build_dir/bench/cluster/ringraft-bench-node}

work=$(mktemp -d "${RINGRAFT_BENCH_DIR:-/tmp}/ringraft-cluster-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Three ports free right now (bound by the kernel's choice, then released).
read -r -a ports < <(python3 -c '
import socket
held = [socket.socket() for _ in range(3)]
for s in held: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))')
peers="1=127.0.0.1:${ports[0]},2=127.0.0.1:${ports[1]},3=127.0.0.1:${ports[2]}"

# Waits (bounded by $2 seconds) for our child $1 to exit; returns its exit status, or 124 if it
# did not exit in time.
wait_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 124
    sleep 0.1
  done
  local status=0
  wait "$pid" 2>/dev/null || status=$?
  return "$status"
}

# One cluster: 3 nodes with $1 groups and $2 WAL fsyncs in flight run every cell; reports in
# $3/node-<k>.json.
run_cluster() {
  local groups=$1 depth=$2 dir=$3
  mkdir -p "$dir"
  pids=()
  for k in 1 2 3; do
    "$node_binary" --id "$k" --peers "$peers" --groups "$groups" --entry-bytes "$sizes" \
      --in-flight "$in_flight" --duration-ms "$duration_ms" --fsyncs-in-flight "$depth" \
      --data-dir "$dir/data-$k" \
      --out "$dir/node-$k.json" >"$dir/node-$k.log" 2>&1 &
    pids+=($!)
  done
  local cells
  cells=$(($(tr ',' '\n' <<<"$sizes" | wc -l) * $(tr ',' '\n' <<<"$in_flight" | wc -l)))
  # Leadership (<= 30 s), every cell (its duration, and a bounded drain), then the report.
  local status=0
  wait_exit "${pids[0]}" $((45 + cells * (duration_ms / 1000 + 15))) || status=$?
  if ((status != 0)); then
    echo "node 1 failed (exit status $status; 124: not finished in time); its log:" >&2
    tail -20 "$dir/node-1.log" >&2
    return 1
  fi
  kill -TERM "${pids[1]}" "${pids[2]}" 2>/dev/null || true
  for k in 2 3; do
    status=0
    wait_exit "${pids[k - 1]}" 20 || status=$?
    if ((status != 0)); then
      kill -KILL "${pids[k - 1]}" 2>/dev/null || true
      echo "node $k failed at shutdown (exit status $status); its log:" >&2
      tail -20 "$dir/node-$k.log" >&2
      return 1
    fi
  done
  pids=()
  for k in 1 2 3; do
    if [[ ! -s $dir/node-$k.json ]]; then
      echo "node $k wrote no report; its log:" >&2
      tail -20 "$dir/node-$k.log" >&2
      return 1
    fi
  done
  rm -rf "$dir"/data-*
}

baseline_args=()
if [[ $baselines == 1 ]]; then
  wal_filter=$(tr ',' '|' <<<"$sizes")
  export RINGRAFT_BENCH_DIR=${RINGRAFT_BENCH_DIR:-/tmp}
  "$build_dir/bench/wal_bench" --benchmark_filter="BM_Wal/wal_4_fsyncs/($wal_filter)/1024/" \
    --benchmark_out="$work/wal.json" --benchmark_out_format=json 2> >(grep -v '^I ' >&2) >/dev/null
  "$build_dir/bench/reactor_bench" --benchmark_filter='BM_Fsync/reactor_linked' \
    --benchmark_out="$work/fsync.json" --benchmark_out_format=json >/dev/null
  "$build_dir/bench/net_bench" --benchmark_filter='BM_NetRtt/reactor/64' \
    --benchmark_out="$work/rtt.json" --benchmark_out_format=json 2> >(grep -v '^I ' >&2) >/dev/null
  baseline_args=(--wal "$work/wal.json" --fsync "$work/fsync.json" --rtt "$work/rtt.json")
fi

cluster_args=()
run_number=0
for depth in $fsync_depths; do
  for groups in $group_counts; do
    echo "cluster: $groups group(s), $depth fsync(s) in flight, entry bytes $sizes," \
      "in flight $in_flight, $duration_ms ms per cell"
    run_number=$((run_number + 1))
    run_cluster "$groups" "$depth" "$work/run$run_number"
    cluster_args+=(--cluster "$work/run$run_number")
  done
done

mkdir -p "$(dirname "$out")"
python3 bench/cluster_summary.py --out "$out" "${cluster_args[@]}" "${baseline_args[@]}"
