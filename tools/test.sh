#!/usr/bin/env bash
# The test command: installs what is missing, then builds and runs every suite.
#
#   1. release (gcc, optimized, warnings as errors): all unit tests, and the benchmarks build
#   2. dev (clang, ASan+UBSan, warnings as errors): all unit tests
#   3. tsan (clang, ThreadSanitizer): the cross-thread suites (the build preset builds only
#      their executables; the test preset filters them by name)
#   4. install: `cmake --install` then a separate project does find_package(ringraft)
#
# Usage: tools/test.sh [--quick]   (--quick: release build and tests only)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
for argument in "$@"; do
  case "$argument" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$argument' (try --help)" >&2; exit 2 ;;
  esac
done

tools/deps.sh
jobs=$(nproc)

step() { printf '\n=== %s\n' "$*"; }

run_preset() {
  local preset=$1
  step "configure + build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  step "test: $preset"
  ctest --preset "$preset" -j "$jobs"
}

run_preset ci-release
if [ "$quick" -eq 1 ]; then
  exit 0
fi
run_preset ci-dev
run_preset ci-tsan

step "install + find_package(ringraft) from a separate project"
prefix=$(mktemp -d)
consumer_build=$(mktemp -d)
trap 'rm -rf "$prefix" "$consumer_build"' EXIT
cmake --install build/ci-release --prefix "$prefix" >/dev/null
cmake -S tests/install -B "$consumer_build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$consumer_build"
"$consumer_build/embed_check"

step "all suites passed"
