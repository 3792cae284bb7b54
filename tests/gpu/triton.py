#!/usr/bin/env python3
"""triton.py [--worker BIN] [--api KGRADED] [--seeds] [--bench] — Triton candidates on the GPU.

--worker BIN   every row of tests/gpu/triton/cases.tsv through `kgrade-worker eval --response`
--api KGRADED  the same rows through a real kgraded (POST /v1/evaluations?wait, the response form;
               every worker in its sandbox)
--seeds        (with --api) both seeds' prompts with their own [CURRENT CODE] as the response, on
               their problems (seed-002 = kb1-56, seed-003 = kb1-55): verdict ok, and the median
               within 5 % of triton.testing.do_bench's median for the same model in this run
--bench        (with --api) end-to-end latency of one Triton evaluation with a cold Triton cache
               (small-3x3 and kb1-56, each submitted as soon as the previous one is done; and
               small-3x3 after a pause, once the GPU lane's pre-started worker has waited 4 s, as
               an agent's next answer would arrive), and of check mode; without the metrics stage
               (options.metrics []), as these numbers were first taken
--bench-quick  (with --bench) small-3x3 back to back only, n = 3
--no-prestart  the daemon runs with --prestart off (every worker starts when its job is claimed)

Each row prints ok/FAIL with its verdict; a table of numbers comes last. Results go to $OUT.
Exit 77 without a GPU, 1 on any failure."""
import json, os, re, socket, statistics, subprocess, sys, tempfile, time, urllib.error, urllib.request

here = os.path.dirname(os.path.abspath(__file__))
cases_dir = os.path.join(here, "triton")
root = os.path.dirname(os.path.dirname(here))
out = os.environ.get("OUT") or tempfile.mkdtemp()
args = sys.argv[1:]
fails, table = [], []


def opt(name):
    return args[args.index(name) + 1] if name in args else None


