#!/usr/bin/env bash
# threats.sh KEEPER PAYLOAD: the threat table (threats.tsv) at the keeper's level. `KEEPER probe`
# prepares the jobs' control-group parent and says the isolation level (none: skipped, exit 77);
# then each row runs `KEEPER run ... -- PAYLOAD <threat> <arg>` in a fresh sandbox and its meta line
# (status, exit code or violation) and the payload's report are checked, one ok/FAIL line per row
# with its time. The host side is checked after every row (a victim process alive, a host directory
# untouched) and at the end (no process of the sandbox's uid left, no slot-N group left). Last, the
# keeper's own cost: 50 runs of /bin/true, p50 and p90 in ms. Needs bash 5, ps, awk, sed.
set -u
keeper=$1 payload=$2
table=$(cd "$(dirname "$0")" && pwd)/threats.tsv
uid=$(( 120000 + $$ % 10000 ))          # a uid of this run's own: concurrent runs do not mix
[ "$(id -u)" = 0 ] || uid=$(id -u)
probe=$("$keeper" probe --cgroup auto --uid $uid) || { echo "FAIL probe exited $?: $probe"; exit 1; }
echo "probe: $probe"
jstr() {  # KEY JSON -> the string value (escapes kept)
  printf '%s' "$2" | sed -n "s/.*\"$1\":\"\(\([^\"\\\\]\|\\\\.\)*\)\".*/\1/p" | head -1
}
jnum() { printf '%s' "$2" | sed -n "s/.*\"$1\":\(-\?[0-9.]*\).*/\1/p" | head -1; }
level=$(jstr level "$probe")
cg=$(jstr cgroup "$probe")
if [ "$level" = none ] || [ -z "$level" ]; then
  echo "skipped: isolation level '${level}' here: $(printf '%s' "$probe" | sed -n 's/.*"missing":\[\([^]]*\)\].*/\1/p')"
  exit 77
fi
memcg=0; printf '%s' "$probe" | grep -q '"features":\[[^]]*"memory"' && memcg=1
echo "level $level, cgroup $cg, memory cgroup $memcg, sandbox uid $uid"

tmp=$(mktemp -d)
chmod 755 "$tmp"
sleep 600 & victim=$!
"$payload" serve_unix "$tmp/host.sock" "kgrade-test-$$" & server=$!
trap 'kill $victim $server 2>/dev/null; wait $victim $server 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -m 777 "$tmp/host-dir" "$tmp/other-job" "$tmp/var"
echo "SECRET-OF-ANOTHER-JOB" >"$tmp/other-job/source.cu"
echo "SECRET-DATABASE" >"$tmp/var/kgrade.db"
for _ in $(seq 50); do [ -S "$tmp/host.sock" ] && break; sleep 0.02; done
chmod 777 "$tmp/host.sock" 2>/dev/null

