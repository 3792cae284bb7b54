# must not trigger: block-not-pow2
import torch
import torch.nn as nn
import triton
import triton.language as tl


BLOCK_M = 64
NUM_BLOCKS = 3
GROUP_M = 6
BLOCKS_PER_SM = 3


@triton.autotune(configs=[triton.Config({"BLOCK": 128, "GROUP": 6}, num_warps=4, num_stages=3)], key=["n"])
@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr, BLOCK_K: tl.constexpr = 32):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        BLOCK_N, BLOCK_R = 16, 256
        copy_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x.numel(), BLOCK_K=BLOCK_N, num_warps=3)
        return y
