#!/usr/bin/env bash
# corpus_compile WORKER DIR: every candidate of the corpus through the GPU-less compile check.
# Each file's header says "// expect: V" and "// problem: P"; "// compile-only: V2" overrides V
# where only a GPU can see the fault; every GPU-only verdict (ok, wrong_answer, runtime_error,
# timeout) compiles cleanly here. "// error-line: L" must be the line the record names.
# Also: eval without a GPU answers no_device at once with exit 77 (skipped on a GPU host), and
# kernel-name resolution (templates, ambiguity), the KernelBench view of a compile error, and
# --lint refusing a rule id the static checker does not have.
set -u
worker=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAILED: $1"; fail=$((fail+1)); }
field() { sed -n "s#^// $1: *##p" "$2" | head -1; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print('' if v is None else v)" "$@"; }

for f in "$dir"/*.cu; do
  name=$(basename "$f")
  expect=$(field expect "$f") problem=$(field problem "$f") only=$(field compile-only "$f") line=$(field error-line "$f")
  case "$expect" in compile_error|directive_error) want=${only:-$expect} ;; *) want=ok ;; esac
  "$worker" --no-cache compile --arch sm_89 --problem "$problem" "$f" >"$tmp/r.json" 2>"$tmp/r.err"; rc=$?
  [ $rc -eq 0 ] || { bad "$name: exit $rc: $(head -3 "$tmp/r.err")"; continue; }
  got=$(json "$tmp/r.json" 'd["verdict"]')
  [ "$got" = "$want" ] && ok || bad "$name: verdict $got, expected $want: $(json "$tmp/r.json" '(d.get("error") or {}).get("message")')"
  if [ "$got" = directive_error ] && [ "$want" = directive_error ]; then
    msg=$(json "$tmp/r.json" 'd["error"]["message"]')
    eline=$(json "$tmp/r.json" 'd["error"].get("line", 0)')
    dline=$(grep -n '^// *@kgrade' "$f" | head -1 | cut -d: -f1)
    # the named line is a directive line, and the message starts with it (except "no launch")
    if [ "$eline" != 0 ]; then
      sed -n "${eline}p" "$f" | grep -q '@kgrade' && ok || bad "$name: error line $eline is not a directive"
      case "$msg" in "line $eline: "*) ok ;; *) bad "$name: message does not name line $eline: $msg" ;; esac
    else
      [ -z "$dline" ] && ok || bad "$name: directive error without a line"
    fi
  fi
  if [ -n "$line" ]; then
    got_line=$(json "$tmp/r.json" '(d.get("error") or {}).get("line")')
    [ "$got_line" = "$line" ] && ok || bad "$name: error line $got_line, expected $line"
    grep -q "candidate.cu($line): error" <(json "$tmp/r.json" 'd["compile"]["log"]') && ok \
      || bad "$name: log does not cite candidate.cu($line)"
  fi
done

# without a problem the directives are only syntax-checked: a grid that divides by zero for one
# problem compiles
"$worker" --no-cache compile --arch sm_90 "$dir/dir_div_zero.cu" >"$tmp/np.json" 2>/dev/null
[ "$(json "$tmp/np.json" 'd["verdict"]')" = ok ] && ok || bad "compile without a problem: $(cat "$tmp/np.json" | head -c 300)"
# a candidate option reaches NVRTC and the record
printf '// @kgrade launch k grid(1) block(1) args(y)\n// @kgrade option -DTILE=16\nextern "C" __global__ void k(float *y) { y[0] = TILE; }\n' >"$tmp/opt.cu"
"$worker" --no-cache compile --arch sm_90 --problem small-3x3 "$tmp/opt.cu" >"$tmp/opt.json"
[ "$(json "$tmp/opt.json" '"-DTILE=16" in d["compile"]["options"] and d["verdict"]')" = ok ] && ok || bad "option -DTILE=16"
# kernel names: a template instance by its mangled symbol, the only instance of a template by
# name, and two instances by name (ambiguous: a directive error naming both symbols)
cat >"$tmp/tk.cu" <<'CU'
// @kgrade launch _Z2tkILi16EEvPf grid(1) block(1) args(y)
// @kgrade launch one grid(1) block(1) args(y)
template <int B> __global__ void tk(float *y) { y[0] = B; }
template __global__ void tk<16>(float *);
template __global__ void tk<32>(float *);
template <int B> __global__ void one(float *y) { y[0] = B; }
template __global__ void one<8>(float *);
CU
"$worker" --no-cache compile --arch sm_90 --problem small-3x3 "$tmp/tk.cu" >"$tmp/tk.json"
[ "$(json "$tmp/tk.json" 'd["verdict"]')" = ok ] && ok || bad "template kernels: $(head -c 300 "$tmp/tk.json")"
sed -i 's/^\/\/ @kgrade launch _Z2tkILi16EEvPf/\/\/ @kgrade launch tk/' "$tmp/tk.cu"
"$worker" --no-cache compile --arch sm_90 --problem small-3x3 "$tmp/tk.cu" >"$tmp/tk.json"
[ "$(json "$tmp/tk.json" 'd["verdict"] == "directive_error" and d["error"]["line"] == 1 and "_Z2tkILi32EEvPf" in d["error"]["message"]')" = True ] \
  && ok || bad "ambiguous template kernel: $(head -c 300 "$tmp/tk.json")"
# a compile error without a source line (no such include) still says what NVRTC said
printf '#include "no_such_header.h"\n// @kgrade launch k grid(1) block(1) args(y)\nextern "C" __global__ void k(float *y) {}\n' >"$tmp/inc.cu"
"$worker" --no-cache compile --arch sm_90 --problem small-3x3 "$tmp/inc.cu" >"$tmp/inc.json"
[ "$(json "$tmp/inc.json" 'd["verdict"] == "compile_error" and "no_such_header" in d["error"]["message"]')" = True ] \
  && ok || bad "include error message: $(json "$tmp/inc.json" 'd.get("error")')"
# the KernelBench view of a compile error
"$worker" --no-cache compile --arch sm_89 --problem small-3x3 --format kernelbench "$dir/compile_error.cu" >"$tmp/kb.json"
[ "$(json "$tmp/kb.json" 'd["compiled"] is False and d["correctness"] is False and d["runtime"] == -1 and "wgt" in d["metadata"]["compilation_error"]')" = True ] \
  && ok || bad "kernelbench view: $(cat "$tmp/kb.json" | head -c 400)"
# a source over the size limit is refused before anything runs
head -c 300000 /dev/zero | tr '\0' ' ' >"$tmp/big.cu"
"$worker" compile "$tmp/big.cu" >/dev/null 2>"$tmp/big.err"; rc=$?
[ $rc -eq 1 ] && grep -q "larger than" "$tmp/big.err" && ok || bad "oversized source: rc $rc $(cat "$tmp/big.err")"
# --lint names rules of the static checker: an id it does not have is a usage error naming it
printf 'import torch\n' >"$tmp/t.py"
"$worker" eval --language triton --problem small-3x3 --lint patch=off,no-such-rule=warn --source "$tmp/t.py" \
  >/dev/null 2>"$tmp/lint.err"; rc=$?
[ $rc -eq 2 ] && grep -q "no rule 'no-such-rule'" "$tmp/lint.err" && ok || bad "--lint with an unknown rule: rc $rc $(cat "$tmp/lint.err")"

# eval without a GPU: verdict no_device at once, exit 77 (only checkable where there is no GPU)
if ! "$worker" info >/dev/null 2>&1; then
  start=$(date +%s%N)
  "$worker" eval --problem small-3x3 --source "$dir/ok_naive.cu" >"$tmp/nd.json" 2>/dev/null; rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ $rc -eq 77 ] && ok || bad "eval without GPU: exit $rc, expected 77"
  [ "$(json "$tmp/nd.json" 'd["verdict"]')" = no_device ] && ok || bad "eval without GPU: $(head -c 300 "$tmp/nd.json")"
  [ $ms -lt 2000 ] && ok || bad "eval without GPU took $ms ms"
else
  echo "note: a GPU is present; the no_device check is skipped"
fi
echo "corpus_compile: $pass passed, $fail failed"
[ $fail -eq 0 ]
