#!/usr/bin/env bash
# baseline.sh KGRADED SOURCE_DIR: full-mode evaluations of a prompt with [CURRENT CODE] on a host
# without a GPU. A stand-in worker claims two GPUs (`info`), passes every canary and answers `compile`
# and `eval` with records of its own: timings chosen by the code it is given (the candidate's code
# 1.0 ms, the prompt's current code 2.0 ms, a current code marked slow-baseline 3 s late), and the
# argv it was called with. Checked:
#   - the candidate's job links a baseline job (baseline_id), which is an ordinary evaluation of the
#     current code (language triton, from the prompt), claimed first (priority one above);
#   - the candidate's record has "baseline": its status, verdict, median, the speedup 2.0 with its
#     interval and decision "faster", the prompt's NCU metrics with the stage's threshold;
#   - the same request again is answered from the cache with the same baseline; a batch of three
#     candidates of one prompt makes one baseline for all, found while it is still queued; other
#     options (a seed, a lint policy) make a baseline of their own;
#   - a baseline still running when the candidate finishes: status as is, speedup null;
#   - the worker's argv: --language triton and --autotune-max 3 in both steps, --lint as given,
#     --seal in eval only, the eval handed to a pre-started worker (--job-stdin, its job's arguments
#     on stdin); check mode makes no baseline; a response without code is no_code and starts no
#     worker.
# Needs bash, curl and python3.
set -u
kgraded=$1 src=$2
for c in curl python3; do command -v $c >/dev/null || { echo "$c is missing"; exit 1; }; done
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null && wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
chmod 755 "$tmp" "$tmp/bin"
cat >"$tmp/bin/worker" <<'W'
#!/usr/bin/env bash
# a stand-in kgrade-worker: info, canary, compile, eval (also pre-started)
case "$1" in
  info) echo '{"devices":[{"ordinal":0,"arch":90,"name":"stand-in 0"},{"ordinal":1,"arch":90,"name":"stand-in 1"}]}'; exit 0 ;;
  canary) echo '{"healthy":true}'; exit 0 ;;
esac
args="$*"
case " $* " in   # pre-started (eval --job-stdin): the job's arguments come first, one JSON line
  *" --job-stdin "*) IFS= read -r job   # ["a","b",...] of plain strings here: a b ...
    job=${job#[\"}; job=${job%\"]}; args="$args ${job//\",\"/ }" ;;
esac
src=$(cat)
median=2.0 warps=24.5
case "$src" in *num_warps=8*) median=1.0 warps=55.0 ;; esac
if [ "$1" = eval ]; then
  case "$src" in *slow-baseline*) sleep 3 ;; esac
  printf '{"schema":"kgrade.result/1","verdict":"ok","argv":"%s","timing":{"candidate":{"n":40,"median":%s,"mean":%s,"stdev":0.02}},"metrics_source":"cupti","metrics":{"conv2d_fwd_kernel":{"sm__warps_active.avg.pct_of_peak_sustained_active":%s}}}' \
    "$args" $median $median $warps >&3
else
  printf '{"schema":"kgrade.result/1","verdict":"ok","argv":"%s"}' "$args" >&3
fi
exit 0
W
chmod +x "$tmp/bin/worker"
port=$(( 20000 + RANDOM % 20000 ))
"$kgraded" --listen 127.0.0.1:$port --data "$tmp/var" --gpus 0,1 --worker "$tmp/bin/worker" \
  --sandbox-ro "$tmp/bin" --cpu-lanes 1 2>"$tmp/log" &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf $base/v1/health >/dev/null && break; sleep 0.1; done

# requests as JSON files, made by python from the fixtures
python3 - "$src/tests/http/ingest" "$tmp" <<'P'
import json, sys
d, out = sys.argv[1], sys.argv[2]
prompt = open(d + "/prompt_002.txt").read()
resp = open(d + "/response_002.md").read()
slow = prompt.replace("import math\n", "import math  # slow-baseline\n", 1)
def req(p, r, **opts):
    o = {"mode": "full"}
    o.update(opts)
    return {"problem": "seed-002", "candidate": {"prompt": p, "response": r}, "options": o}
