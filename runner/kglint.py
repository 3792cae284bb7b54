#!/usr/bin/env python3
"""kglint — the static checker for Triton ModelNew candidates.

DESIGN
  Before a candidate runs, refuse the sources that cannot work (what the prompts' CRITICAL rules
  state: @triton.jit on every kernel, grids > 0, power-of-two BLOCK sizes, program_id axes 0..2, no
  loop control or loop-variable indexing in kernels), that break the OUTPUT FORMAT (class ModelNew,
  no test code), or that pass without computing the convolution in Triton (a library convolution,
  fallbacks, streams and threads, monkeypatching, results cached by tensor identity, lazy tensors,
  precision downcasts). docs/lint.md has the rule table.
  One idea: a single walk over the syntax tree, with an explicit stack instead of recursion, carries
  a context (the scope, whether it is a @triton.jit function, the enclosing loops) and records
  findings and a few facts per scope; the checks that need a whole scope (grids, caches, casts that
  reach tl.dot, imports, conv modules) run on those facts after the walk. Nothing of the candidate
  is imported or executed.
  Invariants: standard library only, Python 3.8+; the result depends only on (source, policy,
  autotune_max); findings sorted by (line, col), at most MAX_FINDINGS listed; RecursionError and
  MemoryError become a "too deeply nested" syntax_error.
  Not done: type inference, data flow beyond one scope's simple assignments, anything that needs
  the code run. A rule is a cheap net for the common case; the run-time checks decide.
  Start-up is most of the cost, since the worker runs this once per candidate and the interpreter
  compiles the whole file each time: the C parser module `_ast` and a small JSON writer stand in
  for `ast` and `json` (which import far more), name tables are split strings, and the code stays
  short.

API  lint(source, policy=None, autotune_max=None) -> dict
CLI  python3 kglint.py [--policy JSON|ID=ACTION,...] [--autotune-max N] [--rules] FILE|-
     prints one JSON line; exit 0 (also when rejected), 2 on a usage, policy or size error.
"""
import sys
import warnings
import _ast
from _ast import (AST, PyCF_ONLY_AST, Add, AnnAssign, Assert, Assign, AsyncFunctionDef, Attribute, AugAssign,
                  BinOp, Break, Call, ClassDef, Compare, Constant, Continue, Dict, Eq, Expr, FloorDiv, FunctionDef,
                  If, Import, ImportFrom, In, Is, IsNot, Lambda, List, Load, MatMult, Name, NotEq, NotIn, Pass,
                  Return, Starred, Sub, Subscript, Tuple, UnaryOp, USub)

VERSION = 1
LIMIT_BYTES = 1 << 20
MAX_FINDINGS = 200
ACTIONS = ("reject", "warn", "off")
# id, severity, summary; rules_run follows this order and the ids are stable.
RULES = tuple(tuple(line.split(None, 2)) for line in """
triton-jit-missing error a function calls tl.* kernel intrinsics but is not decorated with @triton.jit
no-triton-kernel error the module defines no @triton.jit function
grid-not-positive error a launch grid element uses a // b outside triton.cdiv or max(1, ...), or is a constant below 1
block-not-pow2 error a BLOCK_* int literal that is not a power of two
program-id-axis error tl.program_id or tl.num_programs with a literal axis outside 0..2
program-id-axis-dynamic warning tl.program_id or tl.num_programs with an axis that is not a literal
loop-control-in-jit error continue, break or return inside a loop of a @triton.jit function
tensor-index-loop-var error a subscript in a @triton.jit function indexed by an enclosing for-loop variable
autotune-too-many-configs error @triton.autotune with more configs than the autotune limit
autotune-configs-unknown warning @triton.autotune configs that are not a literal list
modelnew-missing error no top-level class ModelNew
modelnew-not-module warning ModelNew does not derive from nn.Module
main-guard error an if __name__ == "__main__": block
harness-functions error get_inputs or get_init_inputs defined at top level
top-level-code warning a top-level statement that runs code at import
missing-imports warning torch, triton, tl, nn, F, math or np used but never imported
reference-op error a library convolution outside kernels (F.conv*, torch.conv*, aten/cudnn ops, torch._C, nn.Conv*)
library-gemm warning a library GEMM or im2col outside kernels (matmul, mm, bmm, einsum, addmm, unfold, @)
try-except error try/except or contextlib.suppress outside kernels
stream-or-thread error CUDA streams, threads, processes or foreign calls
patch error monkeypatching and introspection (imported modules, builtins, sys.modules, settrace, gc, exec, eval)
torch-global-flag warning torch.backends.*.allow_tf32, cudnn.benchmark or cudnn.deterministic set
identity-cache error results cached by tensor identity or shape (data_ptr, id, _version, shape keys, lru_cache)
lazy-output error tensor subclasses, _make_subclass, __torch_function__, __torch_dispatch__
precision-downcast warning a float16/bfloat16/float8 cast of the computation's inputs
""".strip().splitlines())
SEVERITY = {r[0]: r[1] for r in RULES}
AUTOTUNE_RULES = ("autotune-too-many-configs", "autotune-configs-unknown")

TRIES = tuple(getattr(_ast, k) for k in ("Try", "TryStar") if hasattr(_ast, k))
INDEX = _ast.Index if sys.version_info < (3, 9) else None
DEFS = (FunctionDef, AsyncFunctionDef)
SEQS = (Tuple, List)
CHAINS = (Attribute, Subscript)
DEFAULT_ALIASES = dict(x.split("=") for x in "tl=triton.language nn=torch.nn F=torch.nn.functional np=numpy".split())
WATCHED = dict(x.split("=") for x in "torch=import torch|triton=import triton|tl=import triton.language as tl|"
               "nn=import torch.nn as nn|F=import torch.nn.functional as F|math=import math|"
               "np=import numpy as np".split("|"))
BUILTIN_RISKS = "exec eval compile __import__ __builtins__".split()
JIT = "triton.jit triton.runtime.jit triton.runtime.jit.jit".split()
AUTOTUNE = "triton.autotune triton.runtime.autotune triton.runtime.autotuner.autotune".split()
KERNEL_MAKERS = JIT + AUTOTUNE + ["triton.heuristics", "triton.runtime.heuristics"]
CONFIG = "triton.Config triton.runtime.Config triton.runtime.autotuner.Config".split()
LRU = "functools.lru_cache functools.cache lru_cache cache".split()
CONV = frozenset(p + c + d + "d" for p in ("torch.nn.", "torch.nn.modules.conv.")
                 for c in ("Conv", "ConvTranspose", "LazyConv", "LazyConvTranspose") for d in "123")
