# expect: library-gemm line 21
# expect: library-gemm line 22
# expect: library-gemm line 23
# expect: library-gemm line 24
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
    def forward(self, x, w):
        cols = F.unfold(x, kernel_size=3)  # <- library-gemm
        out = w.view(w.shape[0], -1) @ cols  # <- library-gemm
        out2 = torch.matmul(w.view(w.shape[0], -1), cols)  # <- library-gemm
        patches = x.unfold(2, 3, 1)  # <- library-gemm
        return out + out2 + patches.sum()
