#!/usr/bin/env bash
# worker_faults.sh KGRADED WORKER: the daemon turns a worker's death into the job's verdict and stays
# up. A wrapper stands in front of the real kgrade-worker and, for sources carrying a marker, dies
# the way a broken worker would: killed by SIGSEGV (runtime_error), hanging past --job-timeout
# (timeout: the whole sandbox is killed, its child too), exiting 2 without a record (internal_error). Each
# is followed by a normal job, which must be ok. Needs bash and curl.
set -u
kgraded=$1 worker=$2
command -v curl >/dev/null || { echo "curl is missing"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
chmod 755 "$tmp" "$tmp/bin"
cat >"$tmp/bin/worker" <<W
#!/usr/bin/env bash
[ "\$1" = compile ] || exec "$worker" "\$@"
src=\$(cat)
case "\$src" in
  *FAULT_SEGV*) kill -SEGV \$\$ ;;
  *FAULT_HANG*) sleep 3017 & sleep 3017 ;;
  *FAULT_NORECORD*) echo "not a record"; exit 2 ;;
esac
printf '%s' "\$src" | exec "$worker" "\$@"
W
chmod +x "$tmp/bin/worker"
port=$(( 20000 + RANDOM % 20000 ))
# the wrapper and the real worker must be visible inside the sandboxes
"$kgraded" --listen 127.0.0.1:$port --data "$tmp/var" --gpus none --worker "$tmp/bin/worker" \
  --sandbox-ro "$tmp/bin,$(dirname "$worker")" --compile-timeout 2 --cpu-lanes 1 2>"$tmp/log" &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf $base/v1/health >/dev/null && break; sleep 0.1; done
fail=0
submit() {  # MARKER -> prints the verdict after waiting
  curl -s "$base/v1/evaluations?wait=30" -H 'Content-Type: application/json' \
    -d "{\"problem\":\"small-3x3\",\"candidate\":{\"source\":\"// @kgrade launch k grid(1) block(1) args(y)\\n__global__ void k(float *y) { y[0] = 0; } // $1 $RANDOM\"},\"options\":{\"mode\":\"check\"}}" |
    sed -n 's/.*"verdict":"\([a-z_]*\)".*/\1/p' | head -1
}
check() {  # MARKER EXPECTED
  local t0=$(date +%s) got ok
  got=$(submit "$1")
  [ "$got" = "$2" ] && echo "ok   $1 -> $got ($(( $(date +%s) - t0 )) s)" || { echo "FAIL $1 -> '$got', expected $2"; fail=1; }
  ok=$(submit normal)
  [ "$ok" = ok ] && echo "ok   next job -> ok" || { echo "FAIL next job after $1 -> '$ok'"; fail=1; }
  kill -0 $pid 2>/dev/null || { echo "FAIL daemon gone after $1"; fail=1; }
}
check FAULT_SEGV runtime_error
check FAULT_HANG timeout
check FAULT_NORECORD internal_error
# the hung worker's child went with it: the whole sandbox (or process group) is killed
for _ in $(seq 20); do ps -e -o args= | grep -q '^sleep 3017$' || break; sleep 0.1; done
ps -e -o args= | grep -q '^sleep 3017$' && { echo "FAIL the hung worker's child survived"; fail=1; }
[ $fail = 0 ] || { echo "daemon log:"; grep -v "^  " "$tmp/log" | head -40; }
exit $fail
