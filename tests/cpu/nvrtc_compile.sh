#!/usr/bin/env bash
# nvrtc_compile WORKER: every registry problem's reference compiles for sm_89 and sm_90 without a
# GPU; a second run with the same cache directory is served from the cache.
set -u
worker=$1
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
fail=0 pass=0
ok() { echo "ok: $1"; pass=$((pass+1)); }
bad() { echo "FAILED: $1"; fail=$((fail+1)); }

"$worker" --cache "$cache" compile --reference >"$cache/first.json" 2>"$cache/first.err"; rc=$?
[ $rc -eq 0 ] && ok "compile exits 0" || bad "compile rc $rc: $(tail -5 "$cache/first.err")"
n89=$(grep -c '"arch":	89' "$cache/first.json"); n90=$(grep -c '"arch":	90' "$cache/first.json")
nprob=$("$worker" problems | grep -c '"set":')
[ "$n89" -eq $((nprob + 1)) ] && ok "sm_89: $n89 programs" || bad "sm_89: $n89 programs for $nprob problems"
[ "$n90" -eq $((nprob + 1)) ] && ok "sm_90: $n90 programs" || bad "sm_90: $n90 programs for $nprob problems"
grep -q '"cubin_bytes":	0' "$cache/first.json" && bad "an empty cubin" || ok "no empty cubin"
"$worker" --cache "$cache" compile --reference kb1-55 >"$cache/second.json" 2>&1
grep -q '"cached":	true' "$cache/second.json" && ! grep -q '"cached":	false' "$cache/second.json" \
  && ok "second run served from cache" || bad "second run not cached"
# a corrupted entry is detected and replaced, never loaded
for f in "$cache"/*.cubin; do printf 'garbage' | dd of="$f" bs=1 seek=100 conv=notrunc status=none; done
"$worker" --cache "$cache" compile --reference kb1-55 >"$cache/third.json" 2>&1
grep -q '"cached":	false' "$cache/third.json" && ok "corrupt cache entries recompiled" || bad "corrupt cache entry used"
echo "nvrtc_compile: $pass passed, $fail failed"
[ $fail -eq 0 ]
