# A Triton kernel that never ends: only the sandbox's wall clock stops it.
import torch
import triton
import triton.language as tl
from common import triton_works
triton_works()


@triton.jit
def spin(x):
    v = tl.load(x, volatile=True)
    while v == 0:           # x stays 0: the host never writes it
        v = tl.load(x, volatile=True)
    tl.store(x + 1, v)


x = torch.zeros(2, device="cuda", dtype=torch.int32)
spin[(1,)](x)
torch.cuda.synchronize()
print("escaped: the kernel ended")
