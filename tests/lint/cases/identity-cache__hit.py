# expect: identity-cache line 26
# expect: identity-cache line 29
# expect: identity-cache line 30
# expect: identity-cache line 33
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self._cache = {}
        self._last_ptr = None
        self._out = None

    def forward(self, x):
        if x.data_ptr() == self._last_ptr:  # <- identity-cache
            return self._out
        key = (x.data_ptr(), x.shape)
        if key in self._cache:  # <- identity-cache
            return self._cache[key]  # <- identity-cache
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x.numel(), BLOCK=128)
        self._last_ptr = x.data_ptr()  # <- identity-cache
        self._out = y
        return y
