#!/usr/bin/env python3
"""api.py KGRADED CANDIDATES [--bench] — the GPU round of kgraded through its HTTP API.

1. corpus: every candidate of tests/candidates/ is submitted with POST /v1/evaluations?wait and
   must get the verdict its header states; the daemon answers /v1/health after each one, and after
   every fault (runtime_error, timeout) a correct candidate submitted next is evaluated ok.
2. --bench: POST -> result latency with ?wait on a small problem (fresh sources, so nothing is
   answered from the cache), then a batch of 200 small candidates (evaluations per minute).

Writes api_corpus.jsonl and api_bench.json under $OUT. Exit 77 without a GPU, 1 on a failure.
Needs only the Python standard library."""
import json, os, re, socket, statistics, subprocess, sys, tempfile, time, urllib.error, urllib.request

kgraded, cand_dir = sys.argv[1], sys.argv[2]
bench = "--bench" in sys.argv
out = os.environ.get("OUT") or tempfile.mkdtemp()
fails = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


port = free_port()
base = f"http://127.0.0.1:{port}"
data = tempfile.mkdtemp(prefix="kgraded-gpu-")
log = open(os.path.join(out, "kgraded.log"), "w")
daemon = subprocess.Popen([kgraded, "--listen", f"127.0.0.1:{port}", "--data", data, "--log-format", "json"],
                          stderr=log, stdout=log)


def call(method, path, body=None, timeout=300):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def alive():
    try:
        st, h = call("GET", "/v1/health", timeout=10)
        return st == 200 and daemon.poll() is None, h
    except Exception as ex:
        return False, str(ex)


for _ in range(200):
    ok, health = alive()
    if ok:
        break
    time.sleep(0.1)
else:
    print("kgraded did not start:", health)
    sys.exit(1)
if not health.get("gpus"):
    print("no GPU:", health.get("gpu_error"))
    daemon.terminate()
    sys.exit(77)
print(f"kgraded up on {base}: {health['gpus'][0]['name']} sm_{health['gpus'][0]['arch']}")


def header(src, key):
    m = re.search(rf"^// {key}: *(.*)$", src, re.M)
    return m.group(1).strip() if m else None


def submit(problem, source, wait=120, **opts):
    t = time.time()
    st, ev = call("POST", f"/v1/evaluations?wait={wait}",
                  {"problem": problem, "candidate": {"source": source}, "options": opts, "force": True})
    return st, ev, time.time() - t


ok_src = open(os.path.join(cand_dir, "ok_naive.cu")).read()
with open(os.path.join(out, "api_corpus.jsonl"), "w") as jl:
    for name in sorted(os.listdir(cand_dir)):
        if not name.endswith(".cu"):
            continue
        src = open(os.path.join(cand_dir, name)).read()
        expect, problem = header(src, "expect"), header(src, "problem")
        st, ev, dt = submit(problem, src, timing_budget_ms=300)
        got = (ev or {}).get("verdict")
        msg = (((ev or {}).get("result") or {}).get("error") or {}).get("message", "")
        print(f"{name:24} {st} {str(got):16} {dt*1000:7.0f} ms  {msg[:120]}")
        jl.write(json.dumps(ev) + "\n")
        if st != 200 or got != expect:
            fails.append(f"{name}: HTTP {st}, verdict {got}, expected {expect}")
        up, h = alive()
        if not up:
            fails.append(f"daemon down after {name}: {h}")
            break
        if got in ("runtime_error", "timeout"):
            st2, ev2, _ = submit("small-3x3", ok_src + f"\n// after {name}\n", timing_budget_ms=300)
            if st2 != 200 or ev2.get("verdict") != "ok":
                fails.append(f"after {name} the next candidate got {st2} {ev2.get('verdict')}")

results = {}
if bench and not fails:
    # latency: sequential single submissions, each a new source (compiled afresh), default options
    lat = []
    for i in range(30):
        st, ev, dt = submit("small-3x3", ok_src + f"\n// latency probe {i} {time.time()}\n")
        if st != 200 or ev.get("verdict") != "ok":
            fails.append(f"latency probe {i}: {st} {ev.get('verdict')}")
            break
        if i >= 5:     # the first ones warm the reference's compile cache and cuDNN's choice
            lat.append(dt)
    if lat:
        lat.sort()
        results["latency_s"] = {"n": len(lat), "p50": statistics.median(lat),
                                "p90": lat[int(0.9 * (len(lat) - 1))], "min": lat[0], "max": lat[-1]}
    # throughput: one batch of 200 small candidates with default options
    reqs = [{"problem": "small-3x3", "candidate": {"source": ok_src + f"\n// batch item {i} {time.time()}\n"}}
            for i in range(200)]
    t0 = time.time()
    st, b = call("POST", "/v1/batches", reqs)
    if st != 202:
        fails.append(f"batch submit: {st} {b}")
    else:
        while True:
            st, b = call("GET", f"/v1/batches/{b['id']}")
            if b["finished"] == b["total"]:
                break
            time.sleep(0.2)
        wall = time.time() - t0
        results["batch"] = {"n": b["total"], "wall_s": wall, "per_min": 60 * b["total"] / wall,
                            "verdicts": b["verdicts"]}
        if b["verdicts"].get("ok") != 200:
            fails.append(f"batch verdicts {b['verdicts']}")
    st, h = call("GET", "/v1/health")
    results["health_after"] = h
    json.dump(results, open(os.path.join(out, "api_bench.json"), "w"), indent=1)
    if "latency_s" in results:
        l = results["latency_s"]
        print(f"latency POST?wait -> result (small-3x3, n={l['n']}): p50 {l['p50']*1000:.0f} ms, "
              f"p90 {l['p90']*1000:.0f} ms, min {l['min']*1000:.0f} ms, max {l['max']*1000:.0f} ms")
    if "batch" in results:
        r = results["batch"]
        print(f"batch of {r['n']} small candidates: {r['wall_s']:.1f} s, {r['per_min']:.0f} evaluations/min")

up, h = alive()
if not up:
    fails.append(f"daemon down at the end: {h}")
daemon.terminate()
try:
    rc = daemon.wait(timeout=30)
    if rc != 0:
        fails.append(f"kgraded exited {rc} on SIGTERM")
except subprocess.TimeoutExpired:
    daemon.kill()
    fails.append("kgraded did not stop within 30 s of SIGTERM")
for f in fails:
    print("FAILED:", f)
print(f"api: {'ok' if not fails else str(len(fails)) + ' failure(s)'}")
sys.exit(1 if fails else 0)
