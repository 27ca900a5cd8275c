"""``compliance daemon``: keep the tool warm in one background process, so that each command
starts in milliseconds instead of half a second.

Most of a one-proposal review is start-up: importing pydantic and building the contract's model
classes, reading the rule set, building the engine. The daemon pays it once. It listens on a
Unix socket in a directory only its user can enter (:func:`compliance.launch.socket_path`); for
each command the entry point (:mod:`compliance.launch`) sends, it forks a child that takes over
the caller's standard streams, working directory, environment and umask, runs
:func:`compliance.cli.main` as the command would have run it, and sends back the exit code. The
child ends with the command (and, in its own process group, takes any workers it started with
it), so nothing a command reads stays in the daemon and the daemon's memory does not grow with
the commands it serves. Only the daemon's user may connect (the kernel's peer credentials); a
caller of another installation or with other interpreter settings is refused (its command runs
in its own process), and a daemon whose code or libraries changed since it started refuses
every command and stops.
"""

from __future__ import annotations

import contextlib
import fcntl
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
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any, NoReturn

import click

from compliance import launch
from compliance.errors import InputError
from compliance.exitcodes import ExitCode

_WARM_MODULES = (
    "compliance.reports.text",
    "compliance.reports.markdown",
    "compliance.reports.html",
    "compliance.reports.junit",
    "compliance.reports.sarif",
    "compliance.reports.xlsx",
    "compliance.workbook.read",
)
_MAX_PATH = 107
"""The longest socket path Linux binds (``sun_path`` holds 108 bytes with the final NUL)."""
_ANSWER_SECONDS = 15.0
"""How long ``status`` and ``stop`` wait for an answer (the daemon may be reading a slow
caller's command: up to :data:`_RECEIVE_SECONDS`)."""
_RECEIVE_SECONDS = 10.0


