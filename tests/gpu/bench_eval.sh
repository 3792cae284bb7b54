#!/usr/bin/env bash
# bench_eval WORKER OUT: the benchmark of kgrade-worker eval (docs/benchmarks.md).
#  (a) stage latencies of a correct candidate on a small problem (first run with an empty compile
#      cache, then warm runs) and on kb1-55;
#  (b) timing fidelity: our median against ncu's gpu__time_duration of the same kernels
#      (--clock-control none, its default cache flush), repeatability over 10 evaluations, and
#      triton.testing.do_bench on the same kernels (loaded with CuPy) in the same run; for a 48 ms
#      kernel (kb1-55) and a sub-millisecond one (kb1-83).
# Writes the records to OUT/bench_eval.jsonl and OUT/fidelity-*.jsonl and prints a table.
set -uo pipefail
BIN=$1 OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$HERE/../candidates
ev() { "$BIN" eval --compact "$@"; }

J=$OUT/bench_eval.jsonl
: >"$J"
cold=$(mktemp -d)
KGRADE_CACHE_DIR=$cold ev --problem small-3x3 --source "$DIR/ok_igemm_ws.cu" >>"$J"
rm -rf "$cold"
for i in 1 2 3 4 5; do ev --problem small-3x3 --source "$DIR/ok_igemm_ws.cu" >>"$J"; done

fidelity() {   # problem candidate
  local p=$1 c=$2 tag=$1-$(basename "$2" .cu)
  : >"$OUT/fidelity-$tag.jsonl"
  for i in $(seq 10); do ev --problem "$p" --source "$c" >>"$OUT/fidelity-$tag.jsonl"; done
  local kern
  kern=$(sed -n 's#^// @kgrade launch \([A-Za-z_0-9]*\).*#\1#p' "$c" | paste -sd'|')
  if command -v ncu >/dev/null; then
    ncu --clock-control none --metrics gpu__time_duration.sum --csv --print-units base \
        -k "regex:^($kern)" --launch-count 24 --log-file "$OUT/ncu-$tag.csv" \
        "$BIN" eval --problem "$p" --source "$c" --no-baselines --trials 1 --no-exact --budget-ms 500 \
        --min-samples 5 --compact >/dev/null 2>"$OUT/ncu-$tag.err" || echo "ncu failed: $(tail -3 "$OUT/ncu-$tag.err")"
  fi
  python3 "$HERE/dobench.py" "$BIN" "$c" "$p" 10 >"$OUT/dobench-$tag.json" 2>"$OUT/dobench-$tag.err" \
    || echo "do_bench failed: $(tail -3 "$OUT/dobench-$tag.err")"
  echo "$tag $kern"
}
{ fidelity kb1-55 "$DIR/ok_igemm_ws.cu"; fidelity kb1-83 "$DIR/ok_naive.cu"; } >"$OUT/fidelity-cases.txt"

python3 - "$OUT" <<'PY'
import csv, json, os, statistics, sys
out = sys.argv[1]
recs = [json.loads(l) for l in open(os.path.join(out, "bench_eval.jsonl"))]
cases = [l.split() for l in open(os.path.join(out, "fidelity-cases.txt")) if l.strip()]
big = [json.loads(l) for l in open(os.path.join(out, f"fidelity-{cases[0][0]}.jsonl"))]
print("(a) stage latencies, ms; 'untimed' = total - warm-up - rounds")
print(f"{'run':22} {'verdict':8} {'context':>8} {'compile':>8} {'load':>8} {'correct':>8} {'t.setup':>8} {'warm-up':>8} {'rounds':>8} {'total':>8} {'untimed':>8}")
rows = [("small-3x3 cold cache", recs[0])] + [(f"small-3x3 warm {i}", r) for i, r in enumerate(recs[1:6], 1)]
rows += [("kb1-55 first", big[0]), ("kb1-55 second", big[1])]
for name, r in rows:
    s, t = r["stages_ms"], r.get("timing", {})
    g = lambda k: s.get(k, float("nan"))
    wu, rd = t.get("warmup_ms", 0), t.get("wall_ms", 0)
    print(f"{name:22} {r['verdict']:8} {g('context'):8.1f} {g('compile'):8.1f} {g('load'):8.1f} {g('correctness'):8.1f} {t.get('setup_ms', 0):8.1f} {wu:8.1f} {rd:8.1f} {g('total'):8.1f} {g('total') - wu - rd:8.1f}")
print("\n(b) timing fidelity and repeatability")
print(f"{'case':26} {'kgrade ms':>10} {'CV 10 ev':>9} {'ncu ms':>10} {'kg/ncu':>8} {'do_bench':>10} {'CV':>7} {'kg/db':>7} {'clock MHz':>9}")
summary = {}
for tag, kern in cases:
    recs = [json.loads(l) for l in open(os.path.join(out, f"fidelity-{tag}.jsonl"))]
    meds = [r["timing"]["candidate"]["median"] for r in recs]
    clk = statistics.median(r["timing"]["candidate"]["sm_clock_mhz"]["median"] for r in recs)
    ours, cv = statistics.median(meds), statistics.pstdev(meds) / statistics.mean(meds)
    ncu = float("nan")
    try:
        rows = [r for r in csv.reader(open(os.path.join(out, f"ncu-{tag}.csv"))) if len(r) > 10]
        h = rows[0]; ki, mi, vi = h.index("Kernel Name"), h.index("Metric Name"), h.index("Metric Value")
        per = {}
        for r in rows[1:]:
            if r[mi] == "gpu__time_duration.sum":
                per.setdefault(r[ki].split("(")[0], []).append(float(r[vi].replace(",", "")) / 1e6)
        ncu = sum(statistics.median(v) for v in per.values())
    except Exception as ex:
        print("ncu:", tag, ex)
    db = {"median_ms": float("nan"), "cv": float("nan")}
    try:
        db = json.load(open(os.path.join(out, f"dobench-{tag}.json")))
    except Exception as ex:
        print("do_bench:", tag, ex)
    print(f"{tag:26} {ours:10.4f} {100*cv:8.3f}% {ncu:10.4f} {ours/ncu:8.4f} {db['median_ms']:10.4f} {100*db['cv']:6.3f}% {ours/db['median_ms']:7.4f} {clk:9.1f}")
    summary[tag] = {"kgrade_medians": meds, "cv": cv, "ncu_ms": ncu, "do_bench": db}
json.dump(summary, open(os.path.join(out, "fidelity.json"), "w"))
PY