def rows():
    for line in open(os.path.join(cases_dir, "cases.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        name, problem, options, verdict, check = line.rstrip("\n").split("\t")
        yield name, problem, json.loads(options), verdict, check


def judge(how, name, problem, options, want, check, r, secs):
    got = r.get("verdict") if isinstance(r, dict) else None
    ok = got == want
    extra = ""
    if ok:
        try:
            ok = bool(eval(check, {"json": json}, {"r": r}))
        except Exception as ex:
            ok, extra = False, f"check raised {type(ex).__name__}: {ex}"
    tag = f"{how} {name} {problem} {json.dumps(options) if options else ''}".strip()
    msg = (r.get("error") or {}).get("message", "") if isinstance(r, dict) else str(r)
    if ok:
        print(f"ok   {tag} -> {got} ({secs:.1f} s)")
    else:
        tb = ((r.get("error") or {}).get("traceback", "") + r.get("worker_stderr", "")) if isinstance(r, dict) else ""
        print(f"FAIL {tag} -> {got}, expected {want} ({check}) {extra} :: {msg[:400]} {tb[-700:]}")
        fails.append(tag)
    return ok


# ---- through the worker -------------------------------------------------------------------------
def via_worker(bin_):
    for name, problem, options, want, check in rows():
        cmd = [bin_, "eval", "--problem", problem, "--response", os.path.join(cases_dir, name + ".md"),
               "--budget-ms", "500", "--compact", "--launch-timeout-ms", "8000"]
        if "precision" in options:
            cmd += ["--precision", options["precision"]]
        if "lint" in options:
            cmd += ["--lint", ",".join(f"{k}={v}" for k, v in options["lint"].items())]
        t = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        try:
            r = json.loads(p.stdout)
        except ValueError:
            r = {"verdict": None, "error": {"message": f"exit {p.returncode}: {p.stdout[-300:]} {p.stderr[-600:]}"}}
        if p.stderr and isinstance(r, dict):
            r["worker_stderr"] = p.stderr[-1500:]
        with open(os.path.join(out, "triton_worker.jsonl"), "a") as f:
            f.write(json.dumps({"case": name, "problem": problem, "options": options, "result": r}) + "\n")
        judge("worker", name, problem, options, want, check, r, time.time() - t)


# ---- through kgraded ----------------------------------------------------------------------------
class Daemon:
    def __init__(self, kgraded):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.base = f"http://127.0.0.1:{self.port}"
        data = tempfile.mkdtemp(prefix="kgraded-triton-")
        log = open(os.path.join(out, "kgraded_triton.log"), "w")
        # python's own tree and its packages, where the sandbox's /usr and /opt do not show them
        import sysconfig
        dirs = {sys.prefix, sysconfig.get_paths()["purelib"]}
        ro = ",".join(d for d in sorted(dirs) if not d.startswith(("/usr", "/opt")))
        cmd = [kgraded, "--listen", f"127.0.0.1:{self.port}", "--data", data, "--log-format", "json",
               "--python", sys.executable]
        if "--no-prestart" in args:
            cmd += ["--prestart", "off"]
        if ro:
            cmd += ["--sandbox-ro", ro]
        self.proc = subprocess.Popen(cmd, stderr=log, stdout=log)
        for _ in range(300):
            try:
                st, h = self.call("GET", "/v1/health", timeout=5)
                if st == 200:
                    break
            except Exception:
                pass
            time.sleep(0.1)
        else:
            print("kgraded did not start")
            sys.exit(1)
        if not h.get("gpus"):
            print("no GPU:", h.get("gpu_error"))
            self.proc.terminate()
            sys.exit(77)
        print(f"kgraded up: {h['gpus'][0]['name']}, isolation {h.get('isolation', {}).get('level')}")

    def call(self, method, path, body=None, timeout=600):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def evaluate(self, problem, candidate, options):
        t = time.time()
        st, ev = self.call("POST", "/v1/evaluations?wait=120",
                           {"problem": problem, "candidate": candidate, "options": options, "force": True})
        while st in (200, 202) and isinstance(ev, dict) and ev.get("status") not in ("done", "cancelled") \
                and time.time() - t < 900:
            time.sleep(1)
            st, ev = self.call("GET", f"/v1/evaluations/{ev['id']}")
        r = ev.get("result") if isinstance(ev, dict) else None
        if st not in (200, 202) or r is None:
            r = {"verdict": None, "error": {"message": f"HTTP {st}: {json.dumps(ev)[:400]}"}}
        return r, time.time() - t

    def wait_warm(self, age_s):
        """Until GPU 0's pre-started worker has waited age_s (a pause of age_s without one)."""
        t = time.time()
        while time.time() - t < 60:
            st, h = self.call("GET", "/v1/health", timeout=5)
            p = ((h or {}).get("gpus") or [{}])[0].get("prestart") or {}
            if not p.get("enabled"):
                time.sleep(age_s)
                return
            if p.get("waiting") and p.get("age_s", 0) >= age_s:
                return
            time.sleep(0.1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def via_api(d):
    for name, problem, options, want, check in rows():
        text = open(os.path.join(cases_dir, name + ".md")).read()
        r, secs = d.evaluate(problem, {"response": text}, dict(options, timing_budget_ms=500))
        with open(os.path.join(out, "triton_api.jsonl"), "a") as f:
            f.write(json.dumps({"case": name, "problem": problem, "options": options, "result": r}) + "\n")
        judge("api", name, problem, options, want, check, r, secs)


DO_BENCH = r'''
import importlib.util, json, sys, torch, triton
spec = importlib.util.spec_from_file_location("cand", sys.argv[1]); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
s = json.loads(sys.argv[2])
arg = lambda p: p[0] if p[0] == p[1] else tuple(p)   # as the harness: an int when square
model = m.ModelNew(s["c_in"], s["c_out"], arg(s["kernel"]), stride=arg(s["stride"]),
                   padding=arg(s["padding"]), dilation=arg(s["dilation"]), groups=s["groups"],
                   bias=s["bias"]).cuda()
x = torch.randn(s["n"], s["c_in"], s["h"], s["w"], device="cuda")
with torch.no_grad():
    model(x); torch.cuda.synchronize()
    print(json.dumps({"median_ms": triton.testing.do_bench(lambda: model(x), return_mode="median")}))
'''


def seeds(d, worker):
    for seed, problem in (("002_ac8b582351f2d0eb", "kb1-56"), ("003_846a2cc822aab960", "kb1-55")):
        prompt = open(os.path.join(root, "tests", "data", "seeds", seed + ".txt")).read()
        code = re.search(r"\[CURRENT CODE\]\n```python\n(.*?)```", prompt, re.S).group(1)
        response = "Keeping the current kernel:\n\n```python\n" + code + "```\n"
        r, secs = d.evaluate(problem, {"prompt": prompt, "response": response}, {"timing_budget_ms": 3000})
        with open(os.path.join(out, "triton_seeds.jsonl"), "a") as f:
            f.write(json.dumps({"seed": seed, "problem": problem, "result": r}) + "\n")
        if not judge("seed", seed, problem, {}, "ok", "r['prompt']['target_gpu'] == '4090'", r, secs):
            continue
        b = r.get("baseline") or {}
        t0 = time.time()   # the baseline job must be done before do_bench shares the GPU
        while b.get("id") and time.time() - t0 < 600:
            st, bj = d.call("GET", f"/v1/evaluations/{b['id']}")
            if bj.get("status") in ("done", "cancelled"):
                break
            time.sleep(1)
        print(f"     baseline (the prompt's current code): {json.dumps(b)[:300]}")
        ours = r["timing"]["candidate"]["median"]
        path = os.path.join(out, f"seed_{seed}.py")
        open(path, "w").write(code)
        spec = json.loads(subprocess.run([worker, "problems", problem], capture_output=True, text=True).stdout)
        p = subprocess.run([sys.executable, "-c", DO_BENCH, path, json.dumps(spec["spec"])],
                           capture_output=True, text=True, timeout=600)
        try:
            theirs = json.loads(p.stdout.strip().splitlines()[-1])["median_ms"]
        except (ValueError, IndexError):
            print(f"FAIL do_bench for {seed}: {p.stderr[-500:]}")
            fails.append("do_bench " + seed)
            continue
        dev = ours / theirs - 1
        ok = abs(dev) <= 0.05
        print(f"{'ok  ' if ok else 'FAIL'} seed {seed} on {problem}: kgrade median {ours:.3f} ms, do_bench "
              f"median {theirs:.3f} ms ({100 * dev:+.1f} %)")
        if not ok:
            fails.append("timing " + seed)
        table.append((f"{seed[:3]} current code on {problem}: kgrade / do_bench median",
                      f"{ours:.3f} / {theirs:.3f} ms ({100 * dev:+.1f} %)", "within 5 %"))


def pct(v, q):
    """The q-quantile of v by nearest rank."""
    v = sorted(v)
    return v[max(0, min(len(v) - 1, -(-int(q * 100) * len(v) // 100) - 1))]


def bench(d):
    code = open(os.path.join(cases_dir, "ok_tf32.md")).read()
    opts = {"metrics": []}   # no metrics stage: as the first numbers were taken
    runs = [("small-3x3", 3, "back to back")] if "--bench-quick" in args else \
        [("small-3x3", 7, "back to back"), ("small-3x3", 7, "after a 4 s pause"), ("kb1-56", 3, "back to back")]
    tag = "prestart off" if "--no-prestart" in args else "prestart on"
    for problem, n, how in runs:
        secs, stages = [], []
        for i in range(n):
            if "pause" in how:
                d.wait_warm(4)
            fresh = code.replace("```python\n", f"```python\n# run {time.time_ns()}\n", 1)   # a new source: no cache
            r, s = d.evaluate(problem, {"response": fresh}, opts)
            if r.get("verdict") is None and "HTTP 400" in (r.get("error") or {}).get("message", "") and opts:
                opts = {}   # a daemon without options.metrics
                r, s = d.evaluate(problem, {"response": fresh}, opts)
            with open(os.path.join(out, "triton_bench.jsonl"), "a") as f:
                f.write(json.dumps({"problem": problem, "how": how, "daemon": tag, "secs": s, "result": r}) + "\n")
            if r.get("verdict") != "ok":
                print(f"FAIL bench {problem}: {r.get('verdict')} {(r.get('error') or {}).get('message', '')[:300]}")
                fails.append("bench " + problem)
                break
            secs.append(s)
            st = dict(r.get("stages_ms", {}))
            st["ready_ms"] = (r.get("harness") or {}).get("ready_ms")
            stages.append(st)
            print(f"     bench {problem} {how} run {i + 1}: {s:.2f} s, stages "
                  f"{json.dumps({k: round(v) for k, v in st.items() if isinstance(v, (int, float))})}")
        if secs:
            table.append((f"Triton eval, cold cache, {problem}, {how}, {tag} (n={len(secs)})",
                          f"p50 {statistics.median(secs):.2f} s, p90 {pct(secs, 0.9):.2f} s "
                          f"({min(secs):.2f}-{max(secs):.2f})", "p50 <= 2.5 s" if problem == "small-3x3" else "-"))
            keys = [k for k in stages[0] if all(isinstance(x.get(k), (int, float)) for x in stages)]
            table.append(("     stages_ms p50", " ".join(f"{k} {statistics.median(x[k] for x in stages):.0f}"
                                                      for k in keys), ""))
    if "--bench-quick" in args:
        return
    lat = []
    for i in range(30):
        fresh = code.replace("```python\n", f"```python\n# check {time.time_ns()}\n", 1)
        t = time.time()
        st, ev = d.call("POST", "/v1/evaluations?wait=30",
                        {"problem": "small-3x3", "candidate": {"response": fresh}, "options": {"mode": "check"}})
        lat.append((time.time() - t) * 1e3)
        if (ev or {}).get("result", {}).get("verdict") != "ok":
            print("FAIL check mode:", json.dumps(ev)[:400])
            fails.append("check mode")
            break
    if lat:
        lat.sort()
        table.append(("check mode, Triton response (n=%d)" % len(lat),
                      f"p50 {statistics.median(lat):.0f} ms, p90 {lat[int(0.9 * (len(lat) - 1))]:.0f} ms", "p50 <= 50 ms"))


if opt("--worker"):
    via_worker(opt("--worker"))
if opt("--api"):
    dmn = Daemon(opt("--api"))
    try:
        if "--no-rows" not in args:
            via_api(dmn)
        if "--seeds" in args:
            seeds(dmn, opt("--worker") or os.path.join(os.path.dirname(opt("--api")), "kgrade-worker"))
        if "--bench" in args:
            bench(dmn)
    finally:
        dmn.stop()
print()
for row in table:
    print(f"{row[0]:<62} {row[1]:<44} {row[2]}")
print(f"{len(fails)} failure(s)" + (": " + ", ".join(fails) if fails else ""))
json.dump({"table": table, "fails": fails}, open(os.path.join(out, "triton_summary.json"), "w"), indent=1)
sys.exit(1 if fails else 0)
