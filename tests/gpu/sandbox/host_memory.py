# Touches host memory 256 MiB at a time, pinned and pageable, until killed: the memory limit.
import torch
from common import triton_works
triton_works()
keep = []
while True:
    keep.append(torch.ones(64 << 20, dtype=torch.float32, pin_memory=len(keep) % 2 == 0))
