# must not trigger: precision-downcast
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def mm_kernel(a_ptr, b_ptr, c_ptr, IS_FP16: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + offs[:, None] * BLOCK + offs[None, :])
    b = tl.load(b_ptr + offs[:, None] * BLOCK + offs[None, :])
    acc = tl.dot(a, b, allow_tf32=True)
    out = acc
    if IS_FP16:
        out = acc.to(tl.float16)
    tl.store(c_ptr + offs[:, None] * BLOCK + offs[None, :], out)


class ModelNew(nn.Module):
    def forward(self, a, b):
        is_fp16 = a.dtype == torch.float16
        a = a.to(torch.float32).contiguous()
        c = torch.empty_like(a)
        mm_kernel[(1,)](a, b, c, IS_FP16=is_fp16, BLOCK=32)
        return c.to(a.dtype)
