#!/usr/bin/env bash
# CPU per replicated SET: starts a 3-node `ringraft cluster up` (fsync on) from a build, runs
# redis-benchmark SETs (-d 100 -c 50 -P 16 -r 100000 -n N) against the leader, and prints each
# node's CPU time (user + system, from /proc) divided by the SETs, the sum over the nodes, the
# throughput and p99. With RINGRAFT_B=<other build dir> it does the same for a second build in
# the same run, alternating A and B ROUNDS times, so the two are compared under the same load.
# With REDIS=1, each round also measures one redis-server (appendonly yes, appendfsync always).
#
# Usage: BENCH_BUILD_DIR=build/h N=200000 ROUNDS=2 REDIS=1 bench/cpu_per_set.sh [--help]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,8p' "$0"; exit 0; fi
requests=${N:-200000}
rounds=${ROUNDS:-1}
builds=("${BENCH_BUILD_DIR:-build/bench}")
[[ -n ${RINGRAFT_B:-} ]] && builds+=("$RINGRAFT_B")
ticks=$(getconf CLK_TCK)

cpu_ticks() {  # utime + stime of a process and its threads, in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

run_once() {
  local ringraft=$1/tools/ringraft work
  work=$(mktemp -d /tmp/ringraft-cpu-XXXXXX)
  "$ringraft" cluster up -n 3 --dir "$work/cluster" --fsync on >"$work/up.log"
  local leader_port="" leader_pid="" pids=() port pid
  while read -r pid port; do
    pids+=("$pid")
    if redis-cli -p "$port" info replication 2>/dev/null | grep -q '^raft_role:leader'; then
      leader_port=$port; leader_pid=$pid
    fi
  done < <(awk '/^node/ { p = $0; sub(/.*pid=/, "", p); sub(/ .*/, "", p);
                          c = $0; sub(/.*client=127.0.0.1:/, "", c); sub(/ .*/, "", c);
                          print p, c }' "$work/cluster/cluster.state")
  if [[ -z $leader_port ]]; then
    echo "cpu_per_set: no leader" >&2; "$ringraft" cluster down --dir "$work/cluster" >/dev/null; return 1
  fi
  local before=() after=() i
  for pid in "${pids[@]}"; do before+=("$(cpu_ticks "$pid")"); done
  local csv
  csv=$(redis-benchmark -h 127.0.0.1 -p "$leader_port" -t set -d 100 -c 50 -P 16 -r 100000 \
          -n "$requests" --csv | tail -1)
  for pid in "${pids[@]}"; do after+=("$(cpu_ticks "$pid")"); done
  "$ringraft" cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
  local line="$1:" total=0 us
  for i in "${!pids[@]}"; do
    us=$(( (after[i] - before[i]) * 1000000 / ticks * 1000 / requests ))  # ns per SET
    total=$((total + us))
    local role=follower; [[ ${pids[i]} == "$leader_pid" ]] && role=leader
    line+=" $role=$(printf '%d.%02d' $((us / 1000)) $((us % 1000 / 10)))us"
  done
  line+=" sum=$(printf '%d.%02d' $((total / 1000)) $((total % 1000 / 10)))us"
  local rps p99
  rps=$(echo "$csv" | awk -F'"' '{ print $4 }')
  p99=$(echo "$csv" | awk -F'"' '{ print $14 }')
  echo "$line set/s=$rps p99_ms=$p99"
}

run_redis() {
  local work port=6790 pid before after csv ns
  work=$(mktemp -d /tmp/ringraft-cpu-redis-XXXXXX)
  redis-server --bind 127.0.0.1 --port "$port" --dir "$work" --save "" --appendonly yes \
    --appendfsync always --daemonize no >"$work/redis.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  before=$(cpu_ticks "$pid")
  csv=$(redis-benchmark -h 127.0.0.1 -p "$port" -t set -d 100 -c 50 -P 16 -r 100000 \
          -n "$requests" --csv | tail -1)
  after=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$work"
  ns=$(( (after - before) * 1000000 / ticks * 1000 / requests ))
  echo "redis-server: $(printf '%d.%02d' $((ns / 1000)) $((ns % 1000 / 10)))us" \
    "set/s=$(echo "$csv" | awk -F'"' '{ print $4 }') p99_ms=$(echo "$csv" | awk -F'"' '{ print $14 }')"
}

echo "cpu_per_set: $requests SETs per run, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < rounds; r++)); do
  for build in "${builds[@]}"; do run_once "$build"; done
  if [[ ${REDIS:-0} == 1 ]]; then run_redis; fi
done
