# must not trigger: identity-cache
import torch
import torch.nn as nn
import triton
import triton.language as tl
import functools


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)



@functools.lru_cache(maxsize=64)
def config_for(n, c, h, w):
    return 128 if n * c * h * w > 4096 else 64


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self._block = {}
        self.expected_shape = None

    def forward(self, x):
        N, C, H, W = x.shape
        assert x.data_ptr() % 16 == 0
        if x.shape != self.expected_shape and self.expected_shape is not None:
            raise ValueError("unexpected shape")
        local = {}
        local[x.shape] = 1
        block = self._block.get((N, C), None) or config_for(N, C, H, W)
        self._block[(N, C)] = block
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), block),)](x, y, x.numel(), BLOCK=block)
        return y
