#!/usr/bin/env bash
# bench_eval WORKER OUT: the benchmark of kgrade-worker eval (docs/benchmarks.md).
#  (a) stage latencies of a correct candidate on a small problem (first run with an empty compile
#      cache, then warm runs) and on kb1-55;
#  (b) timing fidelity on kb1-55: our median against ncu's gpu__time_duration of the same kernels
#      (--clock-control none, its default cache flush), repeatability over 10 evaluations, and
#      triton.testing.do_bench on the same kernels (loaded with CuPy) in the same run.
# Writes JSON lines to OUT/bench_eval.jsonl and prints a table.
set -uo pipefail
BIN=$1 OUT=$2
DIR=$(cd "$(dirname "$0")/../candidates" && pwd)
CAND=${KGRADE_BENCH_CAND:-$DIR/ok_igemm_ws.cu}
J=$OUT/bench_eval.jsonl
: >"$J"
ev() { "$BIN" eval --compact "$@"; }

cold=$(mktemp -d)
KGRADE_CACHE_DIR=$cold ev --problem small-3x3 --source "$CAND" >>"$J"
rm -rf "$cold"
for i in 1 2 3 4 5; do ev --problem small-3x3 --source "$CAND" >>"$J"; done
for i in $(seq 10); do ev --problem kb1-55 --source "$CAND" >>"$J"; done

# ncu on the same kernels, launched by the worker itself
kern=$(sed -n 's#^// @kgrade launch \([A-Za-z_0-9]*\).*#\1#p' "$CAND" | paste -sd'|')
if command -v ncu >/dev/null; then
  ncu --clock-control none --metrics gpu__time_duration.sum --csv --print-units base \
      -k "regex:^($kern)" --launch-count 24 --log-file "$OUT/ncu.csv" \
      "$BIN" eval --problem kb1-55 --source "$CAND" --no-baselines --trials 1 --no-exact --budget-ms 500 \
      --min-samples 5 --compact >"$OUT/ncu_eval.json" 2>"$OUT/ncu.err" || echo "ncu failed: $(tail -3 "$OUT/ncu.err")"
fi
python3 "$(dirname "$0")/dobench.py" "$BIN" "$CAND" kb1-55 10 >"$OUT/dobench.json" 2>"$OUT/dobench.err" \
  || echo "do_bench failed: $(tail -3 "$OUT/dobench.err")"

python3 - "$OUT" "$kern" <<'PY'
import csv, json, os, statistics, sys
out, kern = sys.argv[1], sys.argv[2].split("|")
recs = [json.loads(l) for l in open(os.path.join(out, "bench_eval.jsonl"))]
print("(a) stage latencies, ms; 'untimed' = total - warm-up - rounds")
print(f"{'run':22} {'verdict':8} {'context':>8} {'compile':>8} {'load':>8} {'correct':>8} {'t.setup':>8} {'warm-up':>8} {'rounds':>8} {'total':>8} {'untimed':>8}")
for name, r in [("small-3x3 cold cache", recs[0])] + [(f"small-3x3 warm {i}", r) for i, r in enumerate(recs[1:6], 1)] + [("kb1-55 warm", recs[6]), ("kb1-55 warm", recs[7])]:
    s, t = r["stages_ms"], r.get("timing", {})
    g = lambda k: s.get(k, float("nan"))
    wu, rd = t.get("warmup_ms", 0), t.get("wall_ms", 0)
    print(f"{name:22} {r['verdict']:8} {g('context'):8.1f} {g('compile'):8.1f} {g('load'):8.1f} {g('correctness'):8.1f} {t.get('setup_ms', 0):8.1f} {wu:8.1f} {rd:8.1f} {g('total'):8.1f} {g('total') - wu - rd:8.1f}")
kb = recs[6:16]
meds = [r["timing"]["candidate"]["median"] for r in kb]
cv = statistics.pstdev(meds) / statistics.mean(meds)
ours = statistics.median(meds)
print(f"\n(b) kb1-55, {os.path.basename(os.environ.get('KGRADE_BENCH_CAND', 'ok_igemm_ws.cu'))}")
print(f"kgrade medians over 10 evaluations: median {ours:.4f} ms, CV {100*cv:.3f} %  (min {min(meds):.4f}, max {max(meds):.4f})")
sums = None
try:
    rows = [r for r in csv.reader(open(os.path.join(out, "ncu.csv"))) if len(r) > 10]
    hdr = rows[0]; ki, mi, vi = hdr.index("Kernel Name"), hdr.index("Metric Name"), hdr.index("Metric Value")
    per = {}
    for r in rows[1:]:
        if r[mi] == "gpu__time_duration.sum":
            name = next((k for k in kern if r[ki].startswith(k) or k in r[ki]), r[ki])
            per.setdefault(name, []).append(float(r[vi].replace(",", "")) / 1e6)
    sums = sum(statistics.median(v) for v in per.values())
    print("ncu gpu__time_duration (median per kernel, ms):", {k: round(statistics.median(v), 4) for k, v in per.items()},
          f"n={[len(v) for v in per.values()]}")
    print(f"ncu sequence {sums:.4f} ms; kgrade/ncu = {ours / sums:.4f} ({100*(ours/sums-1):+.2f} %)")
except Exception as ex:
    print("ncu: no data", ex)
try:
    d = json.load(open(os.path.join(out, "dobench.json")))
    print(f"triton do_bench (median of 10 do_bench medians): {d['median_ms']:.4f} ms, CV {100*d['cv']:.3f} %; "
          f"kgrade/do_bench = {ours / d['median_ms']:.4f}")
except Exception as ex:
    print("do_bench: no data", ex)
json.dump({"kgrade_medians": meds, "kgrade_cv": cv, "ncu_sequence_ms": sums}, open(os.path.join(out, "fidelity.json"), "w"))
PY
