# Reads the daemon's database and another job's file by host path: every open must fail.
import sys
from common import triton_works
triton_works()
got = []
for p in sys.argv[1:]:
    try:
        with open(p, "rb") as f:
            got.append(f"escaped: read {len(f.read(64))} bytes of {p}")
    except OSError as e:
        got.append(f"{p}: {e.strerror}")
print("; ".join(got))
sys.exit(1 if any(g.startswith("escaped") for g in got) else 0)
