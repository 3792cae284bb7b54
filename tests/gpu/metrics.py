#!/usr/bin/env python3
"""metrics.py --worker BIN [--ncu NCU] [--api KGRADED] [--metrics NAMES] — per-kernel metrics against
Nsight Compute (NAMES: the worker's --metrics list instead of its default list).

For each case (both seeds' [CURRENT CODE] on their problems, three CUDA C corpus kernels, a
candidate that updates its output in place, and our reference in every run):
  1. `kgrade-worker eval` with the default metrics: our record's metrics and reference_metrics;
  2. the same evaluation with `--metrics external` under
     `ncu --clock-control none --cache-control all --profile-from-start off`, which profiles the one
     forward of the candidate and of the reference that the worker runs between cuProfilerStart and
     cuProfilerStop — the same kernels, launch configuration and problem, in the same run;
  3. each metric compared: percentages within 2 points, other values within 3 % (relative).
Also: the in-place candidate's output after collection must match the reference (replay safety);
an evaluation whose counters are unavailable (the worker as an unprivileged user, or through the
sandboxed daemon when the driver restricts counters to admins; and under another profiler) must
still be ok, say why, and carry the launch__* values. A table of costs comes last (ours against one
ncu run). Writes JSON and logs to $OUT. Exit 77 without a GPU, 1 on any failure."""
import csv, io, json, os, re, shutil, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
out = os.environ.get("OUT") or tempfile.mkdtemp()
args = sys.argv[1:]
fails, table, costs = [], [], []


def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default


def seed_code(n):
    text = open(os.path.join(root, "tests/data/seeds", n)).read()
    code = re.search(r"\[CURRENT CODE\]\n```python\n(.*?)```", text, re.S).group(1)
    path = os.path.join(out, n.split("_")[0] + "_current.py")
    open(path, "w").write(code)
    return path


def cases():
    c = os.path.join(root, "tests/candidates")
    yield "seed-002 current code", "kb1-56", seed_code("002_ac8b582351f2d0eb.txt"), "triton"
    yield "seed-003 current code", "kb1-55", seed_code("003_846a2cc822aab960.txt"), "triton"
    yield "ok_naive", "kb1-55", os.path.join(c, "ok_naive.cu"), "cuda"
    yield "ok_tiled_smem", "kb1-55", os.path.join(c, "ok_tiled_smem.cu"), "cuda"
    yield "ok_igemm_ws", "kb1-55", os.path.join(c, "ok_igemm_ws.cu"), "cuda"
    yield "inplace_accumulate", "kb1-55", os.path.join(here, "metrics/inplace_accumulate.cu"), "cuda"


def worker_cmd(worker, problem, src, lang, extra=()):
    names = ["--metrics", opt("--metrics")] if opt("--metrics") and "--metrics" not in extra else []
    return [worker, "eval", "--problem", problem, "--source", src, "--language", lang, "--budget-ms", "300",
            "--trials", "1", "--compact", *names, *extra]


def run_json(cmd, env=None, timeout=600):
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    secs = time.time() - t
    try:   # the record is the last line that is a JSON object (a profiler may print around it)
        line = [x for x in p.stdout.splitlines() if x.startswith("{")][-1]
        return json.loads(line), secs, p
    except (ValueError, IndexError):
        return {"verdict": None, "stdout": p.stdout[-500:], "stderr": p.stderr[-1500:]}, secs, p


def is_pct(name):
    return "pct" in name


def close(name, ours, theirs):
    if ours is None or theirs is None:
        return False
    if is_pct(name):
        return abs(ours - theirs) <= 2.0
    return abs(ours - theirs) <= 0.03 * max(abs(theirs), 1e-12)


def ncu_rows(path):
    """ncu --csv --page raw: a header row of names, a units row, one row per profiled launch."""
    text = open(path, errors="replace").read()
    start = text.find('"ID"')
    if start < 0:
        return []
    rows = list(csv.reader(io.StringIO(text[start:])))
    head = rows[0]
    got = []
    for r in rows[2:]:
        if len(r) != len(head):
            continue
        d = dict(zip(head, r))
        vals = {}
        for k, v in d.items():
            try:
                vals[k] = float(v.replace(",", ""))
            except ValueError:
                pass
        got.append((d.get("Kernel Name", "?"), vals))
    return got


