#!/usr/bin/env bash
# check_latency.sh [BUILD_DIR] — the latency an agent sees for the check of a Triton answer:
# POST /v1/evaluations?wait=60 with options.mode "check" and the seed-002 prompt and a Triton
# response (tests/http/ingest), one request at a time, each with another seed so that none is
# answered from the cache: the whole path (request parsing and extraction, the store, a CPU lane,
# a sandbox, the worker's lint and syntax check in python3, the record). Goal: p50 <= 50 ms.
# Prints p50, p90, min and max of the round trip, and the medians of the sandbox's wall time and
# setup time as the results report them. N=40 requests; WARMUP=3 more first, not counted. No GPU.
set -euo pipefail
build=${1:-build}
n=${N:-40} warmup=${WARMUP:-3}
for c in curl python3; do command -v $c >/dev/null || { echo "needs $c"; exit 77; }; done
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$build/bin/kgraded" --listen 127.0.0.1:$port --data "$tmp/var" --gpus none --cpu-lanes 2 \
  --log-level warn 2>"$tmp/kgraded.log" &
pid=$!
for _ in $(seq 100); do curl -sf "$base/v1/health" >/dev/null && break; sleep 0.1; done
curl -sf "$base/v1/health" >/dev/null || { echo "kgraded did not start"; cat "$tmp/kgraded.log"; exit 1; }

python3 - tests/http/ingest "$tmp" $((n + warmup)) <<'PY'
import json, sys
d, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
prompt, resp = open(d + "/prompt_002.txt").read(), open(d + "/response_002.md").read()
for i in range(count):
    req = {"problem": "seed-002", "candidate": {"prompt": prompt, "response": resp},
           "options": {"mode": "check", "seed": 1000 + i}}
    json.dump(req, open("%s/req%d.json" % (out, i), "w"))
PY

: >"$tmp/times"
for i in $(seq 0 $((n + warmup - 1))); do
  t=$(curl -s -o "$tmp/res.json" -w '%{time_total}' "$base/v1/evaluations?wait=60" \
        -H 'Content-Type: application/json' --data-binary @"$tmp/req$i.json")
  python3 - "$tmp/res.json" "$t" "$i" "$warmup" >>"$tmp/times" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("verdict") != "ok":
    sys.stderr.write("verdict %s: %s\n" % (r.get("verdict"), json.dumps(r.get("result", r))[:600]))
    sys.exit(1)
iso = r["result"].get("isolation", {})
if int(sys.argv[3]) >= int(sys.argv[4]):
    print(float(sys.argv[2]) * 1000, iso.get("wall_ms", -1), iso.get("setup_ms", -1))
PY
done
python3 - "$tmp/times" "$n" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
rt = sorted(r[0] for r in rows)
q = lambda p: rt[min(len(rt) - 1, int(round(p * (len(rt) - 1))))]
print("POST /v1/evaluations?wait, mode check, Triton answer to seed 002 (%d requests, one at a time)" % len(rt))
print("  round trip  p50 %.1f ms  p90 %.1f ms  min %.1f ms  max %.1f ms" % (q(0.5), q(0.9), rt[0], rt[-1]))
print("  sandbox     wall %.1f ms  setup %.1f ms (medians, from the results)" %
      (statistics.median(r[1] for r in rows), statistics.median(r[2] for r in rows)))
print("  goal p50 <= 50 ms: %s" % ("met" if q(0.5) <= 50 else "NOT met"))
PY
echo "host: $(nproc) cores, $(uname -r); python3 $(python3 -c 'import sys; print(sys.version.split()[0])')"
