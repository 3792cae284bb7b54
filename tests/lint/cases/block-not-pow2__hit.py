# expect: block-not-pow2 line 12
# expect: block-not-pow2 line 15
# expect: block-not-pow2 line 17
# expect: block-not-pow2 line 25
# expect: block-not-pow2 line 27
import torch
import torch.nn as nn
import triton
import triton.language as tl


BLOCK_M = 48  # <- block-not-pow2


@triton.autotune(configs=[triton.Config({"BLOCK": 96}, num_warps=4)], key=["n"])  # <- block-not-pow2
@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr, BLOCK_K: tl.constexpr = 24):  # <- block-not-pow2
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        BLOCK_N, BLOCK_R = 64, 100  # <- block-not-pow2
        copy_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x.numel(),
                                                    BLOCK_K=12)  # <- block-not-pow2
        return y
