# expect: identity-cache line 22
# expect: identity-cache line 32
# expect: identity-cache line 33
# expect: identity-cache line 34
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


_OUT = {}


@functools.lru_cache(maxsize=None)  # <- identity-cache
def run(x: torch.Tensor):
    y = torch.empty_like(x)
    copy_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x.numel(), BLOCK=128)
    return y


class ModelNew(nn.Module):
    def forward(self, x):
        shape = tuple(x.shape)
        if shape not in _OUT:  # <- identity-cache
            _OUT[shape] = run(x)  # <- identity-cache
        return _OUT[id(x)]  # <- identity-cache
