# Forks sleeping children until fork fails: the pids limit must stop it well before the host's.
import os, signal, sys
from common import triton_works
triton_works()
n = 0
try:
    while n < 100000:
        pid = os.fork()
        if pid == 0:
            signal.pause()
            os._exit(0)
        n += 1
except OSError as e:
    print(f"fork stopped after {n}: {e.strerror}")
    sys.exit(0)
print(f"escaped: {n} forks")
sys.exit(1)
