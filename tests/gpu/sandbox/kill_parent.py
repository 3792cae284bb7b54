# Signals its parent, pid 1, every process it can, and the daemon by host pid: none may reach
# anything outside the sandbox.
import os, signal, sys
from common import triton_works
triton_works()
got = []
for what, pid in [("parent", os.getppid()), ("pid 1", 1), ("all", -1)] + \
        [("daemon", int(a)) for a in sys.argv[1:]]:
    try:
        os.kill(pid, signal.SIGKILL)
        got.append(f"{what}: sent")
    except OSError as e:
        got.append(f"{what}: {e.strerror}")
print("; ".join(got))
