"""``compliance daemon``: keep the tool warm in one background process, so that each command
starts in milliseconds instead of half a second.

Most of a one-proposal review is start-up: importing pydantic and building the contract's model
classes, reading the rule set. The daemon pays it once. It listens on a Unix socket in a
directory only its user can enter (:func:`compliance.launch.socket_path`); for each command the
entry point (:mod:`compliance.launch`) sends, it forks a child that takes over the caller's
standard streams, working directory and environment, runs :func:`compliance.cli.main` as the
command would have run it, and sends back the exit code. The child ends with the command, so
nothing a command reads stays in the daemon, and the daemon's memory does not grow with the
commands it serves. Only the daemon's user may connect (the kernel's peer credentials); a
daemon whose installed code changed since it started refuses commands (they run in their own
process) and stops.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import locale
import os
import signal
import socket
import stat
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from compliance import launch
from compliance.errors import InputError
from compliance.exitcodes import ExitCode

#: Commands whose modules the daemon imports before it listens (``serve`` and ``daemon`` are
#: never run by it: a server of its own would outlive the child).
_NOT_RUN = frozenset({"serve", "daemon"})
_WARM_MODULES = (
    "compliance.reports.text",
    "compliance.reports.markdown",
    "compliance.reports.html",
    "compliance.reports.junit",
    "compliance.reports.sarif",
    "compliance.reports.xlsx",
    "compliance.workbook.read",
)


@click.group("daemon")
def daemon_group() -> None:
    """Keep compliance warm in a background process: each command then starts in milliseconds.

    While a daemon runs, every `compliance` command of its user is run by it (in a child of
    its own, with the command's streams, directory and environment), with the same output and
    exit code. COMPLIANCE_DAEMON names another socket, or is `off` to never use one.
    """


@daemon_group.command("start")
@click.option(
    "--foreground",
    is_flag=True,
    help="Run in this process until stopped (for a service manager) instead of in the background.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    help="Stop after this many seconds without a command (0: never).",
)
def start(foreground: bool, idle_timeout: float) -> int:
    """Start the daemon (nothing to do if one is running)."""
    path = _path()
    if status_of(path) is not None:
        click.echo(f"compliance daemon: already running on {path}")
        return int(ExitCode.PASSED)
    if foreground:
        serve(path, idle_timeout)
        return int(ExitCode.PASSED)
    command = [sys.executable, "-m", "compliance", "daemon", "start", "--foreground"]
    command += ["--idle-timeout", repr(idle_timeout)]
    log = _prepare(path).parent / "daemon.log"
    import subprocess

    with log.open("ab") as err:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            env={**os.environ, launch.ENV: path},
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = status_of(path)
        if status is not None:
            click.echo(f"compliance daemon: listening on {path} (pid {status['pid']})")
            return int(ExitCode.PASSED)
        if child.poll() is not None:
            break
        time.sleep(0.05)
    raise InputError(f"the daemon did not start; see {log}")


@daemon_group.command("stop")
def stop() -> int:
    """Stop the daemon (nothing to do if none is running)."""
    path = _path()
    if _ask(path, {"op": "stop"}) is None:
        click.echo("compliance daemon: not running")
        return int(ExitCode.PASSED)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.lexists(path):
        time.sleep(0.02)
    click.echo("compliance daemon: stopped")
    return int(ExitCode.PASSED)


@daemon_group.command("status")
def status() -> int:
    """Whether a daemon is running, since when and how much it served (exit 2 if none is)."""
    path = _path()
    found = status_of(path)
    if found is None:
        raise InputError(f"no compliance daemon is running on {path}")
    click.echo(
        f"compliance daemon: running on {path}, pid {found['pid']}, "
        f"up {found['uptime']:.0f} s, {found['served']} commands served"
    )
    return int(ExitCode.PASSED)


# --------------------------------------------------------------------------- the server


def serve(path: str, idle_timeout: float) -> None:
    """Listen on ``path`` until stopped, idle for ``idle_timeout`` seconds, or stale."""
    directory = _prepare(path)
    if os.path.lexists(path):
        os.unlink(path)  # no daemon answered on it (start checked): a dead one's socket
    _warm(directory)
    snapshot = _snapshot()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(mask)
    listener.listen(64)
    bound = os.stat(path).st_ino
    state = {"pid": os.getpid(), "started": time.monotonic(), "served": 0}
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, _stop_now)
    try:
        while True:
            listener.settimeout(idle_timeout or None)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                break
            with conn:
                if _handle(conn, listener, snapshot, state) == "stop":
                    break
    except KeyboardInterrupt:  # Ctrl-C on a daemon in the foreground: a stop
        pass
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == bound:
                os.unlink(path)


def _stop_now(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(0)


def _handle(
    conn: socket.socket, listener: socket.socket, snapshot: object, state: dict[str, Any]
) -> str | None:
    """Answer one connection: a command to run, a status or a stop."""
    conn.settimeout(10)
    fds: list[int] = []
    try:
        if launch.peer_uid(conn) != os.getuid():
            return None
        message, fds = _receive(conn)
        op = message.get("op")
        if op == "status":
            uptime = time.monotonic() - state["started"]
            answer = {"pid": state["pid"], "uptime": uptime, "served": state["served"]}
            conn.sendall(json.dumps(answer).encode("utf-8") + b"\n")
            return None
        if op == "stop":
            conn.sendall(b"stopping\n")
            return "stop"
        argv = message.get("argv")
        if op != "run" or len(fds) != 3 or not isinstance(argv, list):
            return None
        if argv and argv[0] in launch.NOT_DELEGATED:
            return None
        if not _same_install(message, snapshot):
            conn.sendall(launch.STALE)
            return "stop"
        if os.fork() == 0:
            _child(conn, listener, fds, message)
        state["served"] += 1
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # the caller runs the command itself
    finally:
        for fd in fds:
            os.close(fd)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _address = socket.recv_fds(conn, 65536, 3)
    try:
        if len(data) < 4:
            raise ValueError("no length")
        (size,) = struct.unpack("!I", data[:4])
        if size > launch.MAX_MESSAGE:
            raise ValueError("too large")
        body = bytearray(data[4:])
        while len(body) < size:
            chunk = conn.recv(min(size - len(body), 1 << 20))
            if not chunk:
                raise ValueError("cut short")
            body += chunk
        message = json.loads(bytes(body[:size]))
        if not isinstance(message, dict):
            raise ValueError("not an object")
        return message, fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def _child(
    conn: socket.socket, listener: socket.socket, fds: list[int], message: dict[str, Any]
) -> NoReturn:
    """Run one command in the forked child, as the caller's process would, and exit."""
    code: int = int(ExitCode.INTERNAL_ERROR)
    try:
        listener.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
        os.chdir(message["cwd"])
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in message["env"].items()})
        time.tzset()
        with contextlib.suppress(locale.Error):
            locale.setlocale(locale.LC_CTYPE, "")
        sys.stdin, sys.stdout, sys.stderr = _streams(message["streams"])[:3]
        argv = [str(arg) for arg in message["argv"]]
        sys.argv = ["compliance", *argv]
        conn.settimeout(None)
        conn.sendall(launch.STARTED)
        threading.Thread(target=_watch, args=(conn,), daemon=True).start()
        from compliance.cli import main

        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(ExitCode.INTERNAL_ERROR)
    except BaseException:
        code = int(ExitCode.INTERNAL_ERROR)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                code = code or int(ExitCode.INTERNAL_ERROR)
        with contextlib.suppress(BaseException):
            conn.sendall(f"exit {code}\n".encode("ascii"))
        os._exit(0)


