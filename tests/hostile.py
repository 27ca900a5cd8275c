"""Running the real command on a hostile input under a ceiling of time and memory.

Each hostile-input test runs ``python -m compliance`` in a child process whose address space is
capped (``RLIMIT_AS``), so a regression fails with a clear message instead of taking the machine
down, and whose CPU time and peak resident memory are read back from the kernel (``wait4``). The
ceilings are those issue-level budgets promise: an answer in under 5 s of CPU and 256 MB peak.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
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


_LAUNCHER = """
import json, os, resource, subprocess, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
child = subprocess.Popen(sys.argv[3:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[2], "w") as out:
    json.dump({"status": status, "cpu": usage.ru_utime + usage.ru_stime,
               "peak_kb": usage.ru_maxrss}, out)
"""
"""Runs the command and reports its rusage. A child's peak memory counts the memory of the
process it was forked from (the kernel carries the parent's high-water mark across ``exec``), so
the command is started by this small launcher, not by the test process, which grows to hundreds of
megabytes in a full run."""


def run_bounded(*args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> Bounded:
    """Run ``compliance *args`` in a child capped at 2 GB of address space and 60 s of wall
    time; return its exit code, output, CPU time and peak memory."""
    with (
        tempfile.TemporaryFile() as source,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        source.write(stdin or b"")
        source.seek(0)
        usage_path = Path(scratch) / "usage.json"
        launcher = [sys.executable, "-c", _LAUNCHER, str(_ADDRESS_SPACE), str(usage_path)]
        proc = subprocess.Popen(
            [*launcher, sys.executable, "-m", "compliance", *args],
            stdin=source,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONIOENCODING": "utf-8",
                "COMPLIANCE_CACHE_DIR": os.environ.get("COMPLIANCE_CACHE_DIR", "off"),
                "COMPLIANCE_DAEMON": "off",  # its limits bound this process, not a daemon's
            },
            start_new_session=True,
        )
        try:
            proc.wait(timeout=_WALL_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError(f"still running after {_WALL_SECONDS:.0f} s: {args}") from None
        usage = json.loads(usage_path.read_text(encoding="utf-8"))
        out.seek(0)
        err.seek(0)
        return Bounded(
            os.waitstatus_to_exitcode(usage["status"]),
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            usage["cpu"],
            usage["peak_kb"] / 1024,
        )