LOW_TORCH = tuple("torch.float16 torch.half torch.bfloat16 torch.HalfTensor torch.cuda.HalfTensor torch.float8".split())
LOW_TL = tuple("triton.language.float16 triton.language.bfloat16 triton.language.float8".split())
GLOBAL_FLAGS = tuple("allow_tf32 allow_fp16_reduced_precision_reduction allow_bf16_reduced_precision_reduction "
                     "cudnn.benchmark cudnn.deterministic".split())
TENSOR_ATTRS = set("shape dtype device stride contiguous data_ptr is_cuda numel size view reshape to float half "
                   "permute transpose new_empty ndim dim cuda".split())
THREAD_MODULES = "threading _thread multiprocessing concurrent asyncio subprocess ctypes cffi pty signal".split()

# What a name read outside kernels means, by its dotted name through the imports: (rule, why, names);
# a name ending in * is a prefix, and exact names win over prefixes (rule None: nothing to report).
REF_TABLE = (
    ("reference-op", "the library convolution",
     "torch.nn.functional.conv* torch.nn.grad.conv* torch.conv* torch._conv* torch.cudnn* torch.miopen* "
     "torch.mkldnn_conv* torch._nnpack* torch.thnn_conv* torch.slow_conv* torch._slow_conv* torch.ops.aten.conv* "
     "torch.ops.aten._conv* torch.ops.aten.cudnn* torch.ops.aten.miopen* torch.ops.aten.mkldnn_conv* "
     "torch.ops.aten.thnn_conv* torch.ops.aten.slow_conv*"),
    ("reference-op", "torch._C is the library's native layer", "torch._C torch._C.*"),
    ("library-gemm", "a library GEMM or im2col outside a Triton kernel",
     "torch.matmul torch.mm torch.bmm torch.einsum torch.addmm torch.baddbmm torch.addbmm torch.mv torch.tensordot "
     "torch.chain_matmul torch._scaled_mm torch.linalg.matmul torch.linalg.multi_dot torch.nn.functional.unfold "
     "torch.nn.functional.linear torch.nn.functional.bilinear torch.nn.Unfold torch.fft.*"),
    ("stream-or-thread", "streams, graphs and processes run work outside the timed stream",
     "torch.cuda.Stream torch.cuda.ExternalStream torch.cuda.stream torch.cuda.set_stream torch.Stream "
     "torch.cuda.graph torch.cuda.CUDAGraph torch.cuda.make_graphed_callables torch.cuda.streams* "
     "torch.multiprocessing* torch.distributed* os.fork os.forkpty os.system os.popen os.kill os.killpg os.spawn* "
     "os.exec* os.posix_spawn*"),
    ("patch", "reaches into the interpreter (tracing, frames, modules, code)",
     "sys.settrace sys.setprofile sys.modules sys._getframe sys.meta_path sys.path_hooks sys.addaudithook "
     "inspect.currentframe inspect.stack inspect.getouterframes inspect.trace os.putenv os.unsetenv gc.* "
     + " ".join(BUILTIN_RISKS)),
    (None, "", "gc.collect gc.isenabled gc.get_count"),
    ("patch", "registers or overrides torch operators", "torch.library*"),
    ("precision-downcast", "runs the computation in low precision",
     "torch.autocast torch.cuda.amp.autocast torch.amp.autocast"),
    ("identity-cache", "keys a cache on object identity", "weakref.WeakKeyDictionary weakref.WeakValueDictionary"),
    ("try-except", "hides failures like an except clause", "contextlib.suppress"),
    ("lazy-output", "lets tensors defer or fake their computation", "torch.overrides torch.utils._python_dispatch*"),
    ("reference-op", "cuDNN is the library convolution", "torch.backends.cudnn.flags torch.backends.cudnn.set_flags "
     "torch.backends.cudnn.is_acceptable"),
    ("torch-global-flag", "a global torch flag (allowed, noted)",
     "torch.set_float32_matmul_precision torch.use_deterministic_algorithms"),
)
# Methods called on anything but an imported module, outside kernels.
METHODS = dict([(m, ("library-gemm", "a library GEMM or im2col outside a Triton kernel"))
                for m in "matmul mm bmm addmm baddbmm addbmm unfold __matmul__".split()] +
               [(m, ("stream-or-thread", "streams are not allowed"))
                for m in "wait_stream record_stream wait_event".split()])
REFS, PREFIXES = {}, []
for _rule, _why, _names in REF_TABLE:
    for _q in _names.split():
        if _q.endswith("*"):
            PREFIXES.append((_q[:-1], (_rule, _why)))
        else:
            REFS[_q] = (_rule, _why)
PREFIX_STARTS = tuple(p for p, _ in PREFIXES)
_FIELDS = {}
NOT_NODES = set("ctx op ops id attr arg name names module asname level is_async conversion type_comment kind "
                "kwd_attrs rest tag simple lineno".split())


def _children(n):
    """The child nodes of n in source order; expression contexts, operators and import aliases left out."""
    fields = _FIELDS.get(n.__class__)
    if fields is None:   # the fields that can hold nodes (the others hold names, numbers and constants)
        fields = _FIELDS[n.__class__] = () if n.__class__.__name__ in ("Constant", "MatchSingleton", "Global",
                                                                       "Nonlocal") else tuple(
            f for f in n._fields if f not in NOT_NODES)
    out = []
    for f in fields:
        v = getattr(n, f, None)
        if v.__class__ is list:
            out += v
        elif v is not None:
            out.append(v)
    return out if None not in out else [x for x in out if x is not None]


def _walk(root, stop=()):
    """root and every node under it, without recursion; the subtrees of the classes in stop are skipped."""
    todo = [root]
    while todo:
        n = todo.pop()
        yield n
        todo += [c for c in _children(n) if c.__class__ not in stop]


def _int(n):
    """The value of an int literal (also -N), else None; True and False are not ints here."""
    if n.__class__ is UnaryOp and n.op.__class__ is USub:
        v = _int(n.operand)
        return None if v is None else -v
    return n.value if n.__class__ is Constant and n.value.__class__ is int else None


def _slice(s):
    s = s.slice
    return s.value if s.__class__ is INDEX else s


def _names(n):
    return {x.id for x in _walk(n) if x.__class__ is Name}


def _targets(t):
    if t.__class__ is Name:
        return [t.id]
    if t.__class__ is Starred:
        return _targets(t.value)
    return [x for e in t.elts for x in _targets(e)] if t.__class__ in SEQS else []


def _root(n):
    while n.__class__ in CHAINS:
        n = n.value
    return n


def _raw(n):
    """'self.conv' for self.conv; self.convs[0] is its container 'self.convs'; None for other shapes."""
    parts = []
    while n.__class__ in CHAINS:
        parts = parts + [n.attr] if n.__class__ is Attribute else []
        n = n.value
    return ".".join([n.id] + parts[::-1]) if n.__class__ is Name else None


