# expect: modelnew-missing line 1
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class Model(nn.Module):
    def forward(self, x):
        return x


def build():
    class ModelNew(nn.Module):  # not at top level
        pass
    return ModelNew
