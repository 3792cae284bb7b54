#!/usr/bin/env bash
# sandbox.sh KGRADED KEEPER WORKER: the threat table on a GPU host, with real candidates.
#   1. Through kgraded (real worker, real sandboxes): a CUDA C candidate that #includes the daemon's
#      database and a host file, a kernel that never ends, one that faults; each gets its verdict,
#      the canary runs and passes after each fault, and an honest candidate is then ok.
#   2. Triton programs run by python3 in a sandbox like a candidate's (--profile python, the GPU,
#      the daemon's control-group parent): socket, the daemon's database, fork bomb, all host
#      memory, all GPU memory, a kernel that never ends, kill the parent; then the canary passes and
#      the daemon still evaluates an honest candidate correctly.
# Exit 77 without a GPU. One ok/FAIL line per row; needs python3 and curl.
set -u
kgraded=$1 keeper=$2 worker=$3
here=$(cd "$(dirname "$0")" && pwd)
cands=$here/../candidates
"$worker" canary >/dev/null 2>&1; [ $? = 77 ] && { echo "no GPU"; exit 77; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(( 20000 + RANDOM % 20000 ))
"$kgraded" --listen 127.0.0.1:$port --data "$tmp/var" --worker "$worker" --sandbox "$keeper" --job-timeout 30 \
  2>"$tmp/log" &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 300); do curl -sf $base/v1/health >/dev/null 2>&1 && break; sleep 0.1; done
fail=0
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
health() { curl -s $base/v1/health; }
for _ in $(seq 100); do health | grep -q '"canary":"at start' && break; sleep 0.2; done
echo "isolation: $(health | j 'd["isolation"]["level"]'), gpu: $(health | j 'd["gpus"][0]["canary"]')"

submit() {  # FILE -> evaluation JSON
  python3 - "$1" "$base" <<'PY'
import json, sys, urllib.request
import random
src = open(sys.argv[1]).read() + f"\n// run {random.getrandbits(48)}\n"   # a new source: no cached result
body = json.dumps({"problem": "small-3x3", "candidate": {"source": src}}).encode()
req = urllib.request.Request(sys.argv[2] + "/v1/evaluations?wait=120", body, {"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=180).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode())
PY
}
check() {  # NAME FILE VERDICT [PYTHON-CONDITION on d]
  local t0=$(date +%s%N) got v cond=${4:-True}
  got=$(submit "$2")
  v=$(printf '%s' "$got" | j 'd.get("verdict")')
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [ "$v" = "$3" ] && printf '%s' "$got" | j "$cond" | grep -q True; then
    echo "ok   daemon $1 -> $v (${ms} ms, isolation $(printf '%s' "$got" | j 'd["result"]["isolation"]["level"]'))"
  else
    echo "FAIL daemon $1 -> $v, expected $3 with $cond: $(printf '%s' "$got" | head -c 600)"; fail=1
  fi
  kill -0 $pid || { echo "FAIL the daemon died"; exit 1; }
}
canary_after() {  # VERDICT
  local c
  for _ in $(seq 100); do c=$(health | j 'd["gpus"][0]["canary"]'); case "$c" in "after $1"*) break;; esac; sleep 0.2; done
  case "$c" in "after $1 passed"*) echo "ok   canary after $1: $c";; *) echo "FAIL canary after $1: $c"; fail=1;; esac
}

cat >"$tmp/include_host.cu" <<CU
// @kgrade launch conv grid(1) block(1) args(y)
#include "$tmp/var/kgrade.db"
#include "/etc/hostname"
__global__ void conv(float *y) { y[0] = 0; }
CU
check include_host "$tmp/include_host.cu" compile_error \
  '"cannot open source file" in d["result"]["compile"]["log"] and "SQLite" not in json.dumps(d)'
check infinite_loop "$cands/infinite_loop.cu" timeout
canary_after timeout
check oob_write "$cands/oob_write.cu" runtime_error
canary_after runtime_error
check honest "$cands/ok_naive.cu" ok 'd["result"]["isolation"]["sandboxed"]'

# 2. Triton programs in a candidate's sandbox
cg=$(health | j 'd["isolation"].get("cgroup","none")')
py=$(command -v python3)
# python's own tree and its packages, where they are not already under the sandbox's /usr or /opt
extra=()
for d in $(python3 -c 'import sys, site, torch, triton, os
print(" ".join({os.path.dirname(os.path.dirname(m.__file__)) for m in (torch, triton)} | {sys.prefix}))'); do
  case "$d" in /usr|/usr/*|/opt/*) ;; *) extra+=(--ro "$d");; esac
done
run() {  # SCRIPT EXPECTED-STATUS PATTERN [ARGS...]
  local s=$1 want=$2 pat=$3; shift 3
  local t0=$(date +%s%N)
  "$keeper" run --slot 90 --cgroup "$cg" --gpu 0 --profile python --wall-ms 60000 --memory 6G --pids 128 \
    --ro "$here/sandbox" "${extra[@]}" --meta-fd 4 -- "$py" "$here/sandbox/$s" "$@" \
    >"$tmp/$s.out" 2>"$tmp/$s.err" 4>"$tmp/$s.meta" </dev/null
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local st=$(j 'd["status"]' <"$tmp/$s.meta" 2>/dev/null)
  local text="$(cat "$tmp/$s.meta") $(tail -c 300 "$tmp/$s.out")"
  if [ "$st" = "$want" ] && printf '%s' "$text" | grep -Eq -- "$pat" && ! grep -q escaped "$tmp/$s.out"; then
    echo "ok   triton $s -> $st (${ms} ms) $(tail -1 "$tmp/$s.out" | head -c 100)"
  else
    echo "FAIL triton $s -> '$st', expected $want /$pat/: $text $(tail -5 "$tmp/$s.err")"; fail=1
  fi
}
run ok.py exited '"exit_code":0'
run socket_open.py violation 'socket\(AF_INET\)'
run read_db.py exited '"exit_code":0' "$tmp/var/kgrade.db" "$tmp/var/cache/shared"
run fork_bomb.py exited 'fork stopped after'
run host_memory.py memory_limit 'oom_kills'
run gpu_memory.py exited 'gpu out of memory'
run spin.py timeout 'timeout'
run kill_parent.py exited '"exit_code":0' "$pid"
kill -0 $pid || { echo "FAIL the daemon died"; exit 1; }
if "$keeper" run --slot 91 --cgroup "$cg" --gpu 0 --meta-fd 4 -- "$worker" canary --device 0 4>/dev/null | grep -q '"healthy":true'; then
  echo "ok   canary after the Triton rows"
else echo "FAIL canary after the Triton rows"; fail=1; fi
check "honest after Triton" "$cands/ok_naive.cu" ok
# what a sandbox costs: the keeper around /bin/true (set-up and tear-down of everything a GPU step
# gets: namespaces, root, cgroup, GPU nodes, seccomp), against /bin/true alone
cost() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
ts = []
for _ in range(40):
    t = time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter() - t) * 1e3)
ts.sort(); print(f"p50 {ts[len(ts)//2]:.1f} ms, p90 {ts[int(len(ts)*0.9)]:.1f} ms")
PY
}
echo "cost: /bin/true alone: $(cost /bin/true)"
echo "cost: in a GPU sandbox: $(cost "$keeper" run --slot 92 --cgroup "$cg" --gpu 0 --meta-fd 2 -- /bin/true)"
[ $fail = 0 ] || { echo "daemon log:"; tail -30 "$tmp/log"; }
exit $fail
