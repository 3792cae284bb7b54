# must not trigger: grid-not-positive
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


def launch(x, y, n, groups):
    BLOCK = 256
    copy_kernel[(triton.cdiv(n, BLOCK),)](x, y, n, BLOCK=BLOCK)
    copy_kernel[(max(1, n // BLOCK), groups, 1)](x, y, n, BLOCK=BLOCK)
    copy_kernel[((n + BLOCK - 1) // BLOCK,)](x, y, n, BLOCK=BLOCK)
    copy_kernel[(-(-n // BLOCK),)](x, y, n, BLOCK=BLOCK)
    copy_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, n, BLOCK=BLOCK)

    def grid(meta):
        return (triton.cdiv(n, meta["BLOCK"]), groups, 1)
    copy_kernel[grid](x, y, n, BLOCK=BLOCK)
    half = n // 2  # not a grid
    return half


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x.numel(), BLOCK=128)
        return y
