# must not trigger: reference-op
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


class ModelNew(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        # nn.Conv2d only as a container for weight and bias
        self.conv = nn.Conv2d(cin, cout, (k, k), bias=True)

    def forward(self, x):
        w = self.conv.weight
        b = self.conv.bias
        stride, padding = self.conv.stride, self.conv.padding
        x = F.pad(x, (padding[1], padding[1], padding[0], padding[0]))
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x.numel(), BLOCK=128)
        return F.relu(y) + 0 * w.sum() + 0 * b.sum() + stride[0]
