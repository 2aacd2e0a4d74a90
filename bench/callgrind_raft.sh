#!/usr/bin/env bash
# Instructions per committed entry of raft/core, counted by valgrind's callgrind (exact and
# repeatable, unlike wall time on a shared machine). Runs `raft_bench --profile` twice, for the
# core (3-node cluster in one process, in-memory persistence, see bench/micro/raft_bench.cc) and
# for its vector_push_back baseline, collecting only inside ringraft_raft_bench_profile, and
# prints instructions per entry, the ratio, and the core's most expensive functions.
#
# Usage: bench/callgrind_raft.sh [payload_bytes (100)] [entries_per_propose (64)] [entries (16384)]
# BUILD_DIR (default build/callgrind) is configured RelWithDebInfo without tests if missing.
# Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."

payload_bytes=${1:-100}
batch=${2:-64}
entries=${3:-16384}
build_dir=${BUILD_DIR:-build/callgrind}

command -v valgrind >/dev/null || { echo "callgrind_raft.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRINGRAFT_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$build_dir" -j2 raft_bench >/dev/null

out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT

# Total instructions (Ir) of one callgrind run.
instructions() {
  local variant=$1
  valgrind --tool=callgrind --toggle-collect=ringraft_raft_bench_profile \
    --callgrind-out-file="$out_dir/$variant.out" \
    "$build_dir/bench/raft_bench" --profile "$variant" "$payload_bytes" "$batch" "$entries" \
    >/dev/null 2>"$out_dir/$variant.log"
  awk '/^(summary|totals):/ { print $2; exit }' "$out_dir/$variant.out"
}

core_ir=$(instructions core)
baseline_ir=$(instructions baseline)
echo "raft/core, 3 nodes in one process: $entries entries of $payload_bytes B, $batch per propose"
awk -v c="$core_ir" -v b="$baseline_ir" -v n="$entries" 'BEGIN {
  printf "  core               %10.0f instructions per committed entry\n", c / n
  printf "  vector_push_back   %10.0f instructions per entry (baseline)\n", b / n
  printf "  ratio core / baseline: %.2f\n", c / b
}'
echo
echo "core: ringraft and allocator functions by inclusive instructions (top 20)"
callgrind_annotate --inclusive=yes "$out_dir/core.out" 2>/dev/null |
  grep -E '^ *[0-9,]+ \(' | grep -E '\]$' | grep -E 'ringraft::|operator new|operator delete|malloc|free' |
  grep -v 'ringraft_raft_bench_profile' | sed -E 's/\(std::.*$//; s/ \[[^]]*\]$//' | cut -c1-150 | head -20
