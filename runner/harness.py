"""harness.py - the trusted side of a Triton evaluation, run by python3 inside the candidate's sandbox.

DESIGN
  kgrade-worker (C) owns the inputs, the reference and the judgement; this harness only runs the
  candidate. The worker allocates the tensors with the CUDA driver and hands their IPC handles over
  (raw device memory, never pickle); the harness opens them in torch's context and wraps them as
  tensors without a copy, so both processes see the same bytes. The worker sends one JSON command
  per line on the command fd and reads one JSON reply per line on the reply fd:

    load      lint the source (kglint), capture the timer and sync functions, import the candidate
              from its file, build ModelNew(in_channels, out_channels, kernel_size, stride, padding,
              dilation, groups, bias), move it to the GPU and bind the worker's weight (and bias)
              tensors as the parameters of those shapes
    run       one forward on x; the output is checked (type, shape, dtype, device, layout), copied
              into the worker's y, then poisoned with NaN so that a recycled block never holds an
              earlier answer; the launched Triton kernels are listed
    sample    one timed forward: L2 flushed, CUDA events, the region closed by a device-wide
              synchronisation (work on other streams counts), the SM clock read after it; the
              output is copied to y outside the timed region
    diagnose  one forward with an event around every Triton launch: Triton's share of GPU time,
              streams created by the candidate
    finish    identity of the captured functions (a patch is reported), then exit

  Everything the candidate could touch lives in this process, so the timing is labelled
  "candidate-process" by the worker; correctness is judged in the worker's process.
"""
import ctypes
import json
import math
import os
import sys
import time
import traceback

TB_MAX = 4000


def send(out, obj):
    out.write(json.dumps(obj, allow_nan=False, default=str) + "\n")
    out.flush()


def bounded_tb():
    tb = traceback.format_exc()
    return tb if len(tb) <= TB_MAX else "...\n" + tb[-TB_MAX:]


