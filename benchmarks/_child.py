"""Run one command and report its wall time, exit code, CPU time and peak RSS as one JSON line.

Usage: ``python benchmarks/_child.py CMD [ARG...]`` (the command's stdout/stderr are captured).
It is run by path (``benchmarks.common.spawn_child``), also from working directories outside the
repository, so it imports nothing but the standard library.

A fresh helper process is used per measurement so that ``getrusage(RUSAGE_CHILDREN)`` covers exactly
one child: ``ru_maxrss`` is a high-water mark (not additive), so its delta is only meaningful in a
process that has had no other child. On Linux it is in KiB, and it is the peak of the largest single
process among the child and the descendants it waited for (for a process pool: the largest worker
or the parent, whichever is bigger - not the sum).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def time_one() -> None:
    cmd = sys.argv[1:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {
        "wall_s": wall,
        "rc": proc.returncode,
        "maxrss_kib": after.ru_maxrss,
        "maxrss_before_kib": before.ru_maxrss,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "stdout_tail": proc.stdout.decode("utf-8", "replace")[-2000:],
        "stderr_tail": proc.stderr.decode("utf-8", "replace")[-2000:],
    }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    time_one()
