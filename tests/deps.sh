#!/usr/bin/env bash
# Install what kgrade builds against on Debian/Ubuntu (the CUDA toolkit itself must already be
# installed: NVRTC, CUPTI and the driver API headers come from it). Idempotent; uses sudo when not root.
set -euo pipefail
# libcurl4-openssl-dev: the HTTP tests' client only (kgraded never links curl). python3: the worker's
# Triton check (lint and syntax, no torch needed) and the HTTP tests' JSON checks.
pkgs="cmake gcc make pkg-config binutils libcjson-dev libmicrohttpd-dev libsqlite3-dev libseccomp-dev libcurl4-openssl-dev curl python3"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
cuda=${CUDAToolkit_ROOT:-/usr/local/cuda}
if [ ! -e "$cuda/include/nvrtc.h" ] && ! command -v nvcc >/dev/null; then
  echo "error: the CUDA toolkit (12.4 or later) is required: no nvrtc.h under $cuda and no nvcc on PATH" >&2
  exit 1
fi
