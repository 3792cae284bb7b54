#!/usr/bin/env bash
# corpus WORKER DIR: every candidate of the corpus evaluated on the GPU gets the verdict its header
# states ("// expect: V", "// deterministic: false" where the determinism check must say so), and
# after every fault (runtime_error, timeout) the next evaluation, in a fresh worker, of a correct
# candidate is correct. Exit 77 without a GPU.
set -u
worker=$1 dir=$2
"$worker" info >/dev/null 2>&1 || { echo "no GPU: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAILED: $1"; fail=$((fail+1)); }
field() { sed -n "s#^// $1: *##p" "$2" | head -1; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print('' if v is None else v)" "$@"; }
opts="--budget-ms 300 --launch-timeout-ms 3000 --compact"
: >"${OUT:-$tmp}/corpus.jsonl"

for f in "$dir"/*.cu; do
  name=$(basename "$f")
  expect=$(field expect "$f") problem=$(field problem "$f") det=$(field deterministic "$f")
  start=$(date +%s%N)
  "$worker" eval --problem "$problem" --source "$f" $opts >"$tmp/r.json" 2>"$tmp/r.err"; rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  got=$(json "$tmp/r.json" 'd["verdict"]' 2>/dev/null)
  msg=$(json "$tmp/r.json" '(d.get("error") or {}).get("message")' 2>/dev/null)
  printf '%-24s %-16s %6d ms  %s\n' "$name" "${got:-?}" "$ms" "${msg:0:150}"
  [ $rc -eq 0 ] && ok || bad "$name: exit $rc $(tail -2 "$tmp/r.err")"
  [ "$got" = "$expect" ] && ok || bad "$name: verdict '$got', expected '$expect'"
  if [ -n "$det" ]; then
    d=$(json "$tmp/r.json" 'str(d["correctness"].get("deterministic")).lower()')
    [ "$d" = "$det" ] && ok || bad "$name: deterministic $d, expected $det"
  fi
  case "$got" in runtime_error|timeout)
    "$worker" eval --problem small-3x3 --source "$dir/ok_naive.cu" $opts >"$tmp/n.json" 2>&1
    [ "$(json "$tmp/n.json" 'd["verdict"]' 2>/dev/null)" = ok ] && ok || bad "after $name the next evaluation failed: $(head -c 300 "$tmp/n.json")"
  esac
  cat "$tmp/r.json" >>"${OUT:-$tmp}/corpus.jsonl"
done
echo "corpus: $pass passed, $fail failed"
[ $fail -eq 0 ]
