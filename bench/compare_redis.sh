#!/usr/bin/env bash
# ringraft against Redis in one run: the same redis-benchmark command (-t set,get -d 100 -c 50
# -P 16 -r 100000 -n N) against the leader of a 3-node `ringraft cluster up` (fsync on) and
# against one redis-server with appendonly yes, appendfsync always (started here on loopback),
# then `ringraft bench` with the same settings against both (SETs, then GETs, like -t set,get).
# Prints each side's ops/s and p99 and the ratios ringraft / redis; saves everything to
# bench/results/compare_redis.json.
#
# Usage: bench/compare_redis.sh [--help]   (N=200000 requests per test; BENCH_BUILD_DIR picks
# an existing build directory instead of the bench preset's)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,10p' "$0"
  exit 0
fi
requests=${N:-200000}
build_dir=${BENCH_BUILD_DIR:-build/bench}
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "compare_redis: $tool is missing (tools/deps.sh)" >&2; exit 1; }
done
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake --preset bench >/dev/null
fi
cmake --build "$build_dir" --target ringraft_cli >/dev/null
ringraft=$build_dir/tools/ringraft

work=$(mktemp -d /tmp/ringraft-compare-XXXXXX)
redis_pid=""
cleanup() {
  "$ringraft" cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
  if [[ -n $redis_pid ]]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {  # the first port from $1 that nothing listens on
  python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
while True:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        port += 1
    finally:
        s.close()
PY
}

redis_port=$(free_port 6700)
mkdir -p "$work/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" --save "" \
  --appendonly yes --appendfsync always --daemonize no >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

"$ringraft" cluster up -n 3 --dir "$work/cluster" --fsync on >"$work/up.log"
leader_port=""
for port in $(awk '/^node/ { sub(/.*client=127.0.0.1:/, ""); sub(/ .*/, ""); print }' "$work/cluster/cluster.state"); do
  if redis-cli -p "$port" info replication 2>/dev/null | grep -q '^raft_role:leader'; then leader_port=$port; fi
done
[[ -n $leader_port ]] || { echo "compare_redis: no leader in the cluster" >&2; cat "$work/up.log" >&2; exit 1; }

# redis-benchmark's CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
# "p95_latency_ms","p99_latency_ms","max_latency_ms"
benchmark() {
  redis-benchmark -h 127.0.0.1 -p "$1" -t set,get -d 100 -c 50 -P 16 -r 100000 -n "$requests" --csv
}
echo "compare_redis: redis-benchmark, $requests requests per test, against ringraft (3 nodes, leader :$leader_port)..."
benchmark "$leader_port" >"$work/ringraft.csv"
echo "compare_redis: redis-benchmark against redis-server (appendfsync always, :$redis_port)..."
benchmark "$redis_port" >"$work/redis.csv"
# Like redis-benchmark -t set,get: all SETs, then all GETs (of the keys the SETs wrote).
bench_flags=(--connections 50 --pipeline 16 --value-bytes 100 --keys 100000 --requests "$requests"
             --no-progress)
for target in ringraft redis; do
  if [[ $target == ringraft ]]; then where=(--cluster "$work/cluster"); else where=(--port "$redis_port"); fi
  for op in set get; do
    if [[ $op == set ]]; then ratio=1:0; else ratio=0:1; fi
    echo "compare_redis: ringraft bench ${op^^} against $target..."
    "$ringraft" bench "${where[@]}" "${bench_flags[@]}" --ratio "$ratio" \
      --json "$work/${target}_bench_$op.json" >/dev/null
  done
done

mkdir -p bench/results
python3 - "$work" "$requests" bench/results/compare_redis.json <<'PY'
import csv, json, sys
work, requests, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def tool(name):
    rows = {}
    for row in csv.DictReader(open(f"{work}/{name}.csv")):
        rows[row["test"].lower()] = {"ops_per_s": float(row["rps"]), "p50_ms": float(row["p50_latency_ms"]),
                                     "p99_ms": float(row["p99_latency_ms"]), "max_ms": float(row["max_latency_ms"])}
    return rows
def ours(name):
    result = {}
    for op in ("set", "get"):
        o = json.load(open(f"{work}/{name}_bench_{op}.json"))["ops"][op]
        result[op] = {"ops_per_s": o["ops_per_s"], "p50_ms": o["latency_us"]["p50"] / 1000,
                      "p99_ms": o["latency_us"]["p99"] / 1000, "max_ms": o["latency_us"]["max"] / 1000,
                      "errors": o["errors"]}
    return result
results = {"requests_per_test": requests,
           # The 3 nodes, redis-server and the clients share the machine: its load says how
           # much CPU the run had (other builds on a shared VM move the absolute figures).
           "load_average_1m_at_end": float(open("/proc/loadavg").read().split()[0]),
           "command": "redis-benchmark -t set,get -d 100 -c 50 -P 16 -r 100000 -n N",
           "redis_benchmark": {"ringraft": tool("ringraft"), "redis": tool("redis")},
           "ringraft_bench": {"ringraft": ours("ringraft"), "redis": ours("redis")}}
print(f"\n{'client':<16} {'op':<4} {'ringraft ops/s':>15} {'redis ops/s':>12} {'ratio':>6}   "
      f"{'ringraft p99':>12} {'redis p99':>10} {'ratio':>6}")
ratios = {}
for client in ("redis_benchmark", "ringraft_bench"):
    for op in ("set", "get"):
        r, b = results[client]["ringraft"][op], results[client]["redis"][op]
        throughput = r["ops_per_s"] / b["ops_per_s"] if b["ops_per_s"] else 0.0
        p99 = r["p99_ms"] / b["p99_ms"] if b["p99_ms"] else 0.0
        ratios[f"{client}.{op}"] = {"throughput": round(throughput, 3), "p99": round(p99, 3)}
        print(f"{client:<16} {op.upper():<4} {r['ops_per_s']:>15.0f} {b['ops_per_s']:>12.0f} {throughput:>6.2f}   "
              f"{r['p99_ms']:>9.2f} ms {b['p99_ms']:>7.2f} ms {p99:>6.2f}")
results["ratios_ringraft_over_redis"] = ratios
json.dump(results, open(out, "w"), indent=2)
print(f"\ntargets: SET throughput ratio >= 1.0, p99 ratio <= 2.0; saved to {out}")
PY
