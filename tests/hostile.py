"""Running the real command on a hostile input under a ceiling of time and memory.

Each hostile-input test runs the ``compliance`` command in a child process whose address space
is capped (``RLIMIT_AS``), so a regression fails with a clear message instead of taking the
machine down, and whose CPU time and peak resident memory are read back from the kernel
(``wait4``). The ceilings are those issue-level budgets promise: an answer in under 5 s of CPU and
256 MB peak.

The child is forked from a warm process of this test process's own (:mod:`tests.hostile_server`),
as ``compliance daemon`` forks one per command, and runs ``compliance.cli.main`` with the test's
arguments, files as its standard streams, directory and environment. So its CPU time is the
command's own work on the input, without the half second of imports a fresh interpreter spends
(which the start-up benchmark and the latency tests measure), and its peak memory counts the
imported code it inherited, as a fresh process's counts its imports. 188 tests started a fresh
interpreter each before: 107 s of a test process's time, 32 s now.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

CPU_SECONDS = 5.0
"""At most this much CPU (user + system) for one hostile input (the command's own work)."""
PEAK_MB = 256
"""At most this peak resident memory for one hostile input."""
_ADDRESS_SPACE = 2 * 1024 * 1024 * 1024
"""The hard cap on the child's address space: a regression hits MemoryError, not the machine."""
_WALL_SECONDS = 60.0
"""A child still running after this long is killed (and the test fails)."""
_SERVER_SECONDS = 60.0
"""How long the server may take to fork a child, or to reap one that was killed."""


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


_servers: list[subprocess.Popen[bytes]] = []
"""This test process's warm server, once started (the last one, if it had to be restarted)."""
_pending = bytearray()
"""What the server sent that is not yet read as an answer."""
_lock = threading.Lock()
_log = tempfile.TemporaryFile()  # noqa: SIM115 (open while this test process lives)
"""The server's own standard error, shown if it ends (a warm-up that failed, say)."""


def _started() -> subprocess.Popen[bytes]:
    """This test process's warm server (:mod:`tests.hostile_server`), started on first use."""
    if not _servers or _servers[-1].poll() is not None:
        _log.seek(0)
        _log.truncate()
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("hostile_server.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=_log,  # its own errors: each command's go to that command's file
            cwd=ROOT,
            env=_ENV,
            bufsize=0,
        )
        _pending.clear()
        atexit.register(server.stdin.close)  # type: ignore[union-attr]
        _servers.append(server)
    return _servers[-1]


_ENV = {
    "PATH": "/usr/bin:/bin",
    "PYTHONIOENCODING": "utf-8",
    "COMPLIANCE_CACHE_DIR": os.environ.get("COMPLIANCE_CACHE_DIR", "off"),
    "COMPLIANCE_DAEMON": "off",  # its limits bound this process, not a daemon's
}


def _answer(server: subprocess.Popen[bytes], deadline: float) -> dict[str, Any]:
    """The server's next answer, or :class:`TimeoutError` at ``deadline``."""
    assert server.stdout is not None
    fd = server.stdout.fileno()
    while b"\n" not in _pending:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, 65536)
        if not chunk:
            _log.seek(0)
            said = _log.read().decode("utf-8", "replace")[-2000:]
            raise AssertionError(f"the hostile-input server ended: {said}")
        _pending.extend(chunk)
    line, _, rest = bytes(_pending).partition(b"\n")
    _pending[:] = rest
    answer: dict[str, Any] = json.loads(line)
    return answer


def run_bounded(*args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> Bounded:
    """Run ``compliance *args`` in a child capped at 2 GB of address space and 60 s of wall
    time; return its exit code, output, CPU time and peak memory."""
    with _lock, tempfile.TemporaryDirectory() as scratch:
        files = {name: Path(scratch) / name for name in ("stdin", "stdout", "stderr")}
        files["stdin"].write_bytes(stdin or b"")
        files["stdout"].touch()
        files["stderr"].touch()
        request = {
            "argv": list(args),
            "cwd": str(cwd),
            "env": _ENV,
            "address_space": _ADDRESS_SPACE,
            **{name: str(path) for name, path in files.items()},
        }
        server = _started()
        assert server.stdin is not None
        server.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
        pid = _answer(server, time.monotonic() + _SERVER_SECONDS)["pid"]
        try:
            usage = _answer(server, time.monotonic() + _WALL_SECONDS)
        except TimeoutError:
            try:
                os.killpg(pid, signal.SIGKILL)  # the child leads its group once it has begun
            except ProcessLookupError:
                os.kill(pid, signal.SIGKILL)
            _answer(server, time.monotonic() + _SERVER_SECONDS)
            raise AssertionError(f"still running after {_WALL_SECONDS:g} s: {args}") from None
        return Bounded(
            os.waitstatus_to_exitcode(usage["status"]),
            files["stdout"].read_bytes().decode("utf-8", "replace"),
            files["stderr"].read_bytes().decode("utf-8", "replace"),
            usage["cpu"],
            usage["peak_kb"] / 1024,
        )
