# A Triton kernel that never ends: only the sandbox's wall clock stops it.
import torch
import triton
import triton.language as tl
from common import triton_works
triton_works()


@triton.jit
def spin(x):
    v = tl.load(x)
    while v >= 0:
        v = tl.load(x) + 1
    tl.store(x, v)


x = torch.zeros(1, device="cuda", dtype=torch.int32)
spin[(1,)](x)
torch.cuda.synchronize()
print("escaped: the kernel ended")
