"""Run one command and report what it cost, as one JSON object on standard output.

    python benchmarks/launch.py '{"cmd": [...], "cwd": ..., "env": {...}, "stderr": FILE,
                                  "timeout": SECONDS, "max_bytes": BYTES}'

Used by :mod:`benchmarks.bench_cli`. A child's peak RSS counts the process it was forked from (the
kernel carries the parent's high-water mark across exec), so a measured command is started by this
small script (standard library only), not by the benchmark, which holds its proposal pool.

The command's standard output is read from a pipe and counted (bytes, lines), never stored; its
standard error goes to the named file. Reported: the exit code, wall seconds, CPU seconds and peak
RSS from ``os.wait4`` (the largest single process; children it waited for, such as forked
workers, included), the peak of the summed proportional set size (PSS) of its process tree sampled
every 0.1 s, and whether it was killed at the timeout. The address space of the launcher, and so
of the command and its children, is capped at ``max_bytes``.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from typing import Any


def tree_kib(pid: int) -> int:
    """The summed PSS (KiB) of ``pid`` and its descendants."""
    total, stack = 0, [pid]
    while stack:
        proc = stack.pop()
        try:
            with open(f"/proc/{proc}/smaps_rollup", encoding="ascii") as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{proc}/task"):
                with open(f"/proc/{proc}/task/{task}/children", encoding="ascii") as f:
                    stack.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            pass  # gone, or not ours to read
    return total


def main() -> int:
    spec: dict[str, Any] = json.loads(sys.argv[1])
    cap = int(spec["max_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    peak = [0]
    done = threading.Event()
    killed: list[bool] = []
    with open(spec["stderr"], "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            spec["cmd"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=spec["cwd"],
            env=spec["env"],
            start_new_session=True,
        )

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], tree_kib(proc.pid))

    def kill() -> None:
        killed.append(True)
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)

    threading.Thread(target=sample, daemon=True).start()
    timer = threading.Timer(float(spec["timeout"]), kill)
    timer.start()
    size = lines = 0
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    while chunk := os.read(fd, 1 << 20):
        size += len(chunk)
        lines += chunk.count(b"\n")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    timer.cancel()
    done.set()
    result = {
        "code": proc.returncode,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,
        "tree_kb": peak[0],
        "out_bytes": size,
        "out_lines": lines,
        "timed_out": bool(killed),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
