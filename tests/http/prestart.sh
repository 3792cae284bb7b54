#!/usr/bin/env bash
# prestart.sh KGRADED: the pre-started Triton worker of a GPU lane, on a host without a GPU. A
# stand-in worker claims one GPU, passes its canary and answers compile and eval; pre-started
# (eval --job-stdin) it reads its job's line and source from stdin and records the job, how long it
# waited, and its own command line. Checked:
#   - /v1/health shows the lane's waiting worker; a Triton job is handed to it (its arguments as
#     the job line, the source after it), even after it waited longer than --job-timeout (the
#     deadline counts from the hand-over); a CUDA job runs cold and leaves it waiting;
#   - a Triton job past --job-timeout gets timeout about --job-timeout after its hand-over, and the
#     next one is handed to a fresh pre-started worker;
#   - one that dies while waiting is logged, the next Triton job starts cold and is ok, and after
#     that job the lane pre-starts again; a cancelled job's worker is killed and the next is ok;
#   - a queue (a batch) runs cold after the first job: the lane pre-starts only when it finds
#     nothing to claim;
#   - at shutdown no worker is left; --prestart-idle replaces an idle one; --prestart off starts
#     every worker cold.
# Needs bash, curl and python3.
set -u
kgraded=$1
for c in curl python3; do command -v $c >/dev/null || { echo "$c is missing"; exit 1; }; done
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null && wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
chmod 755 "$tmp" "$tmp/bin"
cat >"$tmp/bin/worker" <<'W'
#!/usr/bin/env bash
# a stand-in kgrade-worker: info, canary, compile, eval, eval --job-stdin
case "$1" in
  info) echo '{"devices":[{"ordinal":0,"arch":90,"name":"stand-in 0"}]}'; exit 0 ;;
  canary) echo '{"healthy":true}'; exit 0 ;;
esac
job=null waited=0
case " $* " in
  *" --job-stdin "*)
    if [ -e /kgrade/cache/die-while-waiting ]; then echo "stand-in: dying while waiting" >&2; sleep 0.5; exit 9; fi
    t0=$(date +%s%N)
    IFS= read -r job
    waited=$(( ($(date +%s%N) - t0) / 1000000 )) ;;
esac
src=$(cat)
[ "$1" = eval ] && case "$src" in *slow-job*) sleep 8 ;; *hang-job*) sleep 307 ;; *batch-job*) sleep 1 ;; esac
printf '{"schema":"kgrade.result/1","verdict":"ok","argv":"%s","job":%s,"waited_ms":%s}' "$*" "$job" $waited >&3
exit 0
W
chmod +x "$tmp/bin/worker"

fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
# check NAME FILE PYTHON-EXPRESSION: the expression over the JSON d of FILE must be true
check() {
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3" 2>/dev/null
  then ok "$1"; else bad "$1: $3"; head -c 1500 "$2"; echo; fi
}
start() {  # start a daemon with extra settings
  port=$(( 20000 + RANDOM % 20000 ))
  base=http://127.0.0.1:$port
  "$kgraded" --listen 127.0.0.1:$port --data "$tmp/var" --gpus 0 --worker "$tmp/bin/worker" \
    --sandbox-ro "$tmp/bin" --cpu-lanes 1 "$@" 2>"$tmp/log" &
  pid=$!
  for _ in $(seq 100); do curl -sf $base/v1/health >/dev/null && break; sleep 0.1; done
}
stop() {  # SIGTERM: exit 0, no worker of ours left, and under the sanitizers no report
  kill -TERM $pid
  wait $pid
  local rc=$?
  pid=
  for _ in $(seq 30); do ps -e -o args= | grep -q "^bash $tmp/bin/worker" || break; sleep 0.1; done
  [ $rc = 0 ] && ! ps -e -o args= | grep -q "^bash $tmp/bin/worker" && ! grep -qE "Sanitizer|runtime error:" "$tmp/log" &&
    ok "$1: a clean shutdown, no worker left" ||
    bad "$1: the shutdown (exit $rc), a worker left or a sanitizer report: $(ps -e -o args= | grep "^bash $tmp/bin/worker")"
}
health() { curl -s $base/v1/health >"$tmp/$1"; }
wait_warm() {  # [MAX-AGE]: until the lane has a waiting worker, no older than MAX-AGE s if given (or 10 s)
  for _ in $(seq 100); do
    health h.json
    python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["gpus"][0]["prestart"]; sys.exit(0 if p["waiting"] and p["age_s"] <= float(sys.argv[2]) else 1)' \
      "$tmp/h.json" "${1:-1e9}" && return 0
    sleep 0.1
  done
  return 1
}
TRITON='import torch\nimport triton\nclass ModelNew(torch.nn.Module):\n    pass\n'
post() {  # LANGUAGE MARKER OUT [QUERY]: a full-mode job; the answer in $tmp/OUT
  local src
  if [ "$1" = triton ]; then src="$TRITON# $2 $RANDOM$RANDOM"; else src="__global__ void k(float *y) { y[0] = 0; } // $2 $RANDOM$RANDOM"; fi
  curl -s "$base/v1/evaluations${4:-?wait=30}" -H 'Content-Type: application/json' \
    -d "{\"problem\":\"small-3x3\",\"candidate\":{\"source\":\"$src\",\"language\":\"$1\"},\"options\":{\"mode\":\"full\"}}" >"$tmp/$3"
}

