# expect: patch line 27
# expect: patch line 28
# expect: patch line 29
# expect: patch line 30
import torch
import torch.nn as nn
import triton
import triton.language as tl
import time
import sys


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x.numel(), BLOCK=128)
        return y


torch.cuda.synchronize = lambda: None  # <- patch
triton.testing.do_bench = lambda fn, **kw: 0.001  # <- patch
setattr(time, "perf_counter", lambda: 0.0)  # <- patch
sys.modules["torch"].cuda.Event.elapsed_time = lambda self, other: 0.001  # <- patch
