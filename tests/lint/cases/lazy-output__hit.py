# expect: lazy-output line 17
# expect: lazy-output line 19
# expect: lazy-output line 25
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class Lazy(torch.Tensor):  # <- lazy-output
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # <- lazy-output
        return super().__torch_function__(func, types, args, kwargs or {})


class ModelNew(nn.Module):
    def forward(self, x):
        return torch.Tensor._make_subclass(Lazy, x)  # <- lazy-output