# ---- prestart on (the default) -------------------------------------------------------------------
start --job-timeout 3
wait_warm && ok "the lane pre-starts a worker after its canary" || bad "no pre-started worker: $(cat "$tmp/h.json")"
check "health: prestart enabled, waiting, its age" "$tmp/h.json" \
  'd["gpus"][0]["prestart"]["enabled"] is True and d["gpus"][0]["prestart"]["waiting"] is True and d["gpus"][0]["prestart"]["age_s"] >= 0'
sleep 3.5   # longer than --job-timeout: the sandbox's clock covers the wait, the job's starts at the hand-over
post triton first one.json
check "a Triton job goes to the pre-started worker: its arguments on the job line, the source after it" "$tmp/one.json" \
  'd["verdict"] == "ok" and "--job-stdin" in d["result"]["argv"] and "--seal" in d["result"]["argv"] and d["result"]["job"][d["result"]["job"].index("--problem") + 1] == "small-3x3" and d["result"]["job"][-2:] == ["--source", "-"] and "--language" in d["result"]["job"]'
check "it waited longer than --job-timeout and was not killed" "$tmp/one.json" 'd["result"]["waited_ms"] > 3000'
wait_warm && ok "a fresh one is pre-started after the job" || bad "no worker pre-started after the job"
sleep 1
health before.json
post cuda plain cuda.json
health after.json
check "a CUDA job runs cold" "$tmp/cuda.json" 'd["verdict"] == "ok" and "--job-stdin" not in d["result"]["argv"] and d["result"]["job"] is None'
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["gpus"][0]["prestart"]; b=json.load(open(sys.argv[2]))["gpus"][0]["prestart"]; sys.exit(0 if b["waiting"] and b["age_s"] >= a["age_s"] else 1)' \
  "$tmp/before.json" "$tmp/after.json" && ok "... and the pre-started worker keeps waiting (the same one)" ||
  bad "the pre-started worker changed during a CUDA job: $(cat "$tmp/before.json" "$tmp/after.json")"

t0=$(date +%s%N)
post triton slow-job slow.json
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a Triton job past --job-timeout: timeout" "$tmp/slow.json" 'd["verdict"] == "timeout"'
[ $dt -ge 2500 ] && [ $dt -lt 7000 ] && ok "... about --job-timeout after its hand-over ($dt ms)" || bad "the slow job took $dt ms"
wait_warm
post triton after-timeout next.json
check "the next Triton job: ok, handed to a fresh pre-started worker" "$tmp/next.json" \
  'd["verdict"] == "ok" and "--job-stdin" in d["result"]["argv"]'

wait_warm
touch "$tmp/var/cache/shared/die-while-waiting"
post triton consumes die1.json      # the waiting worker started before the marker: it runs this job
check "a job for the worker that waited before the marker: ok" "$tmp/die1.json" 'd["verdict"] == "ok"'
sleep 2.5                           # the next one sees the marker and dies while waiting
health dead.json
check "a worker that died while waiting: none waiting" "$tmp/dead.json" 'd["gpus"][0]["prestart"]["waiting"] is False'
grep -q "died while waiting" "$tmp/log" && ok "... and the log says so" || bad "no log line for the dead worker"
rm -f "$tmp/var/cache/shared/die-while-waiting"
post triton cold cold.json
check "the next Triton job starts cold and is ok" "$tmp/cold.json" \
  'd["verdict"] == "ok" and "--job-stdin" not in d["result"]["argv"] and "--problem small-3x3" in d["result"]["argv"]'
