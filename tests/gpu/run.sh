#!/usr/bin/env bash
# The GPU round: build, run the GPU tests, the reference self-check and the benchmark, print a short
# table last. Full logs and JSON go to $OUT (default ./gpu-out). Run from the repository root on a
# machine with a GPU; set KGRADE_SWEEP=1 to also time the reference's tile variants,
# KGRADE_REF_BENCH=0 to skip the reference-vs-cuDNN benchmark, KGRADE_EVAL_BENCH=0 to skip the
# benchmark of kgrade-worker eval (tests/gpu/bench_eval.sh), KGRADE_API=0 to skip kgraded's corpus and
# benchmark through HTTP (tests/gpu/api.py), KGRADE_SANDBOX=0 to skip the sandbox's GPU threat table
# (tests/gpu/sandbox.sh), KGRADE_TRITON=0 to skip the Triton candidates (tests/gpu/triton.py;
# KGRADE_TRITON_API=" " runs them through the worker only), KGRADE_METRICS=0 to skip the per-kernel
# metrics against ncu (tests/gpu/metrics.py). build/bin/prof_session (what the metrics collector's
# CUPTI session costs, fresh and kept, and what a kept one does to timing) always runs.
set -uo pipefail
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
export KGRADE_CACHE_DIR=${KGRADE_CACHE_DIR:-$PWD/build/cache}
BIN=build/bin/kgrade-worker
# cuDNN: the system's, else the one shipped with PyTorch's wheels
if ! ldconfig -p | grep -q 'libcudnn.so.9 ' && [ -z "${KGRADE_CUDNN_LIB:-}" ]; then
  d=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], "lib"))' 2>/dev/null)
  [ -n "$d" ] && [ -e "$d/libcudnn.so.9" ] && export KGRADE_CUDNN_LIB=$d/libcudnn.so.9 LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi

{
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKGRADE_WERROR=ON &&
  cmake --build build -j"$(nproc)"
} >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv \
  >"$OUT/device.txt" 2>&1
$BIN info >"$OUT/info.json" 2>&1
(cd build && ctest -L gpu -E 'gpu_corpus|gpu_api' --output-on-failure) >"$OUT/ctest_gpu.log" 2>&1
ctest_rc=$?
build/bin/prof_session >"$OUT/prof_session.txt" 2>&1
prof_session_rc=$?
OUT=$OUT bash tests/gpu/corpus.sh "$BIN" tests/candidates >"$OUT/corpus.txt" 2>&1
corpus_rc=$?
api_rc=skipped
if [ "${KGRADE_API:-1}" = 1 ]; then
  OUT=$OUT python3 tests/gpu/api.py build/bin/kgraded tests/candidates --bench >"$OUT/api.txt" 2>&1
  api_rc=$?
fi
sandbox_rc=skipped
if [ "${KGRADE_SANDBOX:-1}" = 1 ]; then
  bash tests/gpu/sandbox.sh build/bin/kgraded build/bin/kgrade-sandbox "$PWD/$BIN" >"$OUT/sandbox.txt" 2>&1
  sandbox_rc=$?
fi
triton_rc=skipped
if [ "${KGRADE_TRITON:-1}" = 1 ]; then
  OUT=$OUT python3 tests/gpu/triton.py --worker "$PWD/$BIN" ${KGRADE_TRITON_API:---api build/bin/kgraded --seeds --bench} \
    >"$OUT/triton.txt" 2>&1
  triton_rc=$?
fi
metrics_rc=skipped
if [ "${KGRADE_METRICS:-1}" = 1 ]; then
  OUT=$OUT python3 tests/gpu/metrics.py --worker "$PWD/$BIN" >"$OUT/metrics.txt" 2>&1
  metrics_rc=$?
fi
$BIN selfcheck --shapes tests/data/gpu_shapes.txt >"$OUT/selfcheck.json" 2>"$OUT/selfcheck.log"
self_rc=$?
bench_rc=skipped
if [ "${KGRADE_REF_BENCH:-1}" = 1 ]; then
  $BIN bench ${KGRADE_BENCH_IDS:-} >"$OUT/bench.json" 2>"$OUT/bench.log"
  bench_rc=$?