def _dump(n):
    """A comparable form of a small subtree."""
    if isinstance(n, AST):
        return (n.__class__,) + tuple(_dump(getattr(n, f, None)) for f in n._fields if f != "ctx")
    return tuple(_dump(x) for x in n) if n.__class__ is list else n


def _block_name(s):
    return s == "BLOCK" or s.startswith("BLOCK_")


def _assign_targets(st):
    return [x for t in getattr(st, "targets", [getattr(st, "target", None)]) for x in _targets(t)]


class _Scope:
    """What the walk records about the module, a class body or a function."""
    __slots__ = ("node", "jit", "kind", "cls", "locals", "globals", "assigns", "flow", "sinks", "dots", "casts", "ifs",
                 "tl_call", "uses")

    def __init__(self, node, jit, kind, cls):
        self.node, self.jit, self.kind, self.cls = node, jit, kind, cls   # cls: the class of a method
        self.locals, self.globals = set(), set()
        self.assigns = {}   # name -> [value or FunctionDef] bound to that single name
        self.flow = []      # kernels: (target names, value), the path of a cast to tl.dot
        self.sinks = []     # host: ("sub"|"get"|"cmp"|"store", node[, value]), where a cache can form
        self.dots, self.casts, self.ifs = [], [], []   # kernels: tl.dot calls, low-precision casts; host: ifs
        self.tl_call = None  # the first tl.* intrinsic this function calls
        self.uses = {}       # kernels: name -> [(line, col)] where it is read


