# Takes all GPU memory it can, 1 GiB at a time, then exits: a graceful CUDA out-of-memory.
import torch
from common import triton_works
triton_works()
keep = []
try:
    while True:
        keep.append(torch.empty(1 << 30, dtype=torch.uint8, device="cuda"))
except torch.OutOfMemoryError:
    print(f"gpu out of memory after {len(keep)} GiB")