fi
[ "${KGRADE_EVAL_BENCH:-1}" = 1 ] && bash tests/gpu/bench_eval.sh "$BIN" "$OUT" >"$OUT/bench_eval.txt" 2>&1
if [ "${KGRADE_SWEEP:-0}" = 1 ]; then
  for cfg in ${KGRADE_SWEEP_CONFIGS:-igemm:128x128x8 igemm:256x64x8 igemm:128x64x8 igemm:128x128x16}; do
    KGRADE_REF_CONFIG=$cfg $BIN bench ${KGRADE_SWEEP_IDS:-kb1-55 kb1-56} --budget-ms 1500 \
      >"$OUT/sweep_${cfg//[:x]/_}.json" 2>>"$OUT/sweep.log"
  done
fi

echo "== device"; cat "$OUT/device.txt"; cat "$OUT/info.json"
echo "== ctest -L gpu (rc $ctest_rc)"; grep -E "tests passed|tests failed|Failed|Not Run" "$OUT/ctest_gpu.log" | tail -5
echo "== selfcheck (rc $self_rc)"; grep -E "^FAIL" "$OUT/selfcheck.log" | head -20; tail -1 "$OUT/selfcheck.log"
echo "== corpus (rc $corpus_rc)"; cat "$OUT/corpus.txt"
echo "== kgraded: corpus and benchmark through HTTP (rc $api_rc)"; cat "$OUT/api.txt" 2>/dev/null
echo "== sandbox: threats with real candidates, canary, cost (rc $sandbox_rc)"; cat "$OUT/sandbox.txt" 2>/dev/null
echo "== eval benchmark"; cat "$OUT/bench_eval.txt" 2>/dev/null
echo "== Triton candidates (rc $triton_rc)"; cat "$OUT/triton.txt" 2>/dev/null
echo "== per-kernel metrics against ncu (rc $metrics_rc)"; sed -n '/^== metrics: ours/,$p' "$OUT/metrics.txt" 2>/dev/null
echo "== the metrics collector's session: cost, and its effect on timing (rc $prof_session_rc)"; cat "$OUT/prof_session.txt"
echo "== bench (rc $bench_rc)"; tail -15 "$OUT/bench.log" 2>/dev/null
python3 - "$OUT" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
try:
    b = json.load(open(os.path.join(out, "bench.json")))
except Exception as ex:
    print("no bench.json:", ex); sys.exit(0)
print(f"{b['device']} driver {b['driver']} cudnn {b['cudnn']} peak {b['fp32_peak_tflops']:.1f} TFLOP/s")
print(f"{'problem':8} {'kernel':18} {'ref ms':>8} {'fp32 ms':>8} {'tf32 ms':>8} {'ref/fp32':>8} {'ref TF/s':>8} {'%peak':>6} {'tf32 relL2':>10}")
for p in b["problems"]:
    r, f, t = p["reference"], p.get("cudnn_fp32", {}), p.get("cudnn_tf32", {})
    print(f"{p['id']:8} {p['reference_kernel']:18} {r['median']:8.3f} {f.get('median', float('nan')):8.3f} "
          f"{t.get('median', float('nan')):8.3f} {p.get('ratio_ref_over_cudnn_fp32', float('nan')):8.3f} "
          f"{r['tflops']:8.2f} {100*r['fraction_of_fp32_peak']:6.1f} {t.get('rel_l2_vs_reference', float('nan')):10.2e}")
print("geomean ref/cudnn_fp32:", b.get("geomean_ref_over_cudnn_fp32"))
for f in sorted(glob.glob(os.path.join(out, "sweep_*.json"))):
    try:
        s = json.load(open(f))
        print(os.path.basename(f), " ".join(f"{p['id']}={p['reference']['median']:.3f}" for p in s["problems"]))
    except Exception as ex:
        print(os.path.basename(f), "failed", ex)
PY
