#!/usr/bin/env bash
# no_driver WORKER STUB_LINKED: the worker has no libcuda dependency and starts without a driver;
# the stub-linked control fails to start there. Exit 77 (skipped) where a driver is installed,
# since the control cannot fail there.
set -u
worker=$1 stub=$2
fail=0 pass=0
ok() { echo "ok: $1"; pass=$((pass+1)); }
bad() { echo "FAILED: $1"; fail=$((fail+1)); }

if readelf -d "$worker" | grep -q 'NEEDED.*libcuda'; then bad "worker links libcuda"; else ok "worker does not link libcuda"; fi
if readelf -d "$stub" | grep -q 'NEEDED.*libcuda.so.1'; then ok "control links libcuda.so.1"; else bad "control does not link libcuda"; fi
out=$("$worker" problems kb1-55 2>&1) && echo "$out" | grep -q '"h_out"' && ok "worker runs: problems kb1-55" || bad "worker problems: $out"

if ldconfig -p | grep -q 'libcuda.so.1 '; then
  echo "a CUDA driver is installed here: the missing-driver behaviour cannot be checked"
  echo "no_driver: $pass passed, $fail failed"
  [ $fail -eq 0 ] && exit 77 || exit 1
fi
out=$("$worker" info 2>&1); rc=$?
[ $rc -eq 77 ] && echo "$out" | grep -q 'no CUDA driver' && ok "worker info without driver: exit 77, says so" \
  || bad "worker info without driver: rc $rc: $out"
out=$("$stub" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q 'libcuda.so.1' && ok "control does not start: $out" \
  || bad "control started (rc $rc): $out"
echo "no_driver: $pass passed, $fail failed"
[ $fail -eq 0 ]
