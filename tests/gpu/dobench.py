"""dobench.py WORKER CANDIDATE PROBLEM REPEATS: time a CUDA C candidate with triton.testing.do_bench.

The candidate's launch plan comes from the worker itself (kgrade-worker compile --problem, which
binds the directives to the problem); the source is compiled by CuPy's RawModule with the same
KG_* defines and launched on torch tensors, so do_bench times exactly the kernels kgrade-worker
eval times. Prints one JSON line: {"medians_ms": [...], "median_ms", "cv"}.
"""
import json
import statistics
import subprocess
import sys

import cupy
import torch
import triton.testing

worker, source, problem, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rec = json.loads(subprocess.run([worker, "compile", "--problem", problem, "--compact", source],
                                check=True, capture_output=True, text=True).stdout)
assert rec["verdict"] == "ok", rec
spec = rec["problem"]
opts = tuple(o for o in rec["compile"]["options"] if o.startswith("-D")) + ("--std=c++17",)
kernels = [l["kernel"] for l in rec["launches"]]
mod = cupy.RawModule(code=open(source).read(), options=opts, name_expressions=kernels)

dt = torch.float32
x = torch.randn(spec["x_elems"], device="cuda", dtype=dt)
w = torch.randn(spec["w_elems"], device="cuda", dtype=dt)
b = torch.randn(max(spec["b_elems"], 1), device="cuda", dtype=dt)
y = torch.empty(spec["y_elems"], device="cuda", dtype=dt)
ws_bytes = max(int(rec.get("workspace_bytes", 0) or 0), 0)
ws = torch.empty(max(ws_bytes // 4, spec["w_elems"]) + 1, device="cuda", dtype=dt)
ptr = {"x": x.data_ptr(), "w": w.data_ptr(), "bias": b.data_ptr() if spec["spec"]["bias"] else 0,
       "y": y.data_ptr(), "workspace": ws.data_ptr()}

launches = []
for l in rec["launches"]:
    args = []
    for a in l["args"]:
        if a in ptr:
            args.append(cupy.uint64(ptr[a]))
        else:
            v, t = a.split(":")
            args.append(cupy.int32(int(v)) if t == "i32" else cupy.int64(int(v)))
    launches.append((mod.get_function(l["kernel"]), tuple(l["grid"]), tuple(l["block"]), l["smem"], tuple(args)))


def run():
    for f, g, bl, sm, args in launches:
        f(g, bl, args, shared_mem=sm)


run()
torch.cuda.synchronize()
meds = [triton.testing.do_bench(run, warmup=25, rep=200, return_mode="median") for _ in range(repeats)]
print(json.dumps({"medians_ms": meds, "median_ms": statistics.median(meds),
                  "cv": statistics.pstdev(meds) / statistics.mean(meds)}))