@click.group("daemon")
def daemon_group() -> None:
    """Keep compliance warm in a background process: each command then starts in milliseconds.

    While a daemon runs, every `compliance` command of its user and installation is run by it
    (in a child of its own, with the command's streams, directory, environment and umask), with
    the same output and exit code. COMPLIANCE_DAEMON names another socket, or is `off` to never
    use one.
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
    directory = _prepare(path)
    import subprocess

    # The daemon runs commands only for callers with its interpreter settings: this one's.
    # (UTF-8 mode, when the C locale turned it on here, is set by the variable: the locale the
    # daemon inherits is no longer C.)
    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    command = [sys.executable, *flags, "-m", "compliance", "daemon", "start", "--foreground"]
    command += ["--idle-timeout", repr(idle_timeout)]
    env = {**os.environ, launch.ENV: path}
    if sys.flags.utf8_mode:
        env["PYTHONUTF8"] = "1"
    log = directory / "daemon.log"

    with log.open("ab") as err:
        # Started in its own private directory: ``python -m`` puts the working directory first
        # on the import path, and the directory a user starts it from may hold anything.
        child = subprocess.Popen(
            command,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            env=env,
        )
    deadline = time.monotonic() + 60
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
    deadline = time.monotonic() + _ANSWER_SECONDS
    while os.path.lexists(path):
        if time.monotonic() > deadline:
            raise InputError(f"the daemon on {path} was asked to stop but has not")
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
    lock = (directory / (Path(path).name + ".lock")).open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise InputError(f"a daemon is already running or starting on {path}") from None
    snapshot = _snapshot()  # before importing anything it could change
    os.chdir(directory)
    if os.path.lexists(path):
        os.unlink(path)  # the lock is ours: a daemon that died left it
    warm(directory)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(mask)
    listener.listen(64)
    bound, me = os.stat(path).st_ino, os.getpid()
    state = {"pid": me, "started": time.monotonic(), "served": 0}
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
        if os.getpid() == me:  # never in a child on its way out
            listener.close()
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == bound:
                    os.unlink(path)
            lock.close()


def _stop_now(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(0)


def _handle(
    conn: socket.socket, listener: socket.socket, snapshot: object, state: dict[str, Any]
) -> str | None:
    """Answer one connection: a command to run, a status or a stop."""
    conn.settimeout(_RECEIVE_SECONDS)
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
        if op != "run" or not _runnable(message, fds):
            return None
        if _snapshot() != snapshot:  # the code or a library changed: never run the old one
            conn.sendall(launch.STALE)
            return "stop"
        if message["installation"] != launch.installation() or (
            message["interpreter"] != launch.interpreter()
        ):
            conn.sendall(launch.STALE)
            return None
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            if os.fork() == 0:
                _child(conn, listener, fds, message)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        state["served"] += 1
        return None
    except Exception:  # any bad message: the caller runs the command itself
        return None
    finally:
        for fd in fds:
            os.close(fd)


def _runnable(message: dict[str, Any], fds: list[int]) -> bool:
    """Whether a ``run`` message has what a child needs, each part of the right type."""
    argv, env, streams = message.get("argv"), message.get("env"), message.get("streams")
    return (
        len(fds) == 3
        and isinstance(argv, list)
        and all(isinstance(a, str) for a in argv)
        and not (argv and argv[0] in launch.NOT_DELEGATED)
        and isinstance(env, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
        and isinstance(message.get("cwd"), str)
        and isinstance(message.get("umask"), int)
        and isinstance(streams, list)
        and len(streams) == 3
        and all(isinstance(s, list) and len(s) == 4 for s in streams)
        and all(
            stat.S_ISCHR(m) or stat.S_ISFIFO(m) or stat.S_ISREG(m) or stat.S_ISSOCK(m)
            for m in (os.fstat(fd).st_mode for fd in fds)
        )
    )


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    flags = getattr(socket, "MSG_CMSG_CLOEXEC", 0)
    data, fds, _flags, _address = socket.recv_fds(conn, 65536, 3, flags)
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
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        os.setpgid(0, 0)  # its workers with it: _watch ends the whole group
        listener.close()
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        become(message["cwd"], message["env"], message["streams"], message["umask"])
        conn.settimeout(None)
        conn.sendall(launch.STARTED)
        threading.Thread(target=_watch, args=(conn,), daemon=True).start()
        code = run_command(list(message["argv"]))
    except BaseException:
        code = int(ExitCode.INTERNAL_ERROR)
    finally:
        with contextlib.suppress(BaseException):
            conn.sendall(f"exit {code}\n".encode("ascii"))
        os._exit(0)


def run_command(argv: list[str]) -> int:
    """Run one command as ``compliance`` does in a process of its own (``compliance.cli.main``,
    which maps every error to its exit code), flush its standard streams and return its exit
    code: an internal error for anything else, and for a pass whose output was not written."""
    sys.argv = ["compliance", *argv]
    code = int(ExitCode.INTERNAL_ERROR)
    try:
        from compliance.cli import main

        main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(ExitCode.INTERNAL_ERROR)
    except BaseException:
        code = int(ExitCode.INTERNAL_ERROR)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or int(ExitCode.INTERNAL_ERROR)
    return code


def become(
    cwd: str, env: dict[str, str], streams: list[list[Any]], umask: int | None = None
) -> None:
    """Take the caller's working directory, environment (with its time zone and locale), umask
    and standard streams (on descriptors 0 to 2, already in place) in a forked child."""
    os.chdir(cwd)
    if umask is not None:
        os.umask(umask)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    with contextlib.suppress(locale.Error):
        locale.setlocale(locale.LC_CTYPE, "")
    sys.stdin, sys.stdout, sys.stderr = _streams(streams)[:3]


def _watch(conn: socket.socket) -> None:
    """End the child and its workers when the caller goes away (Ctrl-C, killed)."""
    with contextlib.suppress(OSError):
        while conn.recv(1024):
            pass
    os.killpg(os.getpgid(0), signal.SIGKILL)


def _streams(shapes: list[list[Any]]) -> list[io.TextIOWrapper[Any]]:
    """Standard streams on descriptors 0 to 2 set up as the caller's interpreter set up its own."""
    made: list[io.TextIOWrapper[Any]] = []
    for fd, (encoding, errors, line_buffering, write_through) in enumerate(shapes):
        raw = io.FileIO(fd, "wb" if fd else "rb", closefd=False)
        buffered = io.BufferedWriter(raw) if fd else io.BufferedReader(raw)
        made.append(
            io.TextIOWrapper(
                buffered,
                encoding=str(encoding),
                errors=str(errors),
                line_buffering=bool(line_buffering),
                write_through=bool(write_through),
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
    if len(os.fsencode(path)) > _MAX_PATH:
        raise InputError(f"{path}: a socket path may be at most {_MAX_PATH} bytes long")
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
            sock.settimeout(_ANSWER_SECONDS)
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
    keys = {"pid": int, "uptime": float, "served": int}
    if not isinstance(found, dict) or not all(isinstance(found.get(k), t) for k, t in keys.items()):
        return None
    return found


def _snapshot() -> object:
    """What identifies the code a command would run: the size and modification time of every
    file of the package (modules, templates, stylesheets; compiled caches aside), and the
    modification time of each library directory on the import path (``site-packages``:
    installing, upgrading or removing a library changes its entries)."""
    found: list[object] = []
    for directory, subdirectories, files in os.walk(os.path.dirname(launch.__file__)):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(files):
            info = os.stat(os.path.join(directory, name))
            found.append((directory, name, info.st_size, info.st_mtime_ns))
    for entry in sys.path:
        if os.path.basename(entry) in ("site-packages", "dist-packages"):
            with contextlib.suppress(OSError):
                found.append((entry, os.stat(entry).st_mtime_ns))
    return found


def warm(directory: Path, keep: tuple[str, ...] = ()) -> None:
    """Before listening: import what commands use, and review one of the built-in rules' own
    examples (the default rules and settings: no configuration file, no ``COMPLIANCE_*``
    variable but those named in ``keep``, in an empty directory made in ``directory``, nothing
    written) so that the rule set is read and its engine built and kept for the children to
    take."""
    from compliance import cli
    from compliance.rules import durable
    from compliance.rules.load import load_rules

    for name, target in cli.COMMANDS.items():
        if name not in launch.NOT_DELEGATED:
            importlib.import_module(target.partition(":")[0])
    for module in _WARM_MODULES:
        importlib.import_module(module)
    durable.keep_closed_engines()
    example = next(e for rule in load_rules().rules for e in rule.examples)
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(dir=directory) as empty:
        sample = Path(empty) / "warm-up.json"
        sample.write_text(example.proposal.model_dump_json(exclude_unset=True), encoding="utf-8")
        os.environ.clear()
        os.environ.update(
            {k: v for k, v in saved.items() if k in keep or not k.startswith("COMPLIANCE_")}
        )
        try:
            os.chdir(empty)
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                cli.main(["review", str(sample), "--no-config", "--format", "json"])
        except SystemExit:
            pass
        finally:
            os.chdir(directory)
            os.environ.clear()
            os.environ.update(saved)
    # A warning is shown once per place (the filters' registries): what the warm-up showed,
    # each command shows again. The filters themselves (-W, PYTHONWARNINGS) stay.
    getattr(warnings, "onceregistry", {}).clear()
    for loaded in list(sys.modules.values()):
        registry = getattr(loaded, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()
