# expect: loop-control-in-jit line 15
# expect: loop-control-in-jit line 21
# expect: loop-control-in-jit line 23
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def sum_kernel(x_ptr, y_ptr, n, K: tl.constexpr, BLOCK: tl.constexpr):
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for k in range(0, K):
        if k * BLOCK >= n:
            break  # <- loop-control-in-jit
        acc += tl.load(x_ptr + k * BLOCK + tl.arange(0, BLOCK))
    i = 0
    while i < K:
        i += 1
        if i > n:
            continue  # <- loop-control-in-jit
        if i == 7:
            return  # <- loop-control-in-jit
    tl.store(y_ptr + tl.arange(0, BLOCK), acc)


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
