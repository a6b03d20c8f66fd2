"""A child process timed as the benchmarks count it: wall seconds, and the CPU seconds of
that child alone (``os.wait4``, not ``RUSAGE_CHILDREN``, which sums every child reaped)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], *, env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float, str]:
    """Run ``command``; its wall seconds, CPU seconds (user + system) and stdout. A failed
    command stops the benchmark with its stderr."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"{' '.join(command)} failed ({code}) in {cwd}: {err.read()[-2000:]}")
        return wall, usage.ru_utime + usage.ru_stime, out.read()