other = prompt.replace("import math\n", "import math  # batch\n", 1)
json.dump(req(prompt, resp), open(out + "/one.json", "w"))
json.dump(req(prompt, "Thanks! Same code again:\n\n" + resp, seed=7), open(out + "/two.json", "w"))
json.dump(req(prompt, resp, lint={"reference-op": "warn"}), open(out + "/lint.json", "w"))
json.dump(req(slow, resp), open(out + "/slow.json", "w"))
json.dump(req(prompt, resp, mode="check", lint={"reference-op": "off"}), open(out + "/check.json", "w"))
json.dump(req(prompt, "I would raise BLOCK_M to 128; the rest can stay."), open(out + "/nocode.json", "w"))
batch = [req(other, resp.replace("BLOCK_K': 32},\n            num_warps=8", "BLOCK_K': %d},\n            num_warps=8" % k))
         for k in (16, 64, 128)]
open(out + "/batch.jsonl", "w").write("".join(json.dumps(b) + "\n" for b in batch))
P

fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
# check NAME FILE PYTHON-EXPRESSION: the expression over the JSON d of FILE must be true
check() {
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3" 2>/dev/null
  then ok "$1"; else bad "$1: $3"; head -c 1500 "$2"; echo; fi
}
post() { curl -s "$base/v1/evaluations?wait=30" -H 'Content-Type: application/json' --data-binary @"$tmp/$1" >"$tmp/$2"; }
get() { curl -s "$base/v1/evaluations/$1" >"$tmp/$2"; }
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/$1" "$2"; }

check "two GPU lanes in service" <(curl -s $base/v1/health) 'len(d["gpus"]) == 2 and all(g["in_service"] for g in d["gpus"])'

post one.json one.out
check "a full evaluation with a prompt: done, linked to a baseline" "$tmp/one.out" \
  'd["status"] == "done" and d["verdict"] == "ok" and d["language"] == "triton" and d["baseline_id"].startswith("ev_")'
b=$(field one.out 'd["baseline_id"]')
r='d["result"]["baseline"]'
check "the record compares with the baseline: 2.0 faster, its interval, the method" "$tmp/one.out" \
  "$r[\"id\"] == \"$b\" and $r[\"source\"] == \"prompt.current_code\" and $r[\"status\"] == \"done\" and $r[\"verdict\"] == \"ok\" and $r[\"median_ms\"] == 2.0 and $r[\"speedup\"][\"estimate\"] == 2.0 and $r[\"speedup\"][\"ci95\"][0] < 2.0 < $r[\"speedup\"][\"ci95\"][1] and $r[\"speedup\"][\"decision\"] == \"faster\" and \"delta method\" in $r[\"speedup\"][\"method\"]"
check "the prompt's NCU metrics with the stage's threshold: before (the baseline's), after (the candidate's), met" "$tmp/one.out" \
  "$r[\"metrics\"][\"conv2d_fwd_kernel\"][\"sm__warps_active.avg.pct_of_peak_sustained_active\"] == {\"prompt\": 24.93, \"before\": 24.5, \"after\": 55.0, \"threshold\": {\"op\": \">\", \"value\": 50, \"unit\": \"%\"}, \"met\": True} and $r[\"metrics\"][\"conv2d_fwd_kernel\"][\"launch__grid_size\"] == {\"prompt\": 63500, \"before\": None, \"after\": None, \"threshold\": None, \"met\": None} and \"CUPTI\" in $r[\"metrics_note\"]"
check "the record has the candidate's form and the parsed prompt" "$tmp/one.out" \
  'd["result"]["candidate"]["form"] == "prompt_response" and d["result"]["candidate"]["language"] == "triton" and d["result"]["prompt"]["stage"]["autotune_max_configs"] == 3 and d["result"]["prompt"]["target_gpu"] == "4090"'
check "eval argv: --language triton, --autotune-max 3, --seal, no --lint, a pre-started worker" "$tmp/one.out" \
  '"--language triton" in d["result"]["argv"] and "--lint" not in d["result"]["argv"] and "--autotune-max 3" in d["result"]["argv"] and "--seal" in d["result"]["argv"] and d["result"]["argv"].startswith("eval ") and "--job-stdin" in d["result"]["argv"]'
get "$b" base.out
check "the baseline is an evaluation of its own: the current code, claimed first" "$tmp/base.out" \
  "d[\"status\"] == \"done\" and d[\"language\"] == \"triton\" and d[\"priority\"] == $(field one.out 'd["priority"]') + 1 and d[\"baseline_id\"] is None and d[\"result\"][\"candidate\"][\"language_from\"] == \"prompt\" and d[\"result\"][\"candidate\"][\"extraction\"][\"from\"] == \"prompt.current_code\" and d[\"result\"][\"prompt\"] is None and d[\"options\"] == json.loads($(field one.out 'json.dumps(json.dumps(d["options"]))'))"
