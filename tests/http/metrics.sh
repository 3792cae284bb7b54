#!/usr/bin/env bash
# metrics.sh KGRADED WORKER: options.metrics through the daemon (docs/metrics.md).
#   A  a stand-in worker claims one sm_90 GPU, passes its canary and answers compile and eval with
#      records holding the argv it got; its metrics-check is the real worker's (CUPTI's host API,
#      no GPU), each call counted in a file:
#        - a known list is accepted and the eval line gets --metrics a,b; [] gets --metrics none;
#          no options.metrics gets no flag (the worker's default list);
#        - an unknown name is 422 unknown_metric naming the name, its index and the chip (GH100);
#        - the same names again (and a batch item with the unknown one) run no second check;
#        - a wrong type is 422 invalid_field naming the field, without a check.
#   B  the real worker, no GPU lane: the chip is the compile architecture's (sm_89: AD102).
#   C  a metrics-check that cannot run (no CUPTI): well-formed names are accepted, one warning.
# Without CUPTI on this host the checks that need it are skipped and the test exits 77 (SKIP)
# after the others passed. Needs bash, curl and python3.
set -u
kgraded=$1 worker=$(realpath "$2")
for c in curl python3; do command -v $c >/dev/null || { echo "$c is missing"; exit 1; }; done
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null && wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
chmod 755 "$tmp" "$tmp/bin"
cat >"$tmp/bin/worker" <<'W'
#!/usr/bin/env bash
# a stand-in kgrade-worker: one sm_90 GPU; metrics-check by the real worker (or failing: MC_FAIL)
case "$1" in
  info) echo '{"devices":[{"ordinal":0,"arch":90,"name":"stand-in 0"}]}'; exit 0 ;;
  canary) echo '{"healthy":true}'; exit 0 ;;
  metrics-check)
    echo "$*" >>"$MC_LOG"
    if [ -n "${MC_FAIL:-}" ]; then echo '{"error":"CUPTI not found (libcupti.so.13)"}'; exit 3; fi
    exec "$REAL_WORKER" "$@" ;;
esac
cat >/dev/null
printf '{"schema":"kgrade.result/1","verdict":"ok","argv":"%s"}' "$*" >&3
exit 0
W
chmod +x "$tmp/bin/worker"

fail=0 skipped=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
skip() { echo "SKIP $1 (no CUPTI)"; skipped=$((skipped + 1)); }
# check NAME FILE PYTHON-EXPRESSION: the expression over the JSON d of FILE must be true
check() {
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3" 2>/dev/null
  then ok "$1"; else bad "$1: $3"; head -c 1500 "$2"; echo; fi
}
# start NAME FLAGS...: a daemon on a free port, its log in $tmp/NAME.log
start() {
  local name=$1; shift
  port=$(( 20000 + RANDOM % 20000 ))
  "$kgraded" --listen 127.0.0.1:$port --data "$tmp/$name" --cpu-lanes 1 "$@" 2>"$tmp/$name.log" &
  pid=$!
  base=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -sf $base/v1/health >/dev/null && return 0; sleep 0.1; done
  bad "daemon $name did not start"; cat "$tmp/$name.log"; exit 1
}
stop() {
  kill -TERM $pid; wait $pid; local rc=$?; pid=
  [ $rc = 0 ] && ! grep -qE "Sanitizer|runtime error:" "$1" && ok "a clean shutdown" ||
    bad "the shutdown (exit $rc) or a sanitizer report"
}
# post FILE-OUT METRICS-JSON [MODE]: one evaluation of a fresh source with options.metrics (omitted
# when METRICS-JSON is "-"); the HTTP status in $status
n=0
post() {
  n=$((n + 1))
  local m=""
  [ "$2" != - ] && m=", \"metrics\": $2"
  status=$(curl -s -o "$tmp/$1" -w '%{http_code}' "$base/v1/evaluations?wait=20" -H 'Content-Type: application/json' \
    -d "{\"problem\": \"small-3x3\", \"candidate\": {\"source\": \"// $n $RANDOM\"}, \"options\": {\"mode\": \"${3:-full}\"$m}}")
}
runs() { [ -f "$tmp/mc.log" ] && wc -l <"$tmp/mc.log" || echo 0; }

