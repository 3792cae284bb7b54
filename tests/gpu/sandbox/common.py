# common.py — shared by the Triton threat scripts: a small Triton kernel that must work inside the
# sandbox before each script tries its attack (so a sandbox that breaks Triton fails the row).
import torch
import triton
import triton.language as tl


@triton.jit
def _add(x, y, out, n, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    tl.store(out + i, tl.load(x + i, mask=m) + tl.load(y + i, mask=m), mask=m)


def triton_works():
    n = 4096
    x = torch.arange(n, device="cuda", dtype=torch.float32)
    y = torch.ones(n, device="cuda", dtype=torch.float32)
    out = torch.empty_like(x)
    _add[(n // 1024,)](x, y, out, n, BLOCK=1024)
    torch.cuda.synchronize()
    assert torch.equal(out, x + 1), "triton kernel gave a wrong answer"
    print("triton ok", flush=True)
