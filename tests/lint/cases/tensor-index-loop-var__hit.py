# expect: tensor-index-loop-var line 14
# expect: tensor-index-loop-var line 17
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, y_ptr, K: tl.constexpr, BLOCK: tl.constexpr):
    tile = tl.load(x_ptr + tl.arange(0, BLOCK)[:, None] * BLOCK + tl.arange(0, BLOCK)[None, :])
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for i in range(K):
        acc += tile[:, i]  # <- tensor-index-loop-var
    for j in tl.static_range(4):
        for kk in range(2):
            acc += tile[j + kk]  # <- tensor-index-loop-var
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