have_cupti=0
"$worker" metrics-check --arch 89 gpu__time_duration.sum >/dev/null 2>&1 && have_cupti=1
[ $have_cupti = 1 ] || echo "no CUPTI here: '$worker metrics-check' cannot run"

# ---- A: one sm_90 GPU (stand-in), the real metrics-check -----------------------------------
export MC_LOG="$tmp/mc.log" REAL_WORKER="$worker"
start a --gpus 0 --worker "$tmp/bin/worker" --sandbox-ro "$tmp/bin"
known='["gpu__time_duration.sum", "launch__grid_size"]'
post known.out "$known"
check "a known list: accepted and run; the eval line gets --metrics a,b" "$tmp/known.out" \
  'd["status"] == "done" and d["options"]["metrics"] == ["gpu__time_duration.sum", "launch__grid_size"] and "--metrics gpu__time_duration.sum,launch__grid_size " in d["result"]["argv"] and d["result"]["argv"].startswith("eval ")'
[ "$(runs)" = 1 ] && ok "one metrics-check for the new names" || bad "metrics-check runs: $(runs), expected 1"
grep -q "metrics-check --arch 90 gpu__time_duration.sum launch__grid_size" "$tmp/mc.log" &&
  ok "metrics-check asked for sm_90, the GPU lane's architecture" || bad "metrics-check argv: $(cat "$tmp/mc.log")"
post none.out '[]'
check "[]: no metrics, --metrics none" "$tmp/none.out" \
  'd["options"]["metrics"] == [] and "--metrics none " in d["result"]["argv"]'
post default.out -
check "no options.metrics: null, no --metrics (the worker's default list)" "$tmp/default.out" \
  'd["options"]["metrics"] is None and "--metrics" not in d["result"]["argv"]'
post known2.out '["launch__grid_size", "gpu__time_duration.sum"]'
check "the same names again, another order: accepted" "$tmp/known2.out" \
  '"--metrics launch__grid_size,gpu__time_duration.sum " in d["result"]["argv"]'
if [ $have_cupti = 1 ]; then
  [ "$(runs)" = 1 ] && ok "names already known: no second metrics-check" || bad "metrics-check runs: $(runs), expected 1"
  [ "$(grep -c 'metric names checked' "$tmp/a.log")" = 1 ] && ok "one 'metric names checked' log line" ||
    bad "log lines: $(grep -c 'metric names checked' "$tmp/a.log")"
  post unknown.out '["gpu__time_duration.sum", "sm__bogus.sum", "launch__block_size"]'
  check "an unknown name: 422 unknown_metric naming it, its index and the chip" "$tmp/unknown.out" \
    'd["error"]["code"] == "unknown_metric" and d["error"]["field"] == "options.metrics[1]" and d["error"]["message"] == "options.metrics[1]: '"'"'sm__bogus.sum'"'"' is not a metric of GH100 (docs/metrics.md)"'
  [ "$status" = 422 ] && ok "status 422" || bad "status $status"
  [ "$(runs)" = 2 ] && grep -q "metrics-check --arch 90 sm__bogus.sum launch__block_size" "$tmp/mc.log" &&
    ok "the check asked only for the names not yet known" || bad "metrics-check: $(cat "$tmp/mc.log")"
  post unknown2.out '["gpu__time_duration.sum", "sm__bogus.sum", "launch__block_size"]' check
  check "the same request again (check mode too): the same 422" "$tmp/unknown2.out" \
    'd["error"]["code"] == "unknown_metric" and d["error"]["field"] == "options.metrics[1]" and "GH100" in d["error"]["message"]'
  status=$(curl -s -o "$tmp/batch.out" -w '%{http_code}' "$base/v1/batches" -H 'Content-Type: application/json' -d \
    '[{"problem": "small-3x3", "candidate": {"source": "// b0"}, "options": {"metrics": ["launch__grid_size"]}},
      {"problem": "small-3x3", "candidate": {"source": "// b1"}, "options": {"metrics": ["gpu__time_duration.sum", "sm__bogus.sum"]}}]')
  check "a batch item with the unknown name: 422 naming [1].options.metrics[1]" "$tmp/batch.out" \
    'd["error"]["code"] == "unknown_metric" and d["error"]["field"] == "[1].options.metrics[1]"'
  [ "$(runs)" = 2 ] && ok "known good and known bad names: no further metrics-check" ||
    bad "metrics-check runs: $(runs), expected 2"
  post first.out '["sm__bogus.sum", "dram__bogus.sum"]'
  check "two unknown names: the first is named" "$tmp/first.out" 'd["error"]["field"] == "options.metrics[0]"'