class _Checker:
    """The walk keeps (node, scope, loops) on a stack: loops holds the variables of the enclosing loops of
    the scope, with "" for each loop, so that it is empty outside loops."""

    def __init__(self, source, tree, enabled, autotune_max):
        self.source, self.tree, self.on, self.autotune_max = source, tree, enabled, autotune_max
        self.lines, self.found = None, []
        self.aliases, self.imported, self.bound, self.module_names = {}, set(), set(), set()
        self.jit_names, self.any_jit, self.used = set(), False, {}
        self.launches, self.host_calls, self.conv_classes = [], [], set()
        self.mod = _Scope(None, False, "module", None)
        self.scopes = [self.mod]
        # visit_X(node, scope, loops) handles the node class X: it returns None to walk the node's children
        # in the same scope, or the (child, scope, loops) triples to walk instead.
        self.handlers = {getattr(_ast, k[6:]): getattr(self, k) for k in dir(self)
                         if k.startswith("visit_") and hasattr(_ast, k[6:])}

    def add(self, rule, node, msg):
        if rule in self.on:
            self.found.append((getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, rule, msg))

    def seg(self, n, limit=60):
        """The source text of node n on its first line, shortened to limit characters."""
        if self.lines is None:
            self.lines = self.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        b = self.lines[n.lineno - 1].encode("utf-8")
        multi = getattr(n, "end_lineno", n.lineno) != n.lineno
        text = b[n.col_offset:len(b) if multi else n.end_col_offset].decode("utf-8", "replace").strip()
        text += " ..." if multi else ""
        return text if len(text) <= limit else text[:limit - 3] + "..."

    def qual(self, n):
        """The dotted name that n refers to through the imports (F.conv2d -> torch.nn.functional.conv2d), or
        None when n is not a name or an attribute chain on a name."""
        parts = []
        while n.__class__ is Attribute:
            parts.append(n.attr)
            n = n.value
        if n.__class__ is not Name:
            return None
        parts.append(self.aliases.get(n.id) or DEFAULT_ALIASES.get(n.id, n.id))
        return ".".join(parts[::-1])

    def imported_root(self, n):
        n = _root(n)
        return n.__class__ is Name and (n.id in self.imported or n.id == "__builtins__")

    def is_jit(self, fn):
        return any(self.qual(d.func if d.__class__ is Call else d) in JIT for d in fn.decorator_list) or (
            fn.name in self.jit_names and not fn.decorator_list)

    def do_import(self, st, scope, report):
        mod = "." * (st.level or 0) + (st.module or "") if st.__class__ is ImportFrom else None
        for a in st.names:
            if a.name == "*":
                continue
            name = a.asname or (a.name.split(".")[0] if mod is None else a.name)
            self.aliases[name] = (a.name if a.asname else name) if mod is None else mod + "." + a.name
            self.imported.add(name)
            self.bound.add(name)
            scope.locals.add(name)
            root = (a.name if mod is None else mod).split(".")[0]
            if report and root in THREAD_MODULES:
                self.add("stream-or-thread", st, "import of %s: threads, processes and foreign calls are not allowed"
                         % root)
            elif report and root in ("builtins", "importlib"):
                self.add("patch", st, "import of %s reaches the interpreter's builtins or import machinery" % root)

    def check_ref(self, q, node):
        hit = REFS.get(q)
        if hit is None and q.startswith(PREFIX_STARTS):
            hit = next(w for p, w in PREFIXES if q.startswith(p))
        elif hit is None and q.rsplit(".", 1)[0] in CONV and q.endswith((".forward", "._conv_forward", ".__call__")):
            hit = ("reference-op", "the library convolution")
        if hit is not None and hit[0] is not None:
            self.add(hit[0], node, "%s: %s" % (q, hit[1]))

    # ---- the walk ----
    def run(self):
        self.prepass()
        stack = [(st, self.mod, ()) for st in reversed(self.tree.body)]
        handlers = self.handlers
        while stack:
            node, scope, loops = stack.pop()
            h = handlers.get(node.__class__)
            r = h(node, scope, loops) if h is not None else None
            stack += [(c, scope, loops) for c in reversed(_children(node))] if r is None else r[::-1]
        self.after()
        return self.found

    def prepass(self):
        """Module-level facts the walk needs before it meets them: imports, top-level names, kernels."""
        tops, todo = [], list(self.tree.body)
        while todo:
            st = todo.pop()
            tops.append(st)
            if st.__class__ is If or st.__class__ in TRIES:
                todo += st.body + st.orelse + getattr(st, "finalbody", []) + [
                    x for h in getattr(st, "handlers", []) for x in h.body]
        for st in tops:
            if st.__class__ in (Import, ImportFrom):
                self.do_import(st, self.mod, False)
        for st in tops:
            if st.__class__ in DEFS or st.__class__ is ClassDef:
                self.module_names.add(st.name)
                if st.__class__ is not ClassDef and self.is_jit(st):
                    self.jit_names.add(st.name)
            elif st.__class__ in (Assign, AnnAssign, AugAssign):
                names = _assign_targets(st)
                self.module_names.update(names)
                for n in _walk(st.value) if st.value.__class__ is Call else ():
                    q = self.qual(n.func) if n.__class__ is Call else None
                    if q in KERNEL_MAKERS:  # kernel = triton.jit(fn), triton.autotune(...)(kernel)
                        self.jit_names.update(names)
                        if q in JIT and n.args and n.args[0].__class__ is Name:
                            self.jit_names.add(n.args[0].id)
                            self.any_jit = True

    def visit_FunctionDef(self, node, outer, loops):
        self.bound.add(node.name)
        outer.locals.add(node.name)
        outer.assigns.setdefault(node.name, []).append(node)
        jit = self.is_jit(node)
        if jit:
            self.any_jit = True
            self.jit_names.add(node.name)
        if node.name in ("__torch_function__", "__torch_dispatch__"):
            self.add("lazy-output", node, "%s lets a tensor defer or fake its computation" % node.name)
        for d in node.decorator_list:
            q = self.qual(d.func if d.__class__ is Call else d)
            if q in AUTOTUNE and d.__class__ is Call and self.autotune_max is not None:
                self.autotune(d, outer)
            elif q in LRU:
                self.lru(node, d)
        a = node.args
        pos = getattr(a, "posonlyargs", []) + a.args
        params = pos + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x is not None]
        for arg, dv in list(zip(pos[len(pos) - len(a.defaults):], a.defaults)) + list(zip(a.kwonlyargs, a.kw_defaults)):
            if dv is not None and _block_name(arg.arg):
                self.block(arg.arg, dv)
        scope = _Scope(node, jit, "function", outer.node if outer.kind == "class" else outer.cls)
        self.scopes.append(scope)
        scope.locals.update(x.arg for x in params)
        self.bound.update(scope.locals)
        outside = node.decorator_list + a.defaults + a.kw_defaults + [x.annotation for x in params] + [node.returns]
        return [(x, outer, loops) for x in outside if x is not None] + [(st, scope, ()) for st in node.body]

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node, outer, loops):
        self.bound.add(node.name)
        outer.locals.add(node.name)
        for b in node.bases:
            q = self.qual(b)
            if q in ("torch.Tensor", "torch._tensor.Tensor", "torch.nn.Parameter", "torch.nn.parameter.Parameter"):
                self.add("lazy-output", node, "class %s subclasses %s: a tensor subclass can defer or fake its values"
                         % (node.name, q))
            elif q in CONV:
                self.conv_classes.add(node)
                if not any(s.__class__ in DEFS and s.name == "forward" for s in node.body):
                    self.add("reference-op", node, "class %s keeps the forward of %s: the library convolution runs"
                             % (node.name, q))
        inner = _Scope(node, False, "class", node)
        return [(x, outer, loops) for x in node.decorator_list + node.bases + node.keywords] + [
            (s, inner, ()) for s in node.body]

    def visit_For(self, node, scope, loops):
        inner = loops + ("",) + tuple(_targets(node.target))
        return [(node.target, scope, loops), (node.iter, scope, loops)] + [(s, scope, inner) for s in node.body] + [
            (s, scope, loops) for s in node.orelse]

    visit_AsyncFor = visit_For

    def visit_While(self, node, scope, loops):
        return [(node.test, scope, loops)] + [(s, scope, loops + ("",)) for s in node.body] + [
            (s, scope, loops) for s in node.orelse]

    def visit_Return(self, node, scope, loops):
        if scope.jit and loops:
            word = {Break: "break", Continue: "continue"}.get(node.__class__, "return")
            self.add("loop-control-in-jit", node, "%s inside a loop of a @triton.jit function: use a mask" % word)

    visit_Break = visit_Continue = visit_Return

    def visit_Constant(self, node, scope, loops):
        return ()

    def visit_Try(self, node, scope, loops):
        if node.handlers and not scope.jit:
            self.add("try-except", node, "try/except: a fallback path hides failures")

    visit_TryStar = visit_Try

    def visit_Subscript(self, node, scope, loops):
        if not scope.jit:
            scope.sinks.append(("sub", node))
        elif any(loops):
            hit = sorted(_names(_slice(node)) & set(loops))
            if hit:
                self.add("tensor-index-loop-var", node, "%s indexes with loop variable %s: Triton cannot index "
                         "tensors dynamically (use a mask or tl.where)" % (self.seg(node), hit[0]))

    def visit_Assign(self, node, scope, loops):
        aug = node.__class__ is AugAssign
        if aug and node.op.__class__ is MatMult and not scope.jit:
            self.add("library-gemm", node, "the @= operator runs a library GEMM outside a Triton kernel")
        for t in getattr(node, "targets", [getattr(node, "target", None)]):
            self.store(t, node.value, scope, aug)

    visit_AnnAssign = visit_AugAssign = visit_Assign

    def store(self, t, value, scope, aug):
        if t.__class__ is Name and value is not None:
            if not aug:
                if _block_name(t.id):
                    self.block(t.id, value)
                scope.assigns.setdefault(t.id, []).append(value)
            if scope.jit:
                scope.flow.append(((t.id,), value))
            elif t.id in scope.globals:
                scope.sinks.append(("store", t, value))
        elif t.__class__ in SEQS:
            if value.__class__ in SEQS and len(value.elts) == len(t.elts):
                for a, b in zip(t.elts, value.elts):
                    self.store(a, b, scope, aug)
            elif scope.jit and value is not None:
                scope.flow.append((tuple(_targets(t)), value))
        elif t.__class__ in CHAINS:
            self.patch(t, "assignment to", t)
            if not scope.jit and value is not None:
                scope.sinks.append(("store", t, value))

    def patch(self, t, verb, node, attr=None):
        """An assignment, deletion, setattr or delattr on t, an imported module or something in one."""
        if not self.imported_root(t):
            return
        q = self.qual(t) or _raw(t) or "?"
        q = q + "." + attr if attr else q + "[...]" if t.__class__ is Subscript else q
        if q.startswith("torch.backends.") and q.endswith(GLOBAL_FLAGS) and "del" not in verb:
            return self.add("torch-global-flag", node, "%s %s: a global torch flag (allowed, noted)" % (verb, q))
        self.add("patch", node, "%s %s changes an imported module (monkeypatching)" % (verb, q))

    def visit_Delete(self, node, scope, loops):
        for t in node.targets:
            if t.__class__ in CHAINS:
                self.patch(t, "deletion of", t)

    def visit_Name(self, node, scope, loops):
        i = node.id
        if node.ctx.__class__ is not Load:
            self.bound.add(i)
            scope.locals.add(i)
            return ()
        if i in WATCHED and i not in self.used:
            self.used[i] = node
        if scope.jit:
            scope.uses.setdefault(i, []).append((node.lineno, node.col_offset))
        elif i in self.aliases or (i in BUILTIN_RISKS and i not in self.module_names):
            self.check_ref(self.aliases.get(i, i), node)
        return ()

    def visit_Attribute(self, node, scope, loops):
        parts, n = [], node
        while n.__class__ is Attribute:
            parts.append(n.attr)
            n = n.value
        if "_make_subclass" in parts or "_make_wrapper_subclass" in parts:
            self.add("lazy-output", node, "_make_subclass creates a tensor subclass instance")
        elif "_conv_forward" in parts and not scope.jit:
            self.add("reference-op", node, "_conv_forward runs the library convolution")
        if n.__class__ is not Name:
            return [(n, scope, loops)]
        if n.id in WATCHED and n.id not in self.used:
            self.used[n.id] = n
        if not scope.jit and node.ctx.__class__ is Load and n.id not in ("self", "cls"):
            parts.append(self.aliases.get(n.id) or DEFAULT_ALIASES.get(n.id, n.id))
            self.check_ref(".".join(parts[::-1]), node)
        return ()

    def visit_Call(self, node, scope, loops):
        f, host, args = node.func, not scope.jit, node.args
        q, m = self.qual(f) or "", getattr(f, "attr", None)
        if f.__class__ is Subscript and host:   # kernel[grid](...)
            if getattr(f.value, "id", None) in self.jit_names or getattr(f.value, "attr", None) in self.jit_names:
                self.launches.append((node, scope))
                for kw in node.keywords:
                    if kw.arg and _block_name(kw.arg):
                        self.block(kw.arg, kw.value)
        if q.startswith("triton.language."):
            if q[16:] in ("program_id", "num_programs"):
                self.axis(node, q[16:])
            if host and scope.kind == "function" and scope.tl_call is None and q[16:] not in (
                    "constexpr", "dtype", "pointer_type", "block_type", "cdiv"):
                scope.tl_call = q
            elif q == "triton.language.dot" and not host:
                scope.dots.append(node)
            elif q == "triton.language.cast" and self.low(args[1:2] + node.keywords, LOW_TL):
                scope.casts.append(node)
        elif q in CONFIG and args:   # triton.Config({"BLOCK_M": 64, ...}) or triton.Config(dict(BLOCK_M=64))
            pairs = zip(args[0].keys, args[0].values) if args[0].__class__ is Dict else [
                (Constant(k.arg), k.value) for k in getattr(args[0], "keywords", []) if k.arg]
            for k, v in pairs:
                if k.__class__ is Constant and isinstance(k.value, str) and _block_name(k.value):
                    self.block(k.value, v)
        elif q in ("setattr", "delattr") and q not in self.module_names and len(args) > 1:
            self.patch(args[0], q + " on", node, args[1].value if args[1].__class__ is Constant else "?")
        if m is None or self.imported_root(f.value):
            pass
        elif not host:
            if m == "to" and self.low(args[:1] + node.keywords, LOW_TL):
                scope.casts.append(node)
        elif (m in ("half", "bfloat16") and not args) or (m in ("to", "type") and self.low(args + node.keywords,
                                                                                           LOW_TORCH)):
            self.add("precision-downcast", node, "%s casts to low precision on the host" % self.seg(node))
        elif m in METHODS:
            self.add(METHODS[m][0], node, "%s: %s" % (self.seg(node), METHODS[m][1]))
        elif m in ("get", "setdefault", "pop", "__getitem__", "__contains__") and args:
            scope.sinks.append(("get", node))
        elif m == "forward" and getattr(getattr(f.value, "func", None), "id", None) == "super" and \
                scope.cls in self.conv_classes:
            self.add("reference-op", node, "super().forward runs the library convolution")
        if host:
            runs = f if f.__class__ is Call else f.value if m in ("forward", "__call__") else None
            if runs is not None and self.has_conv(runs):
                self.add("reference-op", node, "%s constructs and calls a torch.nn convolution" % self.seg(node))
            self.host_calls.append(node)

    def visit_BinOp(self, node, scope, loops):
        if node.op.__class__ is MatMult and not scope.jit:
            self.add("library-gemm", node, "%s: the @ operator runs a library GEMM outside a Triton kernel"
                     % self.seg(node))

    def visit_Compare(self, node, scope, loops):
        if not scope.jit:
            scope.sinks.append(("cmp", node))

    def visit_If(self, node, scope, loops):
        if not scope.jit:
            scope.ifs.append(node)

    def visit_Global(self, node, scope, loops):
        scope.globals.update(node.names)
        return ()

    def visit_Import(self, node, scope, loops):
        self.do_import(node, scope, True)
        return ()

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node, scope, loops):
        if node.name:
            self.bound.add(node.name)
            scope.locals.add(node.name)

    # ---- rule helpers used during the walk ----
    def block(self, name, value):
        v = _int(value)
        if v is not None and (v < 1 or v & (v - 1)):
            self.add("block-not-pow2", value, "%s = %d is not a power of two (16, 32, 64, 128, 256)" % (name, v))

    def axis(self, call, name):
        a = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "axis"), None)
        v = None if a is None else _int(a)
        if a is not None and v is None:
            self.add("program-id-axis-dynamic", call, "tl.%s axis %s is not a literal: only 0, 1 and 2 are valid"
                     % (name, self.seg(a)))
        elif v is not None and not 0 <= v <= 2:
            self.add("program-id-axis", call, "tl.%s(%d): the axis must be 0, 1 or 2" % (name, v))

    def low(self, args, names):
        """Whether an argument (or a dtype= keyword) names a low-precision dtype."""
        for a in args:
            if a.__class__ is _ast.keyword:
                a = a.value if a.arg == "dtype" else None
            if (a is not None and self.qual(a) or "").startswith(names):
                return True
        return False

    def autotune(self, call, scope):
        cfg = next((k.value for k in call.keywords if k.arg == "configs"), call.args[0] if call.args else None)
        e = cfg
        if e.__class__ is Name:   # a name bound once, in this scope or the module, to a literal list
            vals = scope.assigns.get(e.id) or self.mod.assigns.get(e.id) or []
            e = vals[0] if len(vals) == 1 else e
        if e is None:
            return
        if e.__class__ not in SEQS or any(x.__class__ is Starred for x in e.elts):
            self.add("autotune-configs-unknown", cfg, "@triton.autotune configs %s are not a literal list: they "
                     "cannot be counted against the limit of %d" % (self.seg(cfg, 40), self.autotune_max))
        elif len(e.elts) > self.autotune_max:
            self.add("autotune-too-many-configs", call, "@triton.autotune has %d configs; the limit is %d"
                     % (len(e.elts), self.autotune_max))

    def lru(self, node, dec):
        a = node.args
        params = {x.arg for x in a.args + a.kwonlyargs if x.arg not in ("self", "cls")}
        tensor = [x.arg for x in a.args + a.kwonlyargs if x.annotation is not None and
                  (self.qual(x.annotation) or "").endswith("Tensor")] or [
            n.value.id for n in _walk(node) if n.__class__ is Attribute and n.attr in TENSOR_ATTRS and
            n.value.__class__ is Name and n.value.id in params]
        if tensor:
            self.add("identity-cache", dec, "%s on %s, which takes the tensor %s: results are cached by tensor "
                     "identity" % (self.seg(dec, 30), node.name, tensor[0]))

    # ---- checks on what the walk recorded ----
    def after(self):
        for s in self.scopes:
            if s.tl_call and not s.jit:
                self.add("triton-jit-missing", s.node, "%s calls %s but is not decorated with @triton.jit"
                         % (s.node.name, s.tl_call.replace("triton.language.", "tl.")))
            if s.jit and s.dots and "precision-downcast" in self.on:
                self.downcasts(s)
            if not s.jit and s.sinks and "identity-cache" in self.on:
                self.identity(s)
        if not self.any_jit:
            self.add("no-triton-kernel", None, "the module defines no @triton.jit function")
        for name, node in self.used.items():
            if name not in self.bound:
                self.add("missing-imports", node, "%s is used but never imported (%s)" % (name, WATCHED[name]))
        for call, scope in self.launches:
            self.grid(call, scope)
        self.conv_holders()
        self.top_level()

    def top_level(self):
        model = None
        for st in self.tree.body:
            c = st.__class__
            model = st if c is ClassDef and st.name == "ModelNew" else model
            for n in [st.name] if c in DEFS else _assign_targets(st) if c in (Assign, AnnAssign) else []:
                if n in ("get_inputs", "get_init_inputs"):
                    self.add("harness-functions", st, "%s belongs to the harness: do not define it" % n)
            if c is If and self.main_guard(st.test):
                self.add("main-guard", st, "if __name__ == \"__main__\": test code does not belong in a candidate")
            elif not self.allowed_top(st):
                self.add("top-level-code", st, "top-level %s runs at import" % self.seg(st))
        if model is None:
            self.add("modelnew-missing", None, "no top-level class ModelNew")
        elif not self.is_module(model, 0):
            self.add("modelnew-not-module", model, "class ModelNew derives from %s, not nn.Module"
                     % (", ".join(self.seg(b, 30) for b in model.bases) or "nothing"))

    def main_guard(self, test):
        return any(n.__class__ is Compare and len(n.comparators) == 1 and
                   "__name__" in {getattr(x, "id", None) for x in (n.left, n.comparators[0])} and
                   "__main__" in {getattr(x, "value", None) for x in (n.left, n.comparators[0])} for n in _walk(test))

    def allowed_top(self, st):
        """Imports, defs, classes, assignments (not of a ModelNew or a launch), docstrings, assert, and
        if/try blocks of only those."""
        c = st.__class__
        if c in (Assign, AnnAssign, AugAssign):
            return not any(n.__class__ is Call and (getattr(n.func, "id", None) == "ModelNew" or getattr(
                getattr(n.func, "value", None), "id", None) in self.jit_names and n.func.__class__ is Subscript)
                for n in (_walk(st.value) if st.value is not None else ()))
        if c is Expr:
            return st.value.__class__ is Constant
        if c is If or c in TRIES:
            return not (c is If and self.main_guard(st.test)) and all(self.allowed_top(s) for s in (
                st.body + st.orelse + getattr(st, "finalbody", []) + [x for h in getattr(st, "handlers", [])
                                                                      for x in h.body]))
        return c in (Import, ImportFrom, FunctionDef, AsyncFunctionDef, ClassDef, Pass, Assert)

    def is_module(self, cls, depth):
        for b in cls.bases:
            q = self.qual(b) or ""
            if q.startswith("torch.nn.") and q.split(".")[-1][:1].isupper():
                return True
            if b.__class__ is Name and depth < 16 and any(st.__class__ is ClassDef and st.name == b.id and
                                                          st is not cls and self.is_module(st, depth + 1)
                                                          for st in self.tree.body):
                return True
        return False

    def grid(self, call, scope):
        for e in self.grid_elements(_slice(call.func), scope, 0):
            v = _int(e)
            if v is not None and v < 1:
                self.add("grid-not-positive", e, "grid dimension %d: every dimension must be at least 1" % v)
            todo = [e] if v is None else []
            while todo:
                n = todo.pop()
                c = n.__class__
                if c is Call:
                    q = self.qual(n.func) or ""
                    if q.endswith("cdiv") or (q == "max" and any((_int(a) or 0) >= 1 for a in n.args)):
                        continue
                elif c is BinOp and n.op.__class__ is FloorDiv and not self.ceil_div(n):
                    self.add("grid-not-positive", n, "grid dimension %s can be 0: use triton.cdiv(a, b) or "
                             "max(1, a // b)" % self.seg(n))
                    continue
                elif c is UnaryOp and n.op.__class__ is USub and getattr(n.operand, "op", None).__class__ is FloorDiv \
                        and getattr(n.operand.left, "op", None).__class__ is USub:
                    continue  # -(-a // b) is a ceiling division
                elif c is Lambda or c in DEFS:
                    continue
                todo += _children(n)

    def grid_elements(self, g, scope, depth):
        """The elements of a grid: a tuple, a lambda's tuple, or what a name is bound to (a tuple, a lambda, a
        def's returned tuples), looked up in the launching scope, then the module."""
        if g.__class__ in SEQS:
            return g.elts
        if g.__class__ is Lambda:
            return g.body.elts if g.body.__class__ in SEQS else [g.body]
        if g.__class__ is not Name or depth:
            return []
        out = []
        for v in scope.assigns.get(g.id) or self.mod.assigns.get(g.id) or ():
            for r in [n.value for n in _walk(v, DEFS + (ClassDef, Lambda)) if n.__class__ is Return and n.value] \
                    if v.__class__ in DEFS else [v]:
                out += self.grid_elements(r, scope, 1)
        return out

    def ceil_div(self, n):
        """(a + b - 1) // b or (a + (b - 1)) // b: a ceiling division, at least 1 when a >= 1."""
        num, den = n.left, _dump(n.right)
        if num.__class__ is not BinOp:
            return False
        if num.op.__class__ is Sub and _int(num.right) == 1 and getattr(num.left, "op", None).__class__ is Add:
            return den in (_dump(num.left.right), _dump(num.left.left))
        return num.op.__class__ is Add and any(
            getattr(p, "op", None).__class__ is Sub and _int(p.right) == 1 and _dump(p.left) == den
            for p in (num.left, num.right))

    def downcasts(self, scope):
        """Casts to float16/bfloat16/float8 whose value reaches a tl.dot operand, through simple assignments."""
        for d in scope.dots:
            for k in d.keywords:
                if k.arg == "out_dtype" and self.low([k.value], LOW_TL):
                    self.add("precision-downcast", d, "tl.dot accumulates in %s" % self.seg(k.value))
        # By source position, without walking values: a value holds a cast, or a read of a name that holds
        # one, when its position falls inside the value's span. At most 8 rounds keep the work bounded.
        at = {}   # line -> [(col, cast call or name read)]
        for c in scope.casts:
            at.setdefault(c.lineno, []).append((c.col_offset, c))
        for u, places in scope.uses.items():
            for line, col in places:
                at.setdefault(line, []).append((col, u))

        def source(e):
            for line in range(e.lineno, e.end_lineno + 1):
                for col, x in at.get(line, ()):
                    if (e.lineno, e.col_offset) <= (line, col) < (e.end_lineno, e.end_col_offset) and (
                            x.__class__ is Call or x in tainted):
                        return tainted[x] if x.__class__ is str else x
            return None
        tainted = {}
        for _ in range(8 if scope.casts else 0):
            before = len(tainted)
            for names, value in scope.flow:
                src = source(value) if any(nm not in tainted for nm in names) else None
                for nm in names if src is not None else ():
                    tainted.setdefault(nm, src)
            if len(tainted) == before:
                break
        for d in scope.dots if scope.casts else ():
            for op in d.args[:2] + [k.value for k in d.keywords if k.arg in ("a", "b", "input", "other")]:
                src = source(op)
                if src is not None:
                    self.add("precision-downcast", src, "%s reaches tl.dot: the product runs in low precision"
                             % self.seg(src))

    def keykind(self, e, scope, taint, depth=0):
        """What a cache key made of e identifies: 2 a tensor (data_ptr(), id(), hash(), _version), 1 a whole
        shape (x.shape, x.size(), x.stride(), or a name bound to one), 0 neither. taint memoizes names, which
        are followed through at most 16 assignments."""
        best, todo = 0, [e]
        while todo:
            n = todo.pop()
            c = n.__class__
            if c is Call:
                f = n.func
                m = getattr(f, "attr", None)
                if m in ("data_ptr", "untyped_storage", "storage") or (
                        getattr(f, "id", None) in ("id", "hash") and f.id not in scope.locals and
                        f.id not in self.module_names):
                    return 2
                best = max(best, m in ("size", "stride") and not n.args)
            elif c is Attribute:
                if n.attr == "_version":
                    return 2
                best = max(best, n.attr == "shape")
            elif c is Subscript:
                v = n.value
                if getattr(v, "attr", None) == "shape" or getattr(getattr(v, "func", None), "attr", None) in (
                        "size", "stride") or (v.__class__ is Name and self.keykind(v, scope, taint, depth) == 1):
                    todo.append(_slice(n))   # one dimension is a number, not a key
                    continue
            elif c is Name:
                if n.id not in taint and depth < 16:   # what the name is bound to here; 0 while worked out
                    taint[n.id] = 0
                    taint[n.id] = max([0] + [self.keykind(v, scope, taint, depth + 1)
                                             for v in scope.assigns.get(n.id, ()) if v.__class__ not in DEFS])
                best = max(best, taint.get(n.id, 0))
            elif c is Lambda or c in DEFS:
                continue
            todo += _children(n)
        return int(best)

    def persistent(self, e, scope):
        """Whether e outlives one call: an attribute of self or cls, or a module-level name or its attribute."""
        r, attr = e, False
        while r.__class__ in CHAINS:
            attr, r = attr or r.__class__ is Attribute, r.value
        if r.__class__ is not Name or scope.kind == "module" or r.id in self.imported:
            return False
        if r.id in ("self", "cls"):
            return attr
        return r.id in scope.globals or (r.id not in scope.locals and r.id in self.module_names)

    def identity(self, scope):
        p = lambda e: self.persistent(e, scope)
        taint = {}
        key = lambda e: self.keykind(e, scope, taint)
        what = lambda k: "tensor identity" if k == 2 else "shape"
        ifret = None
        for s in scope.sinks:
            kind, n = s[0], s[1]
            if kind in ("sub", "get"):
                k = p(n.value if kind == "sub" else n.func.value) and key(_slice(n) if kind == "sub" else n.args[0])
                if k:
                    self.add("identity-cache", n, "%s: a persistent cache keyed by %s returns stale results for new "
                             "inputs" % (self.seg(n), what(k)))
            elif kind == "store":
                if (n.id in scope.globals if n.__class__ is Name else p(n)) and key(s[2]) == 2:
                    self.add("identity-cache", n, "%s stores a tensor's identity for a later comparison" % self.seg(n))
            elif any(p(x) for x in [n.left] + n.comparators):
                ops = [n.left] + n.comparators
                for op, a, b in zip(n.ops, ops, ops[1:]):
                    hit = False
                    if op.__class__ in (In, NotIn):
                        hit = p(b) and key(a)
                    elif op.__class__ in (Eq, NotEq, Is, IsNot):
                        ka, kb = key(a), key(b)
                        hit = (ka == 2 and p(b)) or (kb == 2 and p(a))
                        if not hit and ((ka == 1 and p(b)) or (kb == 1 and p(a))):
                            if ifret is None:   # the compares in the tests of ifs whose body returns
                                ifret = {id(x) for i in scope.ifs if any(r.__class__ is Return for st in i.body
                                                                         for r in _walk(st, DEFS))
                                         for x in _walk(i.test) if x.__class__ is Compare}
                            hit = id(n) in ifret
                    if hit:
                        self.add("identity-cache", n, "%s compares a tensor's identity or shape with a stored one "
                                 "(result reuse)" % self.seg(n))
                        break

    def has_conv(self, e):
        return any(n.__class__ is Call and self.qual(n.func) in CONV for n in _walk(e))

    def conv_holders(self):
        """Names and attributes bound to an nn.Conv* module (or a container holding one), and calls of them."""
        if "reference-op" not in self.on or not any(self.qual(c.func) in CONV for c in self.host_calls):
            return
        holders = set()
        for s in self.scopes:
            holders.update(name for name, vals in s.assigns.items() if any(
                v.__class__ not in DEFS and self.has_conv(v) for v in vals))
            holders.update(_raw(x[1]) for x in s.sinks if x[0] == "store" and self.has_conv(x[2]))
        for call in self.host_calls:
            key = _raw(call.func) or ""
            if key in holders or (key.endswith((".forward", ".__call__")) and key.rsplit(".", 1)[0] in holders):
                self.add("reference-op", call, "%s calls a torch.nn convolution module: the library convolution runs"
                         % self.seg(call))