def _watch(conn: socket.socket) -> None:
    """End the child when the caller goes away (its socket closed: Ctrl-C, killed)."""
    with contextlib.suppress(OSError):
        while conn.recv(1024):
            pass
    os._exit(int(ExitCode.INTERNAL_ERROR))


def _streams(shapes: list[list[Any]]) -> list[io.TextIOWrapper[Any]]:
    """Standard streams on descriptors 0 to 2 set up as the caller's interpreter set up its own."""
    made: list[io.TextIOWrapper[Any]] = []
    for fd, (encoding, errors, line_buffering) in enumerate(shapes):
        raw = io.FileIO(fd, "wb" if fd else "rb", closefd=False)
        buffered = io.BufferedWriter(raw) if fd else io.BufferedReader(raw)
        made.append(
            io.TextIOWrapper(
                buffered,
                encoding=str(encoding),
                errors=str(errors),
                line_buffering=bool(line_buffering),
            )
        )
    return made


# --------------------------------------------------------------------------- helpers


def _path() -> str:
    path = launch.socket_path()
    if path is None:
        raise InputError(
            f"no daemon here: {launch.ENV} is off, or this platform lacks Unix sockets or fork"
        )
    return path


def _prepare(path: str) -> Path:
    """The socket's directory, made if missing; refused unless only this user can enter it."""
    directory = Path(path).parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.lstat()
    if not (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077):
        raise InputError(f"{directory}: must be a directory of yours that no one else can enter")
    return directory


def _ask(path: str, message: dict[str, Any]) -> bytes | None:
    """The daemon's one-line answer to ``message``; None when no daemon of ours answers."""
    if not launch.private(path):
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(path)
            if launch.peer_uid(sock) != os.getuid():
                return None
            sock.sendall(launch.frame(message))
            with sock.makefile("rb") as reader:
                return reader.readline(65536) or None
    except OSError:
        return None


def status_of(path: str) -> dict[str, Any] | None:
    """The running daemon's pid, uptime and count of commands served; None if none answers."""
    answer = _ask(path, {"op": "status"})
    try:
        found = json.loads(answer) if answer else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _snapshot() -> object:
    """What identifies the installed code: the size and modification time of every file of the
    package (modules, templates, stylesheets), compiled caches aside."""
    found = []
    for directory, subdirectories, files in os.walk(os.path.dirname(launch.__file__)):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(files):
            info = os.stat(os.path.join(directory, name))
            found.append((directory, name, info.st_size, info.st_mtime_ns))
    return found


def _same_install(message: dict[str, Any], snapshot: object) -> bool:
    """Whether the caller runs the code this daemon imported, and that code is unchanged."""
    here = os.path.dirname(os.path.abspath(launch.__file__))
    if message.get("package") != here or message.get("executable") != sys.executable:
        return False
    try:
        return _snapshot() == snapshot
    except OSError:
        return False


def _warm(directory: Path) -> None:
    """Before listening: import what commands use, and review one of the built-in rules' own
    examples as ``compliance review`` does here (this directory's configuration, if any), so
    that the rule set is read and its engine built (and kept, for the children to take)."""
    from compliance import cli
    from compliance.rules import durable
    from compliance.rules.load import load_rules

    for name, target in cli.COMMANDS.items():
        if name not in _NOT_RUN:
            importlib.import_module(target.partition(":")[0])
    for module in _WARM_MODULES:
        importlib.import_module(module)
    durable.keep_closed_engines()
    example = next(e for rule in load_rules().rules for e in rule.examples)
    sample = directory / "warm-up.json"
    sample.write_text(example.proposal.model_dump_json(exclude_unset=True), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            cli.main(["review", str(sample), "--format", "json"])
    except SystemExit:
        pass
    finally:
        sample.unlink(missing_ok=True)
