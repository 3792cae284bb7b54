# expect: reference-op line 19
# expect: reference-op line 29
# expect: reference-op line 31
import torch
import torch.nn as nn
import triton
import triton.language as tl
import torch.nn.functional as F


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


def fallback(x, w):
    return torch.nn.functional.conv2d(x, w)  # <- reference-op


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        if x.dtype == torch.float64:
            return F.conv2d(x, self.conv.weight)  # <- reference-op
        if x.shape[0] > 64:
            return self.conv(x)  # <- reference-op
        return fallback(x, self.conv.weight)