wait_warm && ok "after that job the lane pre-starts again" || bad "no worker pre-started after the cold job"

wait_warm
python3 - "$tmp/batch.jsonl" <<'P'
import json, random, sys
src = "import torch\nimport triton\nclass ModelNew(torch.nn.Module):\n    pass\n# batch-job %d %d\n"
with open(sys.argv[1], "w") as f:
    for i in range(3):
        f.write(json.dumps({"problem": "small-3x3", "candidate": {"source": src % (i, random.getrandbits(40)),
                            "language": "triton"}, "options": {"mode": "full"}}) + "\n")
P
curl -s "$base/v1/batches" -H 'Content-Type: application/x-ndjson' --data-binary @"$tmp/batch.jsonl" >"$tmp/batch.out"
bt=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$tmp/batch.out")
for _ in $(seq 100); do
  curl -s "$base/v1/batches/$bt/results?follow=0" >"$tmp/rows.jsonl"
  [ "$(wc -l <"$tmp/rows.jsonl")" -ge 3 ] && break
  sleep 0.2
done
python3 - "$tmp/rows.jsonl" <<'P' && ok "a batch: its first job to the waiting worker, the queued ones cold" || bad "the batch's workers"
import json, sys
rows = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["index"])
assert len(rows) == 3 and all(r["verdict"] == "ok" for r in rows), rows
warm = ["--job-stdin" in r["result"]["argv"] for r in rows]
assert warm == [True, False, False], warm
P
wait_warm && ok "... and once the queue is empty the lane pre-starts again" || bad "no worker pre-started after the batch"

post triton hang-job hang.json ""
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$tmp/hang.json")
for _ in $(seq 100); do
  curl -s "$base/v1/evaluations/$id" | grep -q '"status":"running"' && break
  sleep 0.1
done
curl -s -X DELETE "$base/v1/evaluations/$id" >/dev/null
post triton after-cancel cancel.json
check "a cancelled job's worker is killed; the next Triton job is ok and pre-started" "$tmp/cancel.json" \
  'd["verdict"] == "ok" and "--job-stdin" in d["result"]["argv"]'
for _ in $(seq 30); do ps -e -o args= | grep -q "^sleep 307$" || break; sleep 0.1; done
ps -e -o args= | grep -q "^sleep 307$" && bad "the cancelled job's worker survived" || ok "... and nothing of it is left"
stop "prestart on"

# ---- an idle worker is replaced ------------------------------------------------------------------
start --prestart-idle 2
wait_warm
sleep 5.5
n=$(grep -c "idle for 2 s: replaced" "$tmp/log")
[ "$n" -ge 2 ] && ok "--prestart-idle 2: the waiting worker is replaced ($n times in 5.5 s)" ||
  bad "--prestart-idle 2: replaced $n times"
# a fresh one, so that the job's compile step (slow on a loaded host) ends well inside the limit: a
# worker past it when its job arrives is stopped and the job starts cold, by design
wait_warm 0.3
post triton after-idle idle.json
check "... and a Triton job still goes to a pre-started one" "$tmp/idle.json" \
  'd["verdict"] == "ok" and "--job-stdin" in d["result"]["argv"]'
stop "prestart-idle"

# ---- off --------------------------------------------------------------------------------------
start --prestart off
sleep 1
health off.json
check "--prestart off: health says so, nothing waits" "$tmp/off.json" \
  'd["gpus"][0]["prestart"] == {"enabled": False, "waiting": False}'
post triton off off-job.json
check "... and a Triton job starts cold" "$tmp/off-job.json" \
  'd["verdict"] == "ok" and "--job-stdin" not in d["result"]["argv"] and "--problem small-3x3" in d["result"]["argv"]'
stop "prestart off"

[ $fail = 0 ] || { echo "daemon log (last run):"; grep -v "^  " "$tmp/log" | tail -40; }
exit $fail
