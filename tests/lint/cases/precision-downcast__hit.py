# expect: precision-downcast line 15
# expect: precision-downcast line 18
# expect: precision-downcast line 19
# expect: precision-downcast line 25
# expect: precision-downcast line 26
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def mm_kernel(a_ptr, b_ptr, c_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + offs[:, None] * BLOCK + offs[None, :]).to(tl.float16)  # <- precision-downcast
    a2 = a * 2
    b = tl.load(b_ptr + offs[:, None] * BLOCK + offs[None, :])
    acc = tl.dot(a2, b.to(tl.bfloat16))  # <- precision-downcast
    acc += tl.dot(a, b, out_dtype=tl.float16)  # <- precision-downcast
    tl.store(c_ptr + offs[:, None] * BLOCK + offs[None, :], acc)


class ModelNew(nn.Module):
    def forward(self, a, b):
        a = a.half()  # <- precision-downcast
        b = b.to(torch.bfloat16)  # <- precision-downcast
        c = torch.empty_like(a)
        mm_kernel[(1,)](a, b, c, BLOCK=32)
        return c.float()
