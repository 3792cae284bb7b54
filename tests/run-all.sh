#!/usr/bin/env bash
# Install dependencies, build with warnings as errors, run the whole test suite and print its
# summary. GPU tests skip (exit 77) on machines without a usable GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
[ -d /usr/local/cuda ] && export CUDAToolkit_ROOT=${CUDAToolkit_ROOT:-/usr/local/cuda}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGRADE_WERROR=ON >build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j"$(nproc)" >>build.log 2>&1 || { tail -60 build.log; exit 1; }
cd build
ctest --output-on-failure -j"$(nproc)"