else
  skip "names known: cached; unknown names: 422 unknown_metric, cached"
fi
r=$(runs)
post type.out '"gpu__time_duration.sum"'
check "a wrong type: 422 invalid_field naming options.metrics" "$tmp/type.out" \
  'd["error"]["code"] == "invalid_field" and d["error"]["field"] == "options.metrics"'
post elem.out '["gpu__time_duration.sum", {"name": "x__y"}]'
check "a list item of the wrong type: 422 naming options.metrics[1]" "$tmp/elem.out" \
  'd["error"]["code"] == "invalid_field" and d["error"]["field"] == "options.metrics[1]"'
[ "$(runs)" = $r ] && ok "malformed lists run no metrics-check" || bad "metrics-check runs: $(runs), expected $r"
stop "$tmp/a.log"

# ---- B: the real worker, no GPU lane: the compile architecture's chip ------------------------
if [ $have_cupti = 1 ]; then
  start b --gpus none --worker "$worker"
  post b.out '["gpu__time_duration.sum", "lts__t_sector_hit_rate.pct", "sm__bogus.sum"]' check
  check "no GPU lane: checked for sm_89, the chip named AD102" "$tmp/b.out" \
    'd["error"]["code"] == "unknown_metric" and d["error"]["field"] == "options.metrics[2]" and "of AD102" in d["error"]["message"]'
  post b2.out '["gpu__time_duration.sum", "lts__t_sector_hit_rate.pct"]' check
  check "known names in check mode: accepted" "$tmp/b2.out" 'd["status"] in ("queued", "compiling", "done")'
  stop "$tmp/b.log"
else
  skip "no GPU lane: AD102"
fi

# ---- C: a metrics-check that cannot run ---------------------------------------------------
rm -f "$tmp/mc.log"
MC_FAIL=1 start c --gpus 0 --worker "$tmp/bin/worker" --sandbox-ro "$tmp/bin"
post c1.out '["gpu__time_duration.sum", "sm__bogus.sum"]'
check "the check cannot run: well-formed names accepted, passed on to the worker" "$tmp/c1.out" \
  'd["status"] == "done" and "--metrics gpu__time_duration.sum,sm__bogus.sum " in d["result"]["argv"]'
post c2.out '["sm__other.sum"]'
check "again: accepted" "$tmp/c2.out" 'd["status"] == "done"'
[ "$(runs)" = 2 ] && ok "a failed check is not cached: asked again" || bad "metrics-check runs: $(runs), expected 2"
[ "$(grep -c 'cannot check metric names' "$tmp/c.log")" = 1 ] && grep 'cannot check metric names' "$tmp/c.log" | grep -q 'level=warn' &&
  ok "one warning" || bad "warnings: $(grep 'cannot check metric names' "$tmp/c.log")"
stop "$tmp/c.log"

if [ $fail != 0 ]; then
  for l in a b c; do [ -f "$tmp/$l.log" ] && { echo "daemon $l log:"; tail -20 "$tmp/$l.log"; }; done
  exit 1
fi
[ $skipped = 0 ] || { echo "$skipped parts skipped: no CUPTI"; exit 77; }
exit 0
