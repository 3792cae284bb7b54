#!/usr/bin/env bash
# no_cuda.sh KGRADED: the daemon never links CUDA (docs/architecture.md: only the worker touches
# the GPU, and it loads libcuda at run time). Checks the ELF's NEEDED entries for any CUDA
# library, and its undefined dynamic symbols for any CUDA, NVRTC, CUPTI or cuDNN entry point.
set -u
bin=${1:?usage: no_cuda.sh KGRADED}
fail=0
name=$(basename "$bin")
[ -x "$bin" ] || { echo "FAILED: $bin is not an executable"; exit 1; }

needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || { echo "FAILED: readelf found no NEEDED entries in $bin"; exit 1; }
echo "NEEDED: $(echo $needed)"
bad=$(echo "$needed" | grep -E -i '^lib(cuda|cudart|nvrtc|nvrtc-builtins|cupti|cudnn|cublas|nvidia-ml|nvJitLink)([.-]|$)')
if [ -n "$bad" ]; then
  echo "FAILED: $name links CUDA libraries: $(echo $bad)"
  fail=1
fi

syms=$(nm -D --undefined-only "$bin" | awk '{print $NF}' | sed 's/@.*//')
[ -n "$syms" ] || { echo "FAILED: nm found no undefined dynamic symbols in $bin"; exit 1; }
badsym=$(echo "$syms" | grep -E '^(cu[A-Z]|cuda[A-Z_]|nvrtc|cupti|cudnn|nvml)')
if [ -n "$badsym" ]; then
  echo "FAILED: $name imports CUDA symbols: $(echo $badsym | head -c 400)"
  fail=1
fi

# Nor does it open libcuda by name at run time (the worker does; the daemon must not).
if strings -a "$bin" | grep -E -q '^lib(cuda|nvrtc|cudnn|cupti)[a-z0-9_]*\.so'; then
  echo "FAILED: $name names a CUDA library: $(strings -a "$bin" | grep -E '^lib(cuda|nvrtc|cudnn|cupti)[a-z0-9_]*\.so' | head -3 | tr '\n' ' ')"
  fail=1
fi

[ $fail -eq 0 ] && echo "$name: ok ($(echo "$syms" | wc -l) undefined symbols, none from CUDA)"
exit $fail
