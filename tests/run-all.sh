#!/usr/bin/env bash
# Install dependencies, build with warnings as errors, run the whole test suite, then the CPU tests
# again under AddressSanitizer and UndefinedBehaviorSanitizer; print the summaries. GPU tests skip
# (exit 77) on machines without a usable GPU. Logs: build.log, build-san.log.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
[ -d /usr/local/cuda ] && export CUDAToolkit_ROOT=${CUDAToolkit_ROOT:-/usr/local/cuda}
jobs=$(nproc)

build() {  # dir log extra-cmake-args...
  local dir=$1 log=$2; shift 2
  cmake -S . -B "$dir" -DKGRADE_WERROR=ON "$@" >"$log" 2>&1 || { cat "$log"; exit 1; }
  cmake --build "$dir" -j"$jobs" >>"$log" 2>&1 || { tail -60 "$log"; exit 1; }
}

build build build.log -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build && ctest --output-on-failure -j"$jobs")

echo "== the same CPU tests under ASan + UBSan"
build build-san build-san.log -DCMAKE_BUILD_TYPE=Debug -DKGRADE_ASAN=ON -DKGRADE_UBSAN=ON
(cd build-san && ctest --output-on-failure -j"$jobs" -LE gpu)
