"""Running the real command on a hostile input under a ceiling of time and memory.

Each hostile-input test runs ``python -m compliance`` in a child process whose address space is
capped (``RLIMIT_AS``), so a regression fails with a clear message instead of taking the machine
down, and whose CPU time and peak resident memory are read back from the kernel (``wait4``). The
ceilings are those issue-level budgets promise: an answer in under 5 s of CPU and 256 MB peak.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CPU_SECONDS = 5.0
"""At most this much CPU (user + system) for one hostile input, start-up included."""
PEAK_MB = 256
"""At most this peak resident memory for one hostile input."""
_ADDRESS_SPACE = 2 * 1024 * 1024 * 1024
"""The hard cap on the child's address space: a regression hits MemoryError, not the machine."""
_WALL_SECONDS = 60.0
"""A child still running after this long is killed (and the test fails)."""


@dataclass(frozen=True)
class Bounded:
    code: int
    out: str
    err: str
    cpu: float
    """User plus system CPU seconds of the child."""
    peak_mb: float
    """Peak resident set size of the child, in MB."""

    def within_budget(self) -> None:
        """Fail unless the run stayed under :data:`CPU_SECONDS` and :data:`PEAK_MB`."""
        assert self.cpu < CPU_SECONDS, f"took {self.cpu:.1f} s of CPU: {self.err[:300]}"
        assert self.peak_mb < PEAK_MB, f"peaked at {self.peak_mb:.0f} MB: {self.err[:300]}"


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_ADDRESS_SPACE, _ADDRESS_SPACE))


def run_bounded(*args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> Bounded:
    """Run ``compliance *args`` in a child capped at 2 GB of address space and 60 s of wall
    time; return its exit code, output, CPU time and peak memory."""
    with (
        tempfile.TemporaryFile() as source,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        source.write(stdin or b"")
        source.seek(0)
        proc = subprocess.Popen(
            [sys.executable, "-m", "compliance", *args],
            stdin=source,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
            preexec_fn=_limit,  # noqa: PLW1509 (the tests start no threads)
        )
        deadline = time.monotonic() + _WALL_SECONDS
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.kill(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise AssertionError(f"still running after {_WALL_SECONDS:.0f} s: {args}")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Bounded(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,
        )