check "the baseline's eval has no --autotune-max (the prompt's rule is for the answer)" "$tmp/base.out" \
  '"--autotune-max" not in d["result"]["argv"] and "--language triton" in d["result"]["argv"]'
[ "$(field base.out 'd["source_sha256"]')" = "$(field one.out 'd["result"]["prompt"]["current_code"]["sha256"]')" ] &&
  ok "the baseline ran the prompt's current code" || bad "the baseline's source is not the prompt's current code"

post two.json two.out
check "the same code in other prose with another seed: evaluated, with a baseline of that seed" "$tmp/two.out" \
  "d[\"status\"] == \"done\" and d[\"cached\"] is False and d[\"baseline_id\"] not in (None, \"$b\") and d[\"result\"][\"baseline\"][\"speedup\"][\"decision\"] == \"faster\""
post one.json again.out
check "the same request again: answered from the cache, the baseline the same" "$tmp/again.out" \
  "d[\"cached\"] is True and d[\"baseline_id\"] == \"$b\" and d[\"result\"][\"baseline\"][\"id\"] == \"$b\""
post lint.json lint.out
check "options.lint: --lint in the eval argv, a baseline of its own (the options differ)" "$tmp/lint.out" \
  "d[\"status\"] == \"done\" and \"--lint reference-op=warn\" in d[\"result\"][\"argv\"] and d[\"baseline_id\"] != \"$b\""

post slow.json slow.out
check "a baseline still running when the candidate finishes: its status, speedup null" "$tmp/slow.out" \
  'd["status"] == "done" and d["result"]["baseline"]["status"] in ("queued", "compiling", "waiting_gpu", "running") and d["result"]["baseline"]["speedup"] is None and d["result"]["baseline"]["median_ms"] is None'
sb=$(field slow.out 'd["baseline_id"]')
sleep 4
get "$sb" slowbase.out
check "that baseline finishes on its own" "$tmp/slowbase.out" 'd["status"] == "done" and d["verdict"] == "ok"'

curl -s "$base/v1/batches" -H 'Content-Type: application/x-ndjson' --data-binary @"$tmp/batch.jsonl" >"$tmp/batch.out"
bt=$(field batch.out 'd["id"]')
for _ in $(seq 100); do
  curl -s "$base/v1/batches/$bt/results?follow=0" >"$tmp/rows.jsonl"
  [ "$(wc -l <"$tmp/rows.jsonl")" -ge 3 ] && break
  sleep 0.2
done
python3 - "$tmp/rows.jsonl" "$b" <<'P' && ok "a batch of three: one baseline made for all, compared in each record" || bad "batch baselines"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = {r["result"]["baseline"]["id"] for r in rows}
assert len(rows) == 3 and all(r["verdict"] == "ok" for r in rows), rows
assert len(ids) == 1 and sys.argv[2] not in ids, ids
assert all(r["result"]["baseline"]["speedup"]["decision"] == "faster" for r in rows)
P

post check.json check.out
check "check mode: no baseline; compile argv: --language triton, --lint, --autotune-max 3, no --seal" "$tmp/check.out" \
  'd["status"] == "done" and d["baseline_id"] is None and "baseline" not in d["result"] and d["result"]["argv"].startswith("compile --language triton") and "--lint reference-op=off" in d["result"]["argv"] and "--autotune-max 3" in d["result"]["argv"] and "--seal" not in d["result"]["argv"]'

post nocode.json nocode.out
check "no code in the response: no_code in full mode too, with the message, no baseline" "$tmp/nocode.out" \
  'd["status"] == "done" and d["verdict"] == "no_code" and d["language"] == "none" and d["baseline_id"] is None and d["result"]["error"]["stage"] == "ingest" and "argv" not in d["result"]'

kill -0 $pid 2>/dev/null || bad "the daemon is gone"
# a clean shutdown: exit 0, and under the sanitizers no report
kill -TERM $pid
wait $pid
rc=$?
pid=
[ $rc = 0 ] && ! grep -qE "Sanitizer|runtime error:" "$tmp/log" && ok "a clean shutdown" ||
  bad "the shutdown (exit $rc) or a sanitizer report"
[ $fail = 0 ] || { echo "daemon log:"; grep -v "^  " "$tmp/log" | tail -40; }
exit $fail