def load_kglint():
    """The checker next to this file (python -I leaves the script's directory off sys.path)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "kglint", os.path.join(os.path.dirname(os.path.abspath(__file__)), "kglint.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Failure(Exception):
    def __init__(self, verdict, message, tb=None, extra=None):
        Exception.__init__(self, message)
        self.verdict, self.message, self.tb, self.extra = verdict, message, tb, extra or {}


class Harness:
    def __init__(self):
        import torch
        import triton
        from triton.compiler import CompiledKernel
        self.torch, self.triton = torch, triton
        self.cu = ctypes.CDLL("libcuda.so.1")
        torch.zeros(1, device="cuda")
        torch.cuda.synchronize()
        self.launches = []
        self.stream_count = 0
        # the harness calls its own copies: a patch cannot change what it measures, only be reported
        self.sync = torch.cuda.synchronize
        self.Event = torch.cuda.Event
        self.record = torch.cuda.Event.record
        self.elapsed = torch.cuda.Event.elapsed_time
        self.ev_sync = torch.cuda.Event.synchronize
        harness = self
        orig_lm = CompiledKernel.launch_metadata

        def launch_metadata(kernel, grid, stream, *args):
            md = kernel.metadata
            g = tuple(int(v) for v in grid) + (1,) * (3 - len(grid))
            harness.launches.append({"name": kernel.name, "grid": list(g[:3]),
                                     "block": [int(md.num_warps) * 32, 1, 1],
                                     "shared_bytes": int(getattr(md, "shared", 0))})
            return orig_lm(kernel, grid, stream, *args)
        CompiledKernel.launch_metadata = launch_metadata
        self.CompiledKernel = CompiledKernel
        orig_stream = torch.cuda.Stream

        class CountedStream(orig_stream):
            def __new__(cls, *a, **k):
                # torch wraps existing streams (current_stream()) with stream_id: not a new stream
                if "stream_id" not in k and "stream_ptr" not in k:
                    harness.stream_count += 1
                return orig_stream.__new__(cls, *a, **k)
        torch.cuda.Stream = CountedStream
        # captured before any candidate code runs (the wrappers above included): checked at the end
        self.captured = self.identities()
        self.nvml = None
        try:
            nv = ctypes.CDLL("libnvidia-ml.so.1")
            h = ctypes.c_void_p()
            if nv.nvmlInit_v2() == 0 and nv.nvmlDeviceGetHandleByIndex_v2(0, ctypes.byref(h)) == 0:
                self.nvml, self.nvml_dev = nv, h
        except OSError:
            pass
        self.model = None
        self.flush = None

    def identities(self):
        """What the names the harness relies on hold now; compared with the capture at the end."""
        torch = self.torch
        return {
            "torch.cuda.synchronize": torch.cuda.synchronize,
            "torch.cuda.Event": torch.cuda.Event,
            "torch.cuda.Event.record": torch.cuda.Event.record,
            "torch.cuda.Event.elapsed_time": torch.cuda.Event.elapsed_time,
            "torch.cuda.Event.synchronize": torch.cuda.Event.synchronize,
            "torch.Tensor.copy_": torch.Tensor.copy_,
            "torch.Tensor.fill_": torch.Tensor.fill_,
            "torch.Tensor.zero_": torch.Tensor.zero_,
            "torch.as_tensor": torch.as_tensor,
            "torch.empty": torch.empty,
            "time.perf_counter": time.perf_counter,
            "json.dumps": json.dumps,
            "CompiledKernel.launch_metadata": self.CompiledKernel.launch_metadata,
            "torch.cuda.Stream": torch.cuda.Stream,
        }

    # ---- buffers ---------------------------------------------------------------------------

    def open_buffer(self, b, shape, dtype):
        torch = self.torch
        class Handle(ctypes.Structure):
            _fields_ = [("reserved", ctypes.c_char * 64)]
        h = Handle()
        ctypes.memmove(ctypes.byref(h), bytes.fromhex(b["handle"]), 64)
        ptr = ctypes.c_uint64()
        rc = self.cu.cuIpcOpenMemHandle_v2(ctypes.byref(ptr), h, ctypes.c_uint(1))
        if rc != 0:
            raise RuntimeError("cuIpcOpenMemHandle failed: CUDA error %d" % rc)
        raw = {torch.float32: "<f4", torch.float16: "<i2", torch.bfloat16: "<i2"}[dtype]

        class View:
            pass
        v = View()
        v.__cuda_array_interface__ = {"shape": tuple(shape), "typestr": raw,
                                      "data": (ptr.value + int(b.get("offset", 0)), False), "version": 3}
        t = torch.as_tensor(v, device="cuda")
        return t if dtype == torch.float32 else t.view(dtype)

    # ---- load ------------------------------------------------------------------------------

    def load(self, cmd):
        torch = self.torch
        src = open(cmd["source_path"], encoding="utf-8", errors="replace").read()
        lint = load_kglint().lint(src, cmd.get("lint_policy") or None, cmd.get("autotune_max"))
        if lint["syntax_error"]:
            se = lint["syntax_error"]
            raise Failure("syntax_error", "line %d, column %d: %s" % (se["line"], se["col"], se["message"]),
                          extra={"lint": lint})
        if lint["rejected"]:
            first = next(f for f in lint["findings"] if f["action"] == "reject")
            raise Failure("lint_rejected", "line %d: %s (%s)" % (first["line"], first["message"], first["id"]),
                          extra={"lint": lint})
        self.lint = lint
        s = {k: (v if isinstance(v, (bool, str)) else int(v)) for k, v in cmd["spec"].items()}   # JSON numbers: ints
        dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[s["dtype"]]
        self.dtype = dtype
        ho = (s["h"] + 2 * s["ph"] - s["dh"] * (s["kh"] - 1) - 1) // s["sh"] + 1
        wo = (s["w"] + 2 * s["pw"] - s["dw"] * (s["kw"] - 1) - 1) // s["sw"] + 1
        self.out_shape = (s["n"], s["c_out"], ho, wo)
        buf = cmd["buffers"]
        xs = (s["n"], s["c_in"], s["h"], s["w"])
        self.x = {"x": self.open_buffer(buf["x"], xs, dtype), "x_alt": self.open_buffer(buf["x_alt"], xs, dtype)}
        w = self.open_buffer(buf["w"], (s["c_out"], s["c_in"] // s["g"], s["kh"], s["kw"]), dtype)
        b = self.open_buffer(buf["b"], (s["c_out"],), dtype) if s["bias"] else None
        self.y = self.open_buffer(buf["y"], self.out_shape, dtype)
        self.flush = torch.empty(int(cmd["l2_flush_bytes"]), dtype=torch.uint8, device="cuda")

        # the candidate's module, from its own file (Triton needs the source on disk)
        import importlib.util
        t0 = time.perf_counter()
        try:
            spec = importlib.util.spec_from_file_location("candidate", cmd["source_path"])
            mod = importlib.util.module_from_spec(spec)
            sys.modules["candidate"] = mod
            spec.loader.exec_module(mod)
        except BaseException as ex:
            if isinstance(ex, (KeyboardInterrupt, SystemExit)):
                raise Failure("import_error", "the candidate exited or was interrupted while imported")
            raise Failure("import_error", "%s: %s" % (type(ex).__name__, ex), bounded_tb())
        cls = getattr(mod, "ModelNew", None)
        if cls is None:
            raise Failure("import_error", "the candidate defines no ModelNew")
        import_ms = (time.perf_counter() - t0) * 1e3
        try:
            # as KernelBench's get_init_inputs: an int where both sides agree, else a pair
            def arg(a, b):
                return a if a == b else (a, b)
            model = cls(s["c_in"], s["c_out"], arg(s["kh"], s["kw"]), stride=arg(s["sh"], s["sw"]),
                        padding=arg(s["ph"], s["pw"]), dilation=arg(s["dh"], s["dw"]), groups=s["g"],
                        bias=bool(s["bias"]))
            model = model.cuda().eval()
        except Exception as ex:
            raise Failure("init_error", "ModelNew(...) raised %s: %s" % (type(ex).__name__, ex), bounded_tb())
        bound = self.bind(model, w, b)
        self.model = model
        return {"import_ms": import_ms, "params": bound, "lint": lint}

    def bind(self, model, w, b):
        params = list(model.named_parameters()) if hasattr(model, "named_parameters") else []
        wn = [n for n, p in params if tuple(p.shape) == tuple(w.shape)]
        if len(wn) != 1:
            raise Failure("init_error", "expected exactly one parameter of the weight's shape %s, found %s" %
                          (list(w.shape), wn or "none"))
        bshape = (w.shape[0],)
        bn = [n for n, p in params if tuple(p.shape) == bshape]
        if b is not None and len(bn) != 1:
            raise Failure("init_error", "expected exactly one parameter of the bias's shape %s, found %s" %
                          (list(bshape), bn or "none"))
        named = dict(params)
        with self.torch.no_grad():
            named[wn[0]].data = w     # the worker's buffer itself: fresh weights every trial, no copy
            if b is not None:
                named[bn[0]].data = b
            elif len(bn) == 1:
                named[bn[0]].data = self.torch.zeros(bshape, dtype=self.dtype, device="cuda")
        return {"weight": wn[0], "bias": bn[0] if bn else None}

    # ---- running ---------------------------------------------------------------------------

    def forward(self, which):
        with self.torch.no_grad():
            return self.model(self.x[which])

    def check_output(self, out):
        torch = self.torch
        if not isinstance(out, torch.Tensor):
            raise Failure("output_mismatch", "forward returned %s, not a tensor" % type(out).__name__)
        if tuple(out.shape) != self.out_shape:
            raise Failure("output_mismatch", "output shape %s, expected %s" % (list(out.shape), list(self.out_shape)))
        if out.dtype != self.dtype:
            raise Failure("output_mismatch", "output dtype %s, expected %s" % (out.dtype, self.dtype))
        if out.device.type != "cuda":
            raise Failure("output_mismatch", "output on %s, expected the GPU" % out.device)
        if out.layout != torch.strided:
            raise Failure("output_mismatch", "output layout %s, expected strided" % out.layout)

    def deliver(self, out):
        """Copy the output to the worker's y, then poison the candidate's block with NaN."""
        self.y.copy_(out)
        if out.data_ptr() != self.y.data_ptr():
            out.fill_(math.nan)
        self.sync()

    def guarded(self, fn):
        try:
            return fn()
        except Failure:
            raise
        except Exception as ex:
            raise Failure("runtime_error", "%s: %s" % (type(ex).__name__, ex), bounded_tb())

    def run(self, cmd):
        self.launches = []
        t0 = time.perf_counter()

        def go():
            out = self.forward(cmd.get("x", "x"))
            self.sync()
            self.check_output(out)
            self.deliver(out)
        self.guarded(go)
        return {"ms": (time.perf_counter() - t0) * 1e3, "kernels": self.launches[:64],
                "launches": len(self.launches)}

    def clock_mhz(self):
        if not self.nvml:
            return 0
        c = ctypes.c_uint()
        return c.value if self.nvml.nvmlDeviceGetClockInfo(self.nvml_dev, 1, ctypes.byref(c)) == 0 else 0

    def sample(self, cmd):
        ev = [self.Event(enable_timing=True) for _ in range(3)]
        holder = {}

        rec, el = self.record, self.elapsed

        def go():
            self.flush.zero_()
            rec(ev[0])
            out = self.forward(cmd.get("x", "x"))
            rec(ev[1])
            self.sync()          # device-wide: work left on other streams is inside the region
            rec(ev[2])
            self.ev_sync(ev[2])
            holder["out"] = out
        self.guarded(go)
        mhz = self.clock_mhz()
        out = holder["out"]
        self.guarded(lambda: (self.check_output(out), self.deliver(out)))
        return {"stream_ms": el(ev[0], ev[1]), "device_ms": el(ev[0], ev[2]), "mhz": mhz}

    def calibrate(self, cmd):
        """The synchronisation tail with nothing to wait for: start, stop, device sync, stop."""
        tails = []
        for _ in range(int(cmd.get("n", 20))):
            ev = [self.Event(enable_timing=True) for _ in range(3)]
            self.record(ev[0])
            self.record(ev[1])
            self.sync()
            self.record(ev[2])
            self.ev_sync(ev[2])
            tails.append(self.elapsed(ev[1], ev[2]))
        tails.sort()
        return {"tails_ms": tails}

    def diagnose(self, cmd):
        from triton import knobs
        spans = []
        rt = knobs.runtime
        prev = (rt.launch_enter_hook, rt.launch_exit_hook)

        def enter(_md):
            e = self.Event(enable_timing=True)
            self.record(e)
            spans.append([e, None])

        def leave(_md):
            e = self.Event(enable_timing=True)
            self.record(e)
            if spans and spans[-1][1] is None:
                spans[-1][1] = e
        self.launches = []
        streams0 = self.stream_count
        start, stop = self.Event(enable_timing=True), self.Event(enable_timing=True)
        rt.launch_enter_hook, rt.launch_exit_hook = enter, leave
        try:
            def go():
                # the GPU sleeps while the host enqueues forward, so host gaps do not count as GPU time
                self.torch.cuda._sleep(20_000_000)
                self.record(start)
                out = self.forward("x")
                self.sync()
                self.record(stop)
                self.ev_sync(stop)
                self.check_output(out)
                self.deliver(out)
            self.guarded(go)
        finally:
            rt.launch_enter_hook, rt.launch_exit_hook = prev
        triton_ms = sum(self.elapsed(a, b) for a, b in spans if b is not None)
        return {"total_ms": self.elapsed(start, stop), "triton_ms": triton_ms, "kernels": self.launches[:64],
                "launches": len(self.launches), "streams_created": self.stream_count - streams0,
                "streams_created_total": self.stream_count}

    def metrics(self, cmd):
        """Per-kernel metrics of one forward, by the worker's collector (libkgprof) in this process."""
        import ctypes
        fn = ctypes.CFUNCTYPE(ctypes.c_int)
        lib = ctypes.CDLL(cmd["lib"])
        lib.prof_collect_json.restype = ctypes.c_void_p
        lib.prof_collect_json.argtypes = [ctypes.c_int, ctypes.c_char_p, fn, fn]
        lib.prof_free.argtypes = [ctypes.c_void_p]
        holder = {}

        def forward():
            try:
                holder["out"] = self.forward("x")
                self.sync()
                return 0
            except BaseException as ex:      # never into C: the failure is raised below
                holder["failure"] = (ex, bounded_tb())
                return 1
        self.sync()
        p = lib.prof_collect_json(int(cmd.get("device", 0)), cmd["names"].encode(), fn(), fn(forward))
        try:
            reply = json.loads(ctypes.string_at(p).decode())
        finally:
            lib.prof_free(p)
        if "failure" in holder:
            ex, tb = holder["failure"]
            raise Failure("runtime_error", "%s: %s" % (type(ex).__name__, ex), tb)
        if "out" in holder:
            out = holder.pop("out")
            self.guarded(lambda: (self.check_output(out), self.deliver(out)))
        return reply

    def window(self, cmd):
        """One forward between cudaProfilerStart and Stop, for an outside profiler."""
        prof = self.torch.cuda.profiler
        holder = {}

        def go():
            self.sync()
            prof.start()
            holder["out"] = self.forward(cmd.get("x", "x"))
            self.sync()
            prof.stop()
        self.guarded(go)
        out = holder["out"]
        self.guarded(lambda: (self.check_output(out), self.deliver(out)))
        return {}

    def finish(self, cmd):
        now = self.identities()
        patched = sorted(k for k, v in now.items() if v is not self.captured[k])
        return {"checked": sorted(now), "patched": patched, "streams_created": self.stream_count}