def check(tag, ok, msg=""):
    print(("ok   " if ok else "FAIL ") + tag + (f" :: {msg}" if msg else ""))
    if not ok:
        fails.append(tag)


def compare_case(worker, ncu, name, problem, src, lang):
    r, secs, p = run_json(worker_cmd(worker, problem, src, lang))
    with open(os.path.join(out, "metrics_worker.jsonl"), "a") as f:
        f.write(json.dumps({"case": name, "result": r}) + "\n")
    if r.get("verdict") != "ok":
        check(f"{name}: verdict ok", False, f"{r.get('verdict')} {json.dumps(r.get('error'))[:400]} {r.get('stderr', '')}")
        return r
    det = r.get("metrics_detail", {})
    check(f"{name}: metrics_source cupti", r.get("metrics_source") == "cupti", json.dumps(det)[:400])
    ours = list((r.get("metrics") or {}).items()) + list((r.get("reference_metrics") or {}).items())
    if not ncu:
        return r
    log = os.path.join(out, f"ncu_{re.sub(r'[^a-z0-9]+', '_', name.lower())}.csv")
    names = sorted({m for _, d in ours for m in d})
    cmd = [ncu, "--clock-control", "none", "--cache-control", "all", "--profile-from-start", "off",
           "--target-processes", "all", "--replay-mode", "kernel", "--csv", "--page", "raw", "--print-units",
           "base", "--metrics", ",".join(names), "--log-file", log,
           *worker_cmd(worker, problem, src, lang, ["--metrics", "external"])]
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    ncu_s = time.time() - t
    theirs = ncu_rows(log)
    by_name = {}
    for kname, vals in theirs:
        by_name.setdefault(kname.split("(")[0].split("<")[0].strip(), []).append(vals)
    if len(theirs) != len(ours):
        check(f"{name}: ncu profiled {len(theirs)} launches, we {len(ours)}", False,
              f"ours {[k for k, _ in ours]} theirs {[k for k, _ in theirs]} :: {p.stderr[-800:]} {p.stdout[-400:]}")
        return r
    kernel_ms = 0.0
    ncand = len(r.get("metrics") or {})
    seen = {}   # the k-th launch of a kernel name, ours and ncu's, in launch order
    for i, (okey, od) in enumerate(ours):
        base = okey.split("#")[0]
        k = seen[base] = seen.get(base, -1) + 1
        rows = by_name.get(base, [])
        tv = rows[k] if k < len(rows) else None
        if tv is None:
            check(f"{name}: {okey} in ncu's report", False, f"ncu kernels {list(by_name)}")
            continue
        bad = []
        for m, v in od.items():
            t_v = tv.get(m)
            if m == "gpu__time_duration.sum" and t_v is not None and i < ncand:
                kernel_ms += t_v / 1e6
            row = (name, okey, m, v, t_v, close(m, v, t_v))
            table.append(row)
            if not row[-1]:
                bad.append(f"{m}: ours {v} ncu {t_v}")
        check(f"{name}: {okey} {len(od)} metrics within tolerance", not bad, "; ".join(bad))
    costs.append((name, det.get("cost_ms"), det.get("passes"), kernel_ms, ncu_s * 1e3))
    return r


