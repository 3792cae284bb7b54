# An honest Triton program: must run to exit 0 inside the sandbox.
from common import triton_works
triton_works()