# ---- policy, result, JSON, command line ----
def _check_policy(policy):
    if policy is not None and not isinstance(policy, dict):
        raise ValueError("policy must be an object mapping rule ids to reject, warn or off")
    for k, v in (policy or {}).items():
        if k not in SEVERITY:
            raise ValueError("unknown rule id in policy: %r" % (k,))
        if v not in ACTIONS or not isinstance(v, str):
            raise ValueError("unknown action %r for rule %s (reject, warn or off)" % (v, k))
    return dict(policy or {})


def _default(rid):
    return "reject" if SEVERITY[rid] == "error" else "warn"


def _syntax(actions, line, col, message):
    return {"version": VERSION, "syntax_error": {"line": max(1, line or 1), "col": max(1, col or 1),
                                                 "message": message},
            "findings": [], "rejected": True, "rules_run": [],
            "policy": {k: v for k, v in actions.items() if v != _default(k)}}


def lint(source, policy=None, autotune_max=None):
    """Check one candidate's source (a str); returns the result dict described in docs/lint.md.
    Raises ValueError for an unknown rule id or action in policy, an autotune_max that is not a
    non-negative int, or a source over LIMIT_BYTES of UTF-8."""
    if not isinstance(source, str):
        raise TypeError("source must be a str")
    actions = _check_policy(policy)
    if autotune_max is not None and (autotune_max.__class__ is not int or autotune_max < 0):
        raise ValueError("autotune_max must be a non-negative integer, got %r" % (autotune_max,))
    if len(source) > LIMIT_BYTES or len(source.encode("utf-8", "surrogatepass")) > LIMIT_BYTES:
        raise ValueError("source is larger than 1 MiB (%d bytes)" % LIMIT_BYTES)
    on = [r for r, _, _ in RULES if actions.get(r) != "off" and (autotune_max is not None or r not in AUTOTUNE_RULES)]
    try:
        with warnings.catch_warnings():   # the parser's SyntaxWarnings (invalid escapes) are not findings
            warnings.simplefilter("ignore")
            tree = compile(source, "<candidate>", "exec", PyCF_ONLY_AST, True)
        found = _Checker(source, tree, set(on), autotune_max).run()
    except (RecursionError, MemoryError):
        return _syntax(actions, 1, 1, "too deeply nested")
    except (SyntaxError, ValueError) as e:   # ValueError: a NUL byte, before Python 3.12
        i = source.find("\0")
        if i >= 0:
            return _syntax(actions, source.count("\n", 0, i) + 1, i - source.rfind("\n", 0, i),
                           "source code cannot contain null bytes")
        if isinstance(e, UnicodeError):   # a str with lone surrogates
            return _syntax(actions, 1, 1, "source is not valid Unicode text")
        if not isinstance(e, SyntaxError):
            raise
        return _syntax(actions, e.lineno, e.offset, e.msg or "invalid syntax")
    out = _syntax(actions, 1, 1, "")
    f = out["findings"] = [dict(id=r, severity=SEVERITY[r], action=actions.get(r) or _default(r), line=line, col=col,
                                message=msg) for line, col, r, msg in sorted(set(found))]
    out["syntax_error"], out["rejected"], out["rules_run"] = None, any(x["action"] == "reject" for x in f), on
    if len(f) > MAX_FINDINGS:
        f[MAX_FINDINGS:] = [dict(f[MAX_FINDINGS], id="too-many-findings", severity="warning", action="warn",
                                 message="%d more findings are not listed" % (len(f) - MAX_FINDINGS))]
    return out