def degrade(worker):
    """Counters made unavailable: the worker as an unprivileged user (the driver's default restricts
    counters to admins) — or, when this driver lets everyone read counters, under another profiler."""
    params = open("/proc/driver/nvidia/params").read() if os.path.exists("/proc/driver/nvidia/params") else ""
    admin_only = re.search(r"RmProfilingAdminOnly: (\d)", params)
    print(f"     driver RmProfilingAdminOnly: {admin_only.group(1) if admin_only else '?'}")
    src = os.path.join(root, "tests/candidates/ok_naive.cu")
    if admin_only and admin_only.group(1) == "1" and shutil.which("setpriv") and os.geteuid() == 0:
        tmp = tempfile.mkdtemp()
        os.chmod(tmp, 0o777)
        env = dict(os.environ, KGRADE_CACHE_DIR=tmp, HOME=tmp)
        cmd = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] + worker_cmd(worker, "small-3x3", src, "cuda")
        how = "as uid 65534"
    else:
        ncu = opt("--ncu") or shutil.which("ncu")
        if not ncu:
            print("     degrade: no way to make counters unavailable here (no ncu, counters open to all)")
            return
        cmd = [ncu, "--metrics", "gpu__time_duration.sum", "-c", "1", "--log-file",
               os.path.join(out, "ncu_degrade.log")] + worker_cmd(worker, "small-3x3", src, "cuda")
        env, how = None, "under ncu"
    r, _, p = run_json(cmd, env=env)
    with open(os.path.join(out, "metrics_degrade.json"), "w") as f:
        json.dump(r, f, indent=1)
    m = next(iter((r.get("metrics") or {}).values()), {})
    reason = (r.get("metrics_detail") or {}).get("reason", "")
    ok = r.get("verdict") == "ok" and r.get("metrics_source") == "unavailable" and bool(reason)
    if how == "under ncu":   # CUPTI's one subscriber is taken: no callbacks, so no launches either
        ok = ok and "MULTIPLE_SUBSCRIBERS" in reason
        what = "verdict ok, metrics_source unavailable naming the other subscriber"
    else:                    # no counters, but the callbacks still describe every launch
        ok = ok and isinstance(m.get("launch__grid_size"), (int, float)) and \
            m.get("dram__throughput.avg.pct_of_peak_sustained_elapsed", 0) is None
        what = "verdict ok, metrics_source unavailable with a reason, launch values present, counters null"
    check(f"degrade ({how}): {what}", ok,
          f"{r.get('verdict')} {r.get('metrics_source')} {reason} {json.dumps(m)[:300]} {r.get('stderr', '')[-300:]}")
    print(f"     reason: {reason}")


def main():
    worker = os.path.abspath(opt("--worker", os.path.join(root, "build/bin/kgrade-worker")))
    if subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode != 0:
        print("no GPU: skipped")
        return 77
    ncu = opt("--ncu") or shutil.which("ncu")
    print(f"ncu: {ncu or 'not found: our metrics only'}")
    for name, problem, src, lang in cases():
        r = compare_case(worker, ncu, name, problem, src, lang)
        if name == "inplace_accumulate" and r.get("verdict") == "ok":
            after = (r.get("metrics_detail") or {}).get("output_after")
            check("replay safety: in-place output after collection matches the reference",
                  after == "matches the reference", str(after))
    degrade(worker)
    with open(os.path.join(out, "metrics_table.json"), "w") as f:
        json.dump({"rows": table, "costs": costs}, f, indent=1)
    print("\n== metrics: ours vs ncu (percentages within 2 points, others within 3 %)")
    for name, k, m, v, t, ok in table:
        if m in ("sm__throughput.avg.pct_of_peak_sustained_elapsed", "sm__warps_active.avg.pct_of_peak_sustained_active",
                 "dram__throughput.avg.pct_of_peak_sustained_elapsed", "lts__t_sector_hit_rate.pct",
                 "gpu__time_duration.sum") or not ok:
            print(f"{'ok ' if ok else 'BAD'} {name[:22]:22} {k[:34]:34} {m[:48]:48} {v!s:>12} {t!s:>12}")
    print("\n== cost: collection (ours) against one ncu run of the same evaluation")
    print(f"{'case':24} {'passes':>6} {'kernels ms':>10} {'ours ms':>9} {'goal ms':>9} {'ncu run ms':>10}")
    for name, cost, passes, kms, ncu_ms in costs:
        goal = 10 * kms + 150
        print(f"{name[:24]:24} {passes!s:>6} {kms:10.3f} {cost or 0:9.1f} {goal:9.1f} {ncu_ms:10.0f}")
    print(f"\n{len(fails)} failure(s)" + (": " + "; ".join(fails) if fails else ""))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
