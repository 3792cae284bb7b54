# expect: patch line 9
# expect: patch line 21
# expect: patch line 22
# expect: patch line 23
import torch
import torch.nn as nn
import triton
import triton.language as tl
import builtins  # <- patch
import gc


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


def sneak():
    exec("import os")  # <- patch
    objs = gc.get_objects()  # <- patch
    mod = __import__("time")  # <- patch
    return objs, mod


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x.numel(), BLOCK=128)
        return y