def dumps(v):
    """JSON text of v (dict, list, str, int, bool, None) on one line, ASCII only."""
    if isinstance(v, str):
        if not (v.isascii() and v.isprintable()) or '"' in v or "\\" in v:
            v = "".join(c if " " <= c <= "~" and c not in '"\\' else "\\u%04x" % ord(c) if ord(c) < 0x10000 else
                        "\\u%04x\\u%04x" % (0xD7C0 + (ord(c) >> 10), 0xDC00 + (ord(c) & 0x3FF)) for c in v)
        return '"' + v + '"'
    if isinstance(v, dict):
        return "{" + ",".join(dumps(str(k)) + ":" + dumps(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(map(dumps, v)) + "]"
    return "null" if v is None else str(v).lower()


USAGE = "usage: kglint.py [--policy JSON|ID=ACTION,...] [--autotune-max N] [--rules] FILE|-"


def _cli(argv):
    opts, files, args = {}, [], list(argv)
    while args:
        a = args.pop(0)
        name, eq, val = a.partition("=")
        if name in ("--policy", "--autotune-max") and (eq or args):
            opts[name] = val if eq else args.pop(0)
        elif a == "--rules" or a == "-" or not a.startswith("-"):
            files.append(a)
        else:
            raise ValueError(USAGE)
    if "--rules" in files:
        return [dict(id=r, severity=s, action=_default(r), summary=m) for r, s, m in RULES]
    text, amax = opts.get("--policy", ""), opts.get("--autotune-max")
    if text.lstrip().startswith("{"):
        import json   # only here: importing json costs more than the rest of a run
        policy = json.loads(text)
    else:
        items = [x.strip().partition("=") for x in text.split(",") if x.strip()]
        if any(not eq for _, eq, _ in items):
            raise ValueError("--policy takes a JSON object or ID=ACTION,...")
        policy = {k.strip(): v.strip() for k, _, v in items}
    policy = _check_policy(policy)
    if amax is not None and not amax.strip().isdigit():
        raise ValueError("--autotune-max takes a non-negative integer, not %r" % amax)
    if len(files) != 1:
        raise ValueError(USAGE)
    try:
        with (sys.stdin.buffer if files[0] == "-" else open(files[0], "rb")) as fh:
            data = fh.read(LIMIT_BYTES + 1)
    except OSError as e:
        raise ValueError("cannot read %s: %s" % (files[0], e.strerror or e))
    if len(data) > LIMIT_BYTES:
        raise ValueError("source is larger than 1 MiB (%d bytes)" % LIMIT_BYTES)
    try:
        return lint(data.decode("utf-8-sig"), policy, amax and int(amax))
    except UnicodeDecodeError as e:
        return _syntax(policy, data.count(b"\n", 0, e.start) + 1, e.start - data.rfind(b"\n", 0, e.start),
                       "source is not valid UTF-8")


def main(argv):
    """The command line: one JSON line on stdout; 0, or 2 with {"error": ...} for a usage, policy or size error."""
    try:
        out, rc = _cli(argv), 0
    except ValueError as e:   # json's errors are ValueErrors too
        out, rc = {"error": str(e)}, 2
    sys.stdout.write(dumps(out) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