def warm_triton():
    """Triton's one-time work that no candidate changes, done before the ready line so that a
    pre-started harness has it behind it when its job arrives: the driver's utility module (C,
    built with the C compiler into this sandbox's own fresh TRITON_CACHE_DIR; docs/triton.md,
    "Where the time goes"). The ms it took; a failure is left for the candidate's first launch."""
    t0 = time.perf_counter()
    try:
        from triton.runtime import driver
        driver.active.utils
    except Exception:
        pass
    return (time.perf_counter() - t0) * 1e3


def main():
    fin = os.fdopen(int(sys.argv[1]), "r", encoding="utf-8")
    fout = os.fdopen(int(sys.argv[2]), "w", encoding="utf-8")
    t0 = time.perf_counter()
    try:
        h = Harness()
    except Exception as ex:
        send(fout, {"ok": False, "verdict": "internal_error", "message": "harness start: %s: %s" %
                    (type(ex).__name__, ex), "traceback": bounded_tb()})
        return 3
    warm_ms = warm_triton()
    send(fout, {"ok": True, "ready_ms": (time.perf_counter() - t0) * 1e3, "warm_ms": warm_ms,
                "versions": {"python": sys.version.split()[0], "torch": h.torch.__version__,
                             "triton": h.triton.__version__}})
    ops = {"load": h.load, "run": h.run, "sample": h.sample, "calibrate": h.calibrate,
           "diagnose": h.diagnose, "metrics": h.metrics, "window": h.window, "finish": h.finish}
    for line in fin:
        cmd = json.loads(line)
        op = cmd.get("op")
        if op == "exit":
            break
        try:
            reply = ops[op](cmd)
            reply["ok"] = True
        except Failure as f:
            reply = dict(f.extra, ok=False, verdict=f.verdict, message=f.message[:2000])
            if f.tb:
                reply["traceback"] = f.tb
        except Exception as ex:
            reply = {"ok": False, "verdict": "internal_error", "message": "%s: %s" % (type(ex).__name__, ex),
                     "traceback": bounded_tb()}
        send(fout, reply)
        if op == "finish":
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
