#!/usr/bin/env bash
# clang-tidy with the checks in .clang-tidy (bugprone-*, performance-*) over the library and the
# CLI, using the dev preset's compile_commands.json. Prints findings; exits 0 (advisory).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/dev/compile_commands.json ] || cmake --preset dev >/dev/null
cmake --build --preset dev >/dev/null  # generated headers must exist
run-clang-tidy -p build/dev -quiet "$(pwd)/(common|reactor|net|tools)/" 2>/dev/null |
  grep -E "warning:|error:" | sort -u || true
