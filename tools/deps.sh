#!/usr/bin/env bash
# Installs the Debian packages ringraft builds, tests and benchmarks with, if any is missing.
# Safe to run again: it does nothing when everything is there.
set -euo pipefail

packages=(
  cmake ninja-build ccache pkg-config g++ clang libclang-rt-14-dev python3
  liburing-dev libflatbuffers-dev flatbuffers-compiler libisal-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libtomlplusplus-dev
  redis-server redis-tools gnuplot-nox
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    sudo="sudo"
  else
    echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
