#!/usr/bin/env python3
"""triton_cold.py [--n N] — where the first forward of a Triton candidate spends its time when the
Triton cache is cold, as in every kgrade job (each sandbox has a fresh TRITON_CACHE_DIR).

Each measurement is a fresh python3 process with a fresh, empty TRITON_CACHE_DIR, running the
candidate of tests/gpu/triton/ok_tf32.md (three autotune configurations) on small-3x3 as the harness
builds it. Child processes (the C compiler building Triton's modules, ptxas) are timed by wrapping
subprocess.Popen. Modes:

  cold      import torch, import triton, CUDA up; then the first forward
  utils     the same, but Triton's driver utilities (the cuda_utils C module) loaded first
  dummy     utilities, then two trivial kernels of other signatures compiled and launched first
            (the second one's time, less the first's, is the one-time part of a first compile)
  cached    a second process on the first one's cache: nothing left to compile (autotuning and
            loading only)

One JSON line per process on stdout, then a summary table (medians). The candidate-independent
part is what a pre-started harness can do before its job arrives."""
import json, os, re, shutil, statistics, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
CHILD = r'''
import json, os, subprocess, sys, time
t_start = time.perf_counter()
calls = []
class TimedPopen(subprocess.Popen):
    def __init__(self, *a, **k):
        self._t0 = time.perf_counter()
        args = a[0] if a else k.get("args")
        first = args[0] if isinstance(args, (list, tuple)) else str(args).split()[0]
        self._exe = os.path.basename(str(first))
        super().__init__(*a, **k)
    def wait(self, timeout=None):
        rc = super().wait(timeout)
        if not getattr(self, "_timed", False):
            self._timed = True
            calls.append((self._exe, (time.perf_counter() - self._t0) * 1e3))
        return rc
subprocess.Popen = TimedPopen
mode, src_path = sys.argv[1], sys.argv[2]
WARM = """
import triton
import triton.language as tl


@triton.jit
def add_one(p, n, B: tl.constexpr):
    i = tl.program_id(0) * B + tl.arange(0, B)
    tl.store(p + i, tl.load(p + i, mask=i < n) + 1, mask=i < n)


@triton.jit
def scale(src, dst, a, n, B: tl.constexpr):
    i = tl.program_id(0) * B + tl.arange(0, B)
    tl.store(dst + i, tl.load(src + i, mask=i < n) * a, mask=i < n)
"""
out = {"mode": mode}
t = time.perf_counter(); import torch; out["import_torch_ms"] = (time.perf_counter() - t) * 1e3
t = time.perf_counter(); import triton, triton.language as tl; out["import_triton_ms"] = (time.perf_counter() - t) * 1e3
t = time.perf_counter(); torch.zeros(1, device="cuda"); torch.cuda.synchronize(); out["cuda_init_ms"] = (time.perf_counter() - t) * 1e3
out["versions"] = {"torch": torch.__version__, "triton": triton.__version__}
def mark(name, t0, n0):
    out[name + "_ms"] = (time.perf_counter() - t0) * 1e3
    out[name + "_children"] = [(e, round(ms, 1)) for e, ms in calls[n0:]]
if mode in ("utils", "dummy"):
    t, n = time.perf_counter(), len(calls)
    from triton.runtime import driver
    driver.active.utils            # builds (or loads) the cuda_utils module
    driver.active.get_current_stream
    mark("utils", t, n)
if mode == "dummy":   # two throwaway kernels of different signatures (Triton wants them in a file)
    import importlib.util, tempfile
    path = os.path.join(tempfile.mkdtemp(), "warm_kernels.py")
    open(path, "w").write(WARM)
    wspec = importlib.util.spec_from_file_location("warm_kernels", path)
    wm = importlib.util.module_from_spec(wspec); wspec.loader.exec_module(wm)
    buf = torch.zeros(64, device="cuda")
    t, n = time.perf_counter(), len(calls)
    wm.add_one[(1,)](buf, 64, B=64); torch.cuda.synchronize()
    mark("dummy", t, n)
    t, n = time.perf_counter(), len(calls)
    wm.scale[(1,)](buf, buf, 2.0, 64, B=64); torch.cuda.synchronize()
    mark("dummy2", t, n)
import importlib.util
spec = importlib.util.spec_from_file_location("cand", src_path)
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
model = m.ModelNew(8, 8, 3, stride=1, padding=0, dilation=1, groups=1, bias=False).cuda().eval()
x = torch.randn(2, 8, 16, 16, device="cuda")
t, n = time.perf_counter(), len(calls)
with torch.no_grad():
    y = model(x)
torch.cuda.synchronize()
mark("first_forward", t, n)
t = time.perf_counter()
with torch.no_grad():
    model(x)
torch.cuda.synchronize()
out["second_forward_ms"] = (time.perf_counter() - t) * 1e3
out["process_ms"] = (time.perf_counter() - t_start) * 1e3
print(json.dumps(out))
'''


def candidate():
    text = open(os.path.join(here, "triton", "ok_tf32.md")).read()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def run(mode, cache, src):
    env = dict(os.environ, TRITON_CACHE_DIR=cache)
    p = subprocess.run([sys.executable, "-c", CHILD, mode, src], capture_output=True, text=True, env=env,
                       timeout=300)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"mode": mode, "error": p.stderr[-800:]}


def main():
    n = int(sys.argv[sys.argv.index("--n") + 1]) if "--n" in sys.argv else 2
    work = tempfile.mkdtemp(prefix="triton-cold-")
    src = os.path.join(work, "cand.py")
    open(src, "w").write(candidate())
    rows = []
    for i in range(n):
        for mode in ("cold", "utils", "dummy"):
            cache = os.path.join(work, f"{mode}-{i}")
            r = run(mode, cache, src)
            rows.append(r)
            print(json.dumps(r), flush=True)
            if mode == "cold":
                r2 = run("cached", cache, src)   # the same cache, now full
                rows.append(r2)
                print(json.dumps(r2), flush=True)
    shutil.rmtree(work, ignore_errors=True)

    def med(mode, key):
        v = [r[key] for r in rows if r.get("mode") == mode and key in r]
        return statistics.median(v) if v else float("nan")

    def is_cc(e):
        return e in ("cc", "gcc", "clang", "c++", "g++") or e.endswith("-gcc")

    def child_sum(mode, key, pred):
        v = [sum(ms for e, ms in r.get(key, []) if pred(e)) for r in rows if r.get("mode") == mode]
        return statistics.median(v) if v else float("nan")

    print()
    print(f"{'mode':<8} {'torch':>7} {'triton':>7} {'cuda':>6} {'utils':>7} {'dummy':>7} {'dummy2':>7} {'1st fwd':>8} "
          f"{'cc in fwd':>9} {'ptxas in fwd':>12} {'2nd fwd':>8}")
    for mode in ("cold", "utils", "dummy", "cached"):
        print(f"{mode:<8} {med(mode, 'import_torch_ms'):7.0f} {med(mode, 'import_triton_ms'):7.0f} "
              f"{med(mode, 'cuda_init_ms'):6.0f} {med(mode, 'utils_ms'):7.0f} {med(mode, 'dummy_ms'):7.0f} "
              f"{med(mode, 'dummy2_ms'):7.0f} "
              f"{med(mode, 'first_forward_ms'):8.0f} {child_sum(mode, 'first_forward_children', is_cc):9.0f} "
              f"{child_sum(mode, 'first_forward_children', lambda e: 'ptxas' in e):12.0f} "
              f"{med(mode, 'second_forward_ms'):8.1f}")
    json.dump(rows, open(os.path.join(os.environ.get("OUT") or work, "triton_cold.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
