#!/usr/bin/env bash
# priority.sh KGRADED: an interactive evaluation does not wait behind a batch. With one CPU lane
# and a batch of 300 check-mode jobs queued first, a single evaluation (priority 5 against the
# batch's 1) must finish while almost all of the batch is still waiting. Needs bash and curl.
set -u
kgraded=$1
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(( 20000 + RANDOM % 20000 ))
"$kgraded" --listen 127.0.0.1:$port --data "$tmp/var" --gpus none --cpu-lanes 1 2>"$tmp/log" &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf $base/v1/health >/dev/null && break; sleep 0.1; done
src='// @kgrade launch k grid(1) block(1) args(y)\n__global__ void k(float *y) { y[0] = 0; }'
for i in $(seq 300); do
  printf '{"problem":"small-3x3","candidate":{"source":"%s // batch %d"},"options":{"mode":"check"}}\n' "$src" $i
done >"$tmp/batch.jsonl"
batch=$(curl -s $base/v1/batches -H 'Content-Type: application/x-ndjson' --data-binary @"$tmp/batch.jsonl" |
        sed -n 's/^{"id":"\(bt_[0-9a-f]*\)".*/\1/p')
[ -n "$batch" ] || { echo "FAIL: batch not accepted"; exit 1; }
sleep 0.3   # the lane is busy with the batch now
t0=$(date +%s%N)
verdict=$(curl -s "$base/v1/evaluations?wait=60" -H 'Content-Type: application/json' \
  -d "{\"problem\":\"small-3x3\",\"candidate\":{\"source\":\"$src // interactive\"},\"options\":{\"mode\":\"check\"}}" |
  sed -n 's/.*"verdict":"\([a-z_]*\)".*/\1/p' | head -1)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
finished=$(curl -s $base/v1/batches/$batch | sed -n 's/.*"finished":\([0-9]*\).*/\1/p')
echo "interactive evaluation: verdict $verdict in $ms ms; batch jobs finished by then: $finished of 300"
[ "$verdict" = ok ] || { echo "FAIL: verdict '$verdict'"; exit 1; }
[ "${finished:-300}" -lt 100 ] || { echo "FAIL: the interactive evaluation waited behind the batch"; exit 1; }
