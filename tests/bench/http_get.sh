#!/usr/bin/env bash
# http_get.sh [BUILD_DIR] — GET /v1/evaluations/{id} throughput of kgraded against nginx serving the
# same JSON as a static file, in the same run: wrk, 64 connections, 10 s each, while a batch of
# check-mode jobs is queued and being worked on (--cpu-lanes 1). Both HTTP modes of kgraded
# (--http threads and --http epoll) are measured. Needs wrk and nginx; no GPU.
# Prints a table; DURATION=10s CONNECTIONS=64 BATCH=2000 can be changed from the environment.
set -euo pipefail
build=${1:-build}
dur=${DURATION:-10s} conns=${CONNECTIONS:-64} batch=${BATCH:-2000}
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx"; exit 77; }
tmp=$(mktemp -d)
chmod 755 "$tmp"   # nginx workers run as an unprivileged user
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
src=$(sed 's/\\/\\\\/g; s/"/\\"/g' tests/candidates/ok_naive.cu | awk '{printf "%s\\n", $0}')

wait_up() { for _ in $(seq 100); do curl -sf "$1/v1/health" >/dev/null && return 0; sleep 0.1; done; return 1; }

# nginx on the same JSON, as a static file
ng_port=$(port)
mkdir -p "$tmp/www"
cat >"$tmp/nginx.conf" <<EOF
worker_processes auto;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  types { application/json json; }
  server { listen 127.0.0.1:$ng_port; root $tmp/www; }
}
EOF

run_wrk() {  # URL -> "rps p99_ms"
  wrk -t2 -c"$conns" -d"$dur" --latency "$1" >"$tmp/wrk.txt" 2>&1
  local rps p99 errs
  rps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/wrk.txt")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$tmp/wrk.txt")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' "$tmp/wrk.txt" | tr '\n' ' ')
  echo "$rps $p99 ${errs:-}"
}

printf '%-34s %12s %10s  %s\n' "server" "requests/s" "p99 ms" "errors"
for mode in threads epoll; do
  kp=$(port)
  base=http://127.0.0.1:$kp
  build/bin/kgraded --listen 127.0.0.1:$kp --data "$tmp/var-$mode" --gpus none --cpu-lanes 1 \
    --http $mode --http-pool 2 --log-level warn 2>"$tmp/kgraded-$mode.log" &
  pids+=($!)
  wait_up "$base" || { echo "kgraded ($mode) did not start"; cat "$tmp/kgraded-$mode.log"; exit 1; }
  id=$(curl -sf "$base/v1/evaluations?wait=60" -H 'Content-Type: application/json' \
        -d "{\"problem\":\"small-3x3\",\"candidate\":{\"source\":\"$src\"},\"options\":{\"mode\":\"check\"}}" |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf "$base/v1/evaluations/$id" >"$tmp/www/ev.json"
  # the batch: distinct sources, so each is compiled
  python3 - "$batch" "$src" >"$tmp/batch.jsonl" <<'PY'
import json, sys
n, src = int(sys.argv[1]), sys.argv[2].encode().decode("unicode_escape")
for i in range(n):
    print(json.dumps({"problem": "small-3x3", "candidate": {"source": src + f"// item {i}\n"}, "options": {"mode": "check"}}))
PY
  curl -sf "$base/v1/batches" -H 'Content-Type: application/x-ndjson' --data-binary @"$tmp/batch.jsonl" >/dev/null
  if [ $mode = threads ]; then
    nginx -c "$tmp/nginx.conf" -p "$tmp"
    curl -sf "http://127.0.0.1:$ng_port/ev.json" | cmp -s - "$tmp/www/ev.json" || { echo "nginx serves something else"; exit 1; }
    read -r rps p99 errs < <(run_wrk "http://127.0.0.1:$ng_port/ev.json")
    printf '%-34s %12s %10s  %s\n' "nginx $(nginx -v 2>&1 | sed 's/.*\///') static file" "$rps" "$p99" "$errs"
    ng_rps=$rps
  fi
  read -r rps p99 errs < <(run_wrk "$base/v1/evaluations/$id")
  printf '%-34s %12s %10s  %s\n' "kgraded --http $mode" "$rps" "$p99" "$errs"
  queued=$(curl -sf "$base/v1/health" | python3 -c 'import json,sys; q=json.load(sys.stdin)["queue"]; print(q["queued"]+q["compiling"])')
  echo "    (batch jobs still unfinished after the run: $queued; ratio to nginx $(python3 -c "print(f'{$rps/$ng_rps:.2f}')"))"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done
[ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")"
echo "host: $(nproc) cores, $(uname -r); wrk -t2 -c$conns -d$dur"
