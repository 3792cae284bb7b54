# expect: no-triton-kernel line 1
import torch
import torch.nn as nn
import triton
import triton.language as tl


def scale(x, s):
    return x * s


class ModelNew(nn.Module):
    def forward(self, x):
        return scale(x, 2.0)