subst() {
  local s=${1//@TMP@/$tmp}
  s=${s//@VICTIM@/$victim}
  s=${s//@SOCK@/$tmp/host.sock}
  printf '%s' "${s//@ABSTRACT@/@kgrade-test-$$}"
}
ms_since() { echo $(( (${EPOCHREALTIME/./} - ${1/./}) / 1000 )); }
slot0=$(( 3000 + $$ % 1000 )) slot=$slot0
run() {  # run PROGRAM [ARG...] in a sandbox: record on fd 3 -> $tmp/record, meta on fd 4 -> $tmp/meta,
         # stdout's byte count -> $tmp/out.n, stderr's tail -> $tmp/err; both through pipes, as the
         # daemon reads them (RLIMIT_FSIZE would cut a program writing to a file)
  { { "$keeper" run --cgroup "$cg" --uid $uid --slot $slot --wall-ms 3000 --memory 134217728 --pids 64 \
      --scratch 16777216 --fsize 8388608 --meta-fd 4 --pass-fd 3 -- "$@" 3>"$tmp/record" 4>"$tmp/meta" </dev/null
      echo $? >"$tmp/rc"; } | wc -c >"$tmp/out.n"; } 2>&1 | tail -c 2000 >"$tmp/err"
  return "$(cat "$tmp/rc")"
}

fail=0 rows=0
while IFS=$'\t' read -r threat arg when status detail match nomatch; do
  [ -z "$threat" ] || [ "${threat:0:1}" = "#" ] && continue
  case $when in
    memcg) [ $memcg = 1 ] || continue ;;
    no-memcg) [ $memcg = 0 ] || continue ;;
  esac
  rows=$((rows + 1)) slot=$((slot + 1))
  args=("$threat"); [ "$arg" = - ] || args+=("$(subst "$arg")")
  t0=$EPOCHREALTIME
  run "$payload" "${args[@]}"
  krc=$? ms=$(ms_since $t0)
  meta=$(cat "$tmp/meta") record=$(cat "$tmp/record")
  got=$(jstr status "$meta") code=$(jnum exit_code "$meta") viol=$(jstr violation "$meta")
  report=$(jstr message "$record"); [ -n "$report" ] || report=$(jstr report "$record")
  why=""
  if [ $krc != 0 ]; then why="the keeper exited $krc"
  elif [ "$got" != "$status" ]; then why="status '$got', expected $status"
  elif [ "$status" = exited ] && [ "$code" != "$detail" ]; then why="exit code $code, expected $detail"
  elif [ "$status" = violation ] && [ "$viol" != "$detail" ]; then why="violation '$viol', expected $detail"
  elif [ "$status" = memory_limit ] && ! [ "$(jnum oom_kills "$meta")" -gt 0 ] 2>/dev/null; then
    why="memory_limit without an OOM kill counted"
  elif printf '%s' "$record" | grep -q 'escaped\|SECRET'; then why="the attack got through: $record"
  fi
  if [ -z "$why" ] && [ "$match" != - ]; then
    m=$(subst "$match")
    while [ -n "$m" ]; do
      re=${m%% && *}
      printf '%s' "$report" | grep -Eq -- "$re" || { why="the report does not match /$re/"; break; }
      [ "$re" = "$m" ] && m= || m=${m#* && }
    done
  fi
  if [ -z "$why" ] && [ "$nomatch" != - ] && printf '%s' "$report" | grep -Eq -- "$(subst "$nomatch")"; then
    why="the report matches /$nomatch/"
  fi
  # the host side: the victim alive, the host directory untouched, the flood's bytes all passed on
  kill -0 $victim 2>/dev/null || why="${why:+$why; }the host victim process is gone"
  [ -z "$(ls -A "$tmp/host-dir")" ] || why="${why:+$why; }a file appeared in the host directory"
  if [ "$threat" = output_flood ] && [ "$(cat "$tmp/out.n")" != 20971520 ]; then
    why="${why:+$why; }stdout carried $(cat "$tmp/out.n") bytes, expected 20971520"
  fi
  if [ -z "$why" ]; then
    printf 'ok   %-14s %-13s %5d ms  %.110s\n' "$threat" "$got${viol:+ $viol}${code:+ $code}" "$ms" "$report"
  else
    printf 'FAIL %-14s %5d ms  %s\n     meta: %s\n     report: %.400s\n     stderr: %.300s\n' \
      "$threat" "$ms" "$why" "$meta" "$report" "$(tail -c 300 "$tmp/err")"
    fail=1
  fi
  [ "$slot" -lt $((slot0 + 900)) ] || slot=$slot0
done <"$table"

# nothing of any sandbox is left: no process of the sandbox's uid (or, not root, no payload), no slot
sleep 0.2
if [ "$(id -u)" = 0 ]; then
  left=$(ps -e -o uid=,pid=,stat=,comm= | awk -v u=$uid '$1 == u' | head -5)
else
  left=$(ps -e -o pid=,comm= | awk '$2 == "sbx-payload" && $1 != '"$server" | head -5)
fi
[ -z "$left" ] || { echo "FAIL processes of the sandbox are left: $left"; fail=1; }
case $cg in
  v2:*) dirs=("${cg#v2:}") ;;
  v1:*) m=${cg#v1:}; dirs=("${m%%:*}" "${m#*:}") ;;
  *) dirs=() ;;
esac
for d in "${dirs[@]}"; do
  for ((s = slot0; s <= slot; s++)); do
    [ -e "$d/slot-$s" ] && { echo "FAIL the job group $d/slot-$s is left"; fail=1; }
  done
done
echo "$rows rows run"

# the keeper's own cost per job: /bin/true in a full sandbox, 50 times
slot=$slot0
times=()
for _ in $(seq 50); do
  t0=$EPOCHREALTIME
  run /bin/true
  times+=($(( (${EPOCHREALTIME/./} - ${t0/./}) )))
  [ "$(jstr status "$(cat "$tmp/meta")")" = exited ] || { echo "FAIL /bin/true: $(cat "$tmp/meta") $(tail -c 300 "$tmp/err")"; fail=1; break; }
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
n=${#sorted[@]}
if [ "$n" -gt 0 ]; then
  pct() { local v=${sorted[$(( (n - 1) * $1 / 100 ))]}; printf '%d.%d' $((v / 1000)) $((v % 1000 / 100)); }
  echo "keeper overhead (/bin/true, $n runs): p50 $(pct 50) ms, p90 $(pct 90) ms, max $(pct 100) ms"
fi
exit $fail
