#!/usr/bin/env bash
# daemon_threats.sh KGRADED KEEPER PAYLOAD: the threat table through the whole daemon. A real
# kgraded on loopback runs PAYLOAD (tests/sandbox/payload.c, which acts as a worker) inside real
# sandboxes made by KEEPER; each source carries a THREAT:<name> marker, and each row must end in its
# exact verdict, with the attack's own report showing it was stopped, the daemon still serving and
# the next honest job ok. Skipped (77) where the host's isolation is below the daemon's minimum.
# Needs bash, curl, ps.
set -u
kgraded=$1 keeper=$2 payload=$3
command -v curl >/dev/null || { echo "curl is missing"; exit 1; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(( 20000 + RANDOM % 20000 ))
"$kgraded" --listen 127.0.0.1:$port --data "$tmp/var" --gpus none --worker "$payload" --sandbox "$keeper" \
  --cpu-lanes 1 --compile-timeout 3 --sandbox-memory 128M --sandbox-pids 64 --sandbox-scratch 16M \
  2>"$tmp/log" &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf $base/v1/health >"$tmp/health" 2>/dev/null && break; sleep 0.1; done
if ! grep -q '"accepting":true' "$tmp/health"; then
  echo "skipped: the daemon refuses candidate code here: $(sed -n 's/.*"refusal":"\([^"]*\)".*/\1/p' "$tmp/health")"
  exit 77
fi
level=$(sed -n 's/.*"isolation":{"level":"\([a-z]*\)".*/\1/p' "$tmp/health")
has_memcg=0; grep -q '"features":\[[^]]*"memory"' "$tmp/health" && has_memcg=1
echo "isolation level: $level (memory cgroup: $has_memcg)"

# another job's files and the daemon's own, by host path: none may be readable inside
mkdir -p "$tmp/var/cache/candidates/aa/other"
echo "SECRET-OF-ANOTHER-JOB" >"$tmp/var/cache/candidates/aa/other/source.cu"
secrets="$tmp/var/kgrade.db:$tmp/var/cache/candidates/aa/other/source.cu:$tmp/var"

fail=0
submit() {  # MARKER -> the evaluation's JSON after waiting
  curl -s "$base/v1/evaluations?wait=60" -H 'Content-Type: application/json' \
    -d "{\"problem\":\"small-3x3\",\"candidate\":{\"source\":\"// THREAT:$1 $RANDOM\"},\"options\":{\"mode\":\"check\"}}"
}
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -1; }
row() {  # THREAT[:ARG] VERDICT MESSAGE-REGEX
  local t0 got verdict msg ok
  t0=$(date +%s%N)
  got=$(submit "$1")
  verdict=$(printf '%s' "$got" | field verdict)
  msg=$(printf '%s' "$got" | field message)
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [ "$verdict" != "$2" ]; then
    echo "FAIL ${1%%:*}: verdict '$verdict', expected $2 ($msg)"; fail=1
  elif [ -n "$3" ] && ! printf "%s" "$msg" | grep -Eq -- "$3"; then
    echo "FAIL ${1%%:*}: message does not match /$3/: $msg"; fail=1
  elif printf '%s' "$got" | grep -q '"escaped"\|SECRET-OF-ANOTHER-JOB'; then
    echo "FAIL ${1%%:*}: the attack got through: $got"; fail=1
  else
    echo "ok   ${1%%:*} -> $verdict (${ms} ms) ${msg:0:110}"
  fi
  printf '%s\n' "$got" >>"$tmp/results"
  ok=$(submit none | field verdict)
  [ "$ok" = ok ] || { echo "FAIL the honest job after ${1%%:*} -> '$ok'"; fail=1; }
  kill -0 $pid 2>/dev/null || { echo "FAIL the daemon is gone after ${1%%:*}"; fail=1; exit 1; }
}

row net_inet sandbox_violation 'socket\(AF_INET\)'
row net_inet6 sandbox_violation 'socket\(AF_INET6\)'
row net_sigsys sandbox_violation 'socket\(AF_INET\)'
row net_unix_host runtime_error 'connect'
row write_outside runtime_error 'EROFS|EACCES|ENOENT'
row "read_files:$secrets" runtime_error 'ENOENT|EACCES'
row fork_bomb runtime_error 'fork'
if [ $has_memcg = 1 ]; then row memory_hog memory_limit 'memory limit'
else row memory_hog runtime_error '.'; fi
row disk_fill runtime_error 'ENOSPC|EFBIG'
row output_flood ok ''
row "signal_parent:$pid" runtime_error 'ESRCH|EPERM'
row wall_clock timeout 'deadline'
row cpu_spin timeout 'deadline'
row setuid runtime_error 'EPERM|EINVAL'
row unshare_ns sandbox_violation 'unshare|clone'
row ptrace_any sandbox_violation 'ptrace'
row mount_tmpfs sandbox_violation 'mount'

# the flood's output was counted and cut, not kept
grep -q '"stdout_truncated":true' "$tmp/results" || { echo "FAIL output_flood: stdout not reported truncated"; fail=1; }
# every result names its isolation
n=$(grep -c '"isolation":{"level":"'"$level"'","sandboxed":true' "$tmp/results")
[ "$n" -ge 17 ] || { echo "FAIL only $n of 17 results carry the isolation level"; fail=1; }
# nothing of any sandbox is left: no process of the sandbox uid, no job cgroup
sleep 0.3
left=$(ps -e -o uid=,pid=,comm= | awk '$1 == 100000' | head -5)
[ -z "$left" ] || { echo "FAIL processes of the sandbox uid remain: $left"; fail=1; }
kill -0 $pid 2>/dev/null && curl -sf $base/v1/health >/dev/null || { echo "FAIL the daemon stopped serving"; fail=1; }
[ $fail = 0 ] || { echo "daemon log:"; grep -v "^  " "$tmp/log" | tail -40; }
exit $fail
