"""The ``compliance`` command's entry point: a running daemon does the work, or this process does.

``compliance daemon start`` keeps one process per user with the tool imported, its models built
and the built-in rule set read (:mod:`compliance.commands.daemon`). While it runs, a command
costs the interpreter's start and one round trip: this module, which imports only the standard
library, hands the daemon the command line, the working directory, the environment and this
process's standard streams themselves (their file descriptors), and exits with the code the
daemon sends back. The daemon forks a child for each command, which runs what
:func:`compliance.cli.main` would run here, reading and writing those streams directly.

Whenever the daemon does not take a command (none is running, the socket or its directory is
not this user's alone, the daemon is another installation's or runs with other interpreter
settings, its code or a library changed since it started, or the command names a file
descriptor of this process's own, such as ``/dev/fd/63``), the command runs in this process
instead, with nothing said: the daemon changes how soon an answer comes, never the answer. Once
the daemon has taken the command, an end without an exit code (its child killed) is an internal
error, exit 6, never a pass; this process ending first (Ctrl-C) ends the child and its workers.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import struct
import sys
import zlib
from typing import Any, NoReturn

ENV = "COMPLIANCE_DAEMON"
"""The daemon's socket path, or ``off`` for never using one; unset, :func:`socket_path`."""
STARTED = b"started\n"
"""What the daemon's child sends when it has taken the command; an exit line follows."""
STALE = b"stale\n"
"""What the daemon sends instead when it cannot run this installation's code."""
MAX_MESSAGE = 4 * 1024 * 1024
"""The largest command (its arguments and environment) the daemon reads."""
INTERNAL_ERROR = 6
"""``ExitCode.INTERNAL_ERROR``, without importing :mod:`compliance.exitcodes` on the fast path
(``tests/test_daemon.py`` checks that they are equal)."""
_CONNECT_SECONDS = 10.0
_PEER = struct.Struct("3i")
#: Arguments and option values that name one of this process's own descriptors: the daemon's
#: child has only the standard three, so a command naming another one runs here.
_OWN_DESCRIPTORS = ("/dev/fd/", "/proc/")


def installation() -> str:
    """This installation: the package's directory and the interpreter running it."""
    return f"{os.path.dirname(os.path.abspath(__file__))}\n{sys.executable}"


def socket_path(environ: Any = os.environ) -> str | None:
    """Where the daemon of this installation listens: ``$COMPLIANCE_DAEMON`` (made absolute),
    else ``compliance/daemon-<id>.sock`` in ``$XDG_RUNTIME_DIR``, else in
    ``$TMPDIR/compliance-<uid>`` (``<id>``: a checksum of :func:`installation`, so that two
    installations keep apart); None for ``off`` or where Unix sockets or fork are missing."""
    given = environ.get(ENV, "")
    if given.lower() == "off" or not supported():
        return None
    if given:
        return os.path.abspath(str(given))
    name = f"daemon-{zlib.crc32(installation().encode('utf-8')):08x}.sock"
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if runtime:
        return os.path.join(runtime, "compliance", name)
    temp = environ.get("TMPDIR", "") or "/tmp"
    return os.path.join(temp, f"compliance-{os.getuid()}", name)


def supported() -> bool:
    """Whether this platform has what the daemon needs (Unix sockets, fork, peer credentials)."""
    return all(
        hasattr(m, n) for m, n in [(socket, "AF_UNIX"), (os, "fork"), (socket, "SO_PEERCRED")]
    )


def private(path: str) -> bool:
    """Whether ``path`` is a socket of this user's in a directory only this user can enter."""
    try:
        node, parent = os.lstat(path), os.lstat(os.path.dirname(path) or ".")
    except OSError:
        return False
    uid = os.getuid()
    return (
        stat.S_ISSOCK(node.st_mode)
        and node.st_uid == uid
        and stat.S_ISDIR(parent.st_mode)
        and parent.st_uid == uid
        and not parent.st_mode & 0o077
    )


def peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end of a connected Unix socket."""
    _pid, uid, _gid = _PEER.unpack(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER.size)
    )
    return int(uid)


def frame(message: dict[str, Any]) -> bytes:
    """A message as sent: its length (4 bytes, big-endian), then its JSON."""
    body = json.dumps(message).encode("utf-8")
    return struct.pack("!I", len(body)) + body


def _streams() -> list[list[Any]]:
    """How this interpreter set up its standard streams, for the daemon's child to do the same."""
    made = []
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        made.append(
            [
                getattr(stream, "encoding", None) or "utf-8",
                getattr(stream, "errors", None) or "strict",
                bool(getattr(stream, "line_buffering", False)),
                bool(getattr(stream, "write_through", False)),
            ]
        )
    return made


def interpreter() -> list[Any]:
    """The interpreter's settings that change how code runs (``-X``, ``-W``, ``-O``, UTF-8
    mode, ...): the daemon runs a command only for a caller whose settings are its own."""
    return [list(sys.flags), list(sys.warnoptions), sorted(map(str, sys._xoptions.items()))]


def _names_own_descriptor(argv: list[str]) -> bool:
    values = [*argv, *(v for k, v in os.environ.items() if k.startswith("COMPLIANCE_"))]
    return any(mark in value for value in values for mark in _OWN_DESCRIPTORS)


def delegate(path: str, argv: list[str]) -> int | None:
    """The exit code of ``argv`` run by the daemon at ``path``; None when it did not take it."""
    if not private(path) or _names_own_descriptor(argv):
        return None
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    with sock:
        try:
            sock.settimeout(_CONNECT_SECONDS)
            sock.connect(path)
            if peer_uid(sock) != os.getuid():
                return None
            mask = os.umask(0o077)
            os.umask(mask)
            message = {
                "op": "run",
                "argv": argv,
                "cwd": os.getcwd(),
                "env": dict(os.environ),
                "umask": mask,
                "streams": _streams(),
                "interpreter": interpreter(),
                "installation": installation(),
            }
            data = frame(message)
            if len(data) > MAX_MESSAGE:
                return None
            sent = socket.send_fds(sock, [data], [0, 1, 2])
            sock.sendall(data[sent:])
            # Sent: from here the daemon may run the command, so this process must not run it
            # too. Its first line says whether it does (waited for as long as it takes).
            sock.settimeout(None)
            reader = sock.makefile("rb")
            if reader.readline(64) != STARTED:
                return None  # refused, or ended before its child took the command
        except (OSError, ValueError):
            return None
        try:
            line = reader.readline(64)
        except KeyboardInterrupt:  # closing the socket ends the daemon's child
            sys.stderr.write("\naborted\n")
            return INTERNAL_ERROR
        except OSError:
            line = b""
        word, _, number = line.decode("ascii", "replace").partition(" ")
        if word == "exit" and number.strip().isdigit():
            return int(number)
        sys.stderr.write("error: the compliance daemon stopped before the command ended\n")
        return INTERNAL_ERROR


NOT_DELEGATED = frozenset({"daemon", "serve"})
"""Commands always run in their own process: the daemon's own, and the HTTP service."""


def main() -> NoReturn:
    """Run the command: by the daemon when one is running for this installation, else here."""
    path = socket_path()
    argv = sys.argv[1:]
    if path is not None and not (argv and argv[0] in NOT_DELEGATED):
        try:
            code = delegate(path, argv)
        except KeyboardInterrupt:
            sys.stderr.write("\naborted\n")
            code = INTERNAL_ERROR
        if code is not None:
            sys.exit(code)
    from compliance.cli import main as run_here  # noqa: PLC0415 - only when no daemon took it

    run_here()
