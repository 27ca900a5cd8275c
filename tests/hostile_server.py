"""A warm process that runs each hostile-input command in a child forked from it (run as a script
by :mod:`tests.hostile`, one per test process).

It warms up as ``compliance daemon`` does (:func:`compliance.commands.daemon.warm`: every
command's modules imported, one review made so the rule set is decoded and its engine built and
kept, warnings' registries cleared), then forks a child per request. The child caps its address space, takes the request's files as its standard streams,
its directory and its environment, and runs exactly ``compliance.cli.main(argv)``, as the
daemon's children do. This process reaps it with ``wait4`` and reports its exit status, CPU time
and peak resident memory. The child's CPU time is the command's own work (the imports are done);
its peak memory counts what it inherited (the kernel starts a forked child's high-water mark at
its parent's resident size), as a fresh process counts its imports.

Requests and answers are JSON lines on standard input and output: the child's pid is sent as soon
as it exists (so that the test can kill it at its deadline), the usage when it has ended.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

from compliance.commands import daemon
from compliance.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parent.parent


def child(request: dict[str, Any]) -> NoReturn:
    code = int(ExitCode.INTERNAL_ERROR)
    try:
        os.setsid()  # its batch workers with it: the test kills the whole group at the deadline
        limit = int(request["address_space"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        modes = (os.O_RDONLY, os.O_WRONLY, os.O_WRONLY)
        for target, name in enumerate(("stdin", "stdout", "stderr")):
            fd = os.open(request[name], modes[target])
            os.dup2(fd, target)
            os.close(fd)
        # The streams as an interpreter started with PYTHONIOENCODING=utf-8 and no terminal has them
        streams: list[list[Any]] = [
            ["utf-8", "strict", False, False],  # stdin
            ["utf-8", "strict", False, False],  # stdout
            ["utf-8", "backslashreplace", True, False],  # stderr, line by line
        ]
        daemon.become(request["cwd"], request["env"], streams)
        code = daemon.run_command(list(request["argv"]))
    finally:
        os._exit(code)


def main() -> None:
    # As the daemon warms up, with the tests' rule cache (not the user's)
    with tempfile.TemporaryDirectory() as scratch:
        daemon.warm(Path(scratch), keep=("COMPLIANCE_CACHE_DIR",))
        os.chdir(ROOT)  # warm() ends in the directory it was given
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            answers.close()
            child(request)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status, usage = os.wait4(pid, 0)
        answers.write(
            json.dumps(
                {
                    "status": status,
                    "cpu": usage.ru_utime + usage.ru_stime,
                    "peak_kb": usage.ru_maxrss,
                }
            )
            + "\n"
        )
        answers.flush()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in pytest: the test process ends it
    main()
