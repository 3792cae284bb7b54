# must not trigger: no-triton-kernel
import torch
import torch.nn as nn
import triton.language as tl
from triton import jit, cdiv


@jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        copy_kernel[(cdiv(x.numel(), 128),)](x, y, x.numel(), BLOCK=128)
        return y
