#!/usr/bin/python3
"""measure.py LABEL CMD... -- run CMD, print wall time and peak resident memory (one line)."""
import resource
import subprocess
import sys
import time

label, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
dt = time.monotonic() - t0
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
print(f"{label}: {dt:.2f} s wall, peak RSS {rss_mb:.1f} MB, exit {rc}")
sys.exit(rc)
