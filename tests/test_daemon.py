"""``compliance daemon``: commands run by a warm daemon give exactly what they give alone.

A real daemon on a socket in the test's own directory, real ``python -m compliance`` processes
as a workflow starts them; the daemon's count of commands served proves it ran each one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import launch
from compliance.commands import daemon as daemon_command
from compliance.exitcodes import ExitCode
from compliance.rules import cache as rulecache
from compliance.rules import durable
from compliance.rules.compiler import compile_ruleset
from compliance.rules.ruleset import RuleSet
from tests.conftest import CLI_ENV, FIXTURES, ROOT, Run, run_cli


def _env(socket_path: Path | str) -> dict[str, str]:
    env = {**CLI_ENV, launch.ENV: str(socket_path)}
    if "PYTHONPATH" in os.environ:  # a checkout other than the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _run(
    env: dict[str, str], *args: str, stdin: str = "", cwd: Path = ROOT, umask: int = 0o022
) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "compliance", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
        umask=umask,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _served(env: dict[str, str]) -> int:
    shown = _run(env, "daemon", "status")
    assert shown.code == 0, shown.err
    found = re.search(r"(\d+) commands served", shown.out)
    assert found, shown.out
    return int(found.group(1))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A daemon of its own, started as a user starts one; stopped at the end."""
    home = tmp_path_factory.mktemp("daemon")
    home.chmod(0o700)
    env = _env(home / "d.sock")
    # Started from a project whose configuration keeps decision records, with a report file in
    # the environment and a module Python could import: the daemon runs and writes none of it.
    project = tmp_path_factory.mktemp("project")
    (project / "compliance.toml").write_text('[records]\ndirectory = "records"\n', encoding="utf-8")
    (project / "yaml.py").write_text("open('planted-ran', 'w').close()\n", encoding="utf-8")
    started = _run({**env, "COMPLIANCE_REVIEW_OUTPUT": "warm.txt"}, "daemon", "start", cwd=project)
    assert started.code == 0, started.err
    assert started.out.startswith(f"compliance daemon: listening on {home / 'd.sock'} (pid ")
    assert sorted(p.name for p in project.iterdir()) == ["compliance.toml", "yaml.py"]
    assert sorted(p.name for p in home.iterdir()) == ["d.sock", "d.sock.lock", "daemon.log"]
    yield env
    stopped = _run(env, "daemon", "stop")
    assert (stopped.code, stopped.out) == (0, "compliance daemon: stopped\n")
    assert not (home / "d.sock").exists()


COMMANDS = [
    ("review", "fixtures/exemplary-community-policing.json"),
    ("review", "fixtures/flawed-refugee-data-sharing.json"),
    ("review", "fixtures/incomplete-coast-guard-training.json", "--format", "json"),
    ("review", "fixtures/workbooks/flawed-data-sharing-biometrics-left-behind.xlsx", "--brief"),
    ("review", "fixtures/no-such-file.json"),
    ("review", "fixtures/exemplary-community-policing.json", "--fail-on", "nonsense"),
    ("validate", "fixtures/flawed-refugee-data-sharing.json"),
    ("--version",),
    ("rules", "list"),
    ("no-such-command",),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_command_run_by_the_daemon_gives_what_it_gives_alone(
    daemon: dict[str, str], args: tuple[str, ...]
) -> None:
    before = _served(daemon)
    warm = _run(daemon, *args)
    assert _served(daemon) == before + 1  # the daemon ran it
    alone = _run({**daemon, launch.ENV: "off"}, *args)
    assert (warm.code, warm.out, warm.err) == (alone.code, alone.out, alone.err)


def test_standard_input_files_written_and_the_environment_are_the_callers(
    daemon: dict[str, str], tmp_path: Path
) -> None:
    proposal = (FIXTURES / "flawed-refugee-data-sharing.json").read_text(encoding="utf-8")
    before = _served(daemon)
    env = {**daemon, "COMPLIANCE_REVIEW_FAIL_ON": "blocker"}
    args = ("review", "-", "--format", "json", "-o", "report.json", "--format", "text")
    warm = _run(env, *args, "-o", "report.txt", stdin=proposal, cwd=tmp_path, umask=0o077)
    assert _served(daemon) == before + 1
    alone_dir = tmp_path / "alone"
    alone_dir.mkdir()
    off = {**env, launch.ENV: "off"}
    alone = _run(off, *args, "-o", "report.txt", stdin=proposal, cwd=alone_dir, umask=0o077)
    assert (warm.code, warm.out, warm.err) == (alone.code, alone.out, alone.err)
    for name in ("report.json", "report.txt"):
        ours, theirs = (d / name for d in (tmp_path, alone_dir))
        assert ours.read_bytes() == theirs.read_bytes()
        assert stat.S_IMODE(ours.stat().st_mode) == stat.S_IMODE(theirs.stat().st_mode) == 0o600
    assert (
        json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["threshold"] == "blocker"
    )


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _daemon_pid(env: dict[str, str]) -> int:
    found = re.search(r"pid (\d+)", _run(env, "daemon", "status").out)
    assert found
    return int(found.group(1))


def _waiting_review(env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    """A review reading standard input that stays open, and the daemon's child running it, once
    it has taken the command (a child killed before that never ran it: its caller runs the
    command itself). The child starts the thread that watches its caller right after telling
    the caller it took the command: a second thread is the sign."""
    daemon_pid = _daemon_pid(env)
    before = set(_children(daemon_pid))
    caller = subprocess.Popen(
        [sys.executable, "-m", "compliance", "review", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for child in set(_children(daemon_pid)) - before:
            with contextlib.suppress(OSError):
                if len(list(Path(f"/proc/{child}/task").iterdir())) >= 2:
                    return caller, child
        time.sleep(0.02)
    caller.kill()
    raise AssertionError("no child of the daemon took the command")


def test_a_child_killed_mid_command_is_an_internal_error_never_a_pass(
    daemon: dict[str, str],
) -> None:
    caller, child = _waiting_review(daemon)
    os.kill(child, signal.SIGKILL)
    out, err = caller.communicate(timeout=30)
    assert caller.returncode == ExitCode.INTERNAL_ERROR
    assert err == "error: the compliance daemon stopped before the command ended\n"
    assert out == ""


def test_a_caller_that_goes_away_ends_its_child(daemon: dict[str, str]) -> None:
    caller, child = _waiting_review(daemon)
    caller.kill()
    caller.wait(timeout=30)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(f"/proc/{child}").exists()


def test_a_file_descriptor_of_the_callers_own_is_read_by_the_caller(
    daemon: dict[str, str],
) -> None:
    """``<(...)`` in a shell names /dev/fd/N, which only the caller has: it runs the command."""
    before = _served(daemon)
    proposal = (FIXTURES / "exemplary-community-policing.json").read_bytes()
    read, write = os.pipe()
    os.write(write, proposal)
    os.close(write)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "compliance", "review", f"/dev/fd/{read}", "--brief"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=daemon,
            pass_fds=(read,),
            timeout=120,
            check=False,
        )
    finally:
        os.close(read)
    assert (done.returncode, done.stderr) == (0, "")
    assert "decision: APPROVE" in done.stdout
    assert _served(daemon) == before


def test_a_caller_killed_mid_batch_ends_the_batch_workers_too(
    daemon: dict[str, str], tmp_path: Path
) -> None:
    text = (FIXTURES / "flawed-refugee-data-sharing.json").read_text(encoding="utf-8")
    line = json.dumps(json.loads(text))
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        "".join(line.replace('"id": "', f'"id": "N{n}-', 1) + "\n" for n in range(3000)),
        encoding="utf-8",
    )
    daemon_pid = _daemon_pid(daemon)
    caller = subprocess.Popen(
        [sys.executable, "-m", "compliance", "review", str(batch), "--jobs", "2", "--no-fail"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=daemon,
    )
    deadline = time.monotonic() + 60
    group: list[int] = []
    while time.monotonic() < deadline and len(group) < 3:  # the child and its two workers
        group = [pid for child in _children(daemon_pid) for pid in [child, *_children(child)]]
        time.sleep(0.05)
    assert len(group) >= 3, group
    caller.kill()
    caller.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in group) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not [pid for pid in group if Path(f"/proc/{pid}").exists()]


def test_a_message_no_caller_sends_leaves_the_daemon_serving(daemon: dict[str, str]) -> None:
    path = daemon[launch.ENV]
    nested = b"[" * 300_000 + b"]" * 300_000
    for data in [
        launch.frame({"op": "run", "argv": "review", "env": {}}),
        launch.frame({"op": "run", "argv": [1, 2], "cwd": 3}),
        struct.pack("!I", len(nested)) + nested,
        struct.pack("!I", 10**9),
        b"\xff\xff",
    ]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(path)
            socket.send_fds(sock, [data], [0, 1, 2])
            sock.shutdown(socket.SHUT_WR)
            assert sock.makefile("rb").readline() == b""
    assert _run(daemon, "daemon", "status").code == 0


def test_memory_does_not_grow_with_the_commands_served(daemon: dict[str, str]) -> None:
    def rss_kb() -> int:
        status = Path(f"/proc/{_daemon_pid(daemon)}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert found
        return int(found.group(1))

    _run(daemon, "review", "fixtures/flawed-refugee-data-sharing.json")
    before = rss_kb()
    for _ in range(10):
        _run(daemon, "review", "fixtures/flawed-refugee-data-sharing.json")
    assert rss_kb() - before < 1024  # each command's memory was its child's


def test_another_installation_or_other_interpreter_settings_run_alone(
    daemon: dict[str, str],
) -> None:
    base = {"op": "run", "argv": ["--version"], "cwd": str(ROOT), "env": {}, "umask": 0o22}
    base |= {"streams": [["utf-8", "strict", False, False]] * 3}
    elsewhere = "/elsewhere/compliance\n" + sys.executable
    for differs in [
        {"installation": elsewhere, "interpreter": launch.interpreter()},
        {"installation": launch.installation(), "interpreter": [[0] * 18, [], []]},
    ]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(daemon[launch.ENV])
            socket.send_fds(sock, [launch.frame(base | differs)], [0, 1, 2])
            assert sock.makefile("rb").readline() == launch.STALE
    before = _served(daemon)  # still serving
    warned = _run({**daemon, "PYTHONWARNINGS": "error"}, "--version")
    assert warned.code == 0
    assert _served(daemon) == before  # -W error: its own process


def test_a_daemon_whose_code_changed_refuses_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """In process: a snapshot that no longer matches is code or a library changed."""
    from compliance.commands import daemon as server

    snapshots = iter([["before"], ["after"]])
    monkeypatch.setattr(server, "_snapshot", lambda: next(snapshots))
    message = {"op": "run", "argv": ["--version"], "cwd": "/", "env": {}, "umask": 0o22}
    message |= {"streams": [["utf-8", "strict", False, False]] * 3}
    left, right = socket.socketpair()
    with left, right:
        state = {"pid": 1, "started": 0.0, "served": 0}
        snapshot = server._snapshot()
        socket.send_fds(right, [launch.frame(message)], [0, 1, 2])
        assert server._handle(left, left, snapshot, state) == "stop"
        assert right.recv(64) == launch.STALE
        assert state["served"] == 0


def test_a_socket_in_a_directory_others_can_enter_is_never_used(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    env = _env(tmp_path / "d.sock")
    refused = _run(env, "daemon", "start")
    assert refused.code == ExitCode.INVALID_INPUT
    assert refused.err == (
        f"error: {tmp_path}: must be a directory of yours that no one else can enter\n"
    )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as planted:
        planted.bind(str(tmp_path / "d.sock"))  # someone's socket where ours would be
        planted.listen(1)
        assert not launch.private(str(tmp_path / "d.sock"))
        assert launch.delegate(str(tmp_path / "d.sock"), ["--version"]) is None


def test_status_and_stop_without_a_daemon(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    env = _env(tmp_path / "d.sock")
    assert _run(env, "daemon", "status") == Run(
        int(ExitCode.INVALID_INPUT),
        "",
        f"error: no compliance daemon is running on {tmp_path / 'd.sock'}\n",
    )
    assert _run(env, "daemon", "stop") == Run(0, "compliance daemon: not running\n", "")
    off = _run({**env, launch.ENV: "off"}, "daemon", "start")
    assert off.code == ExitCode.INVALID_INPUT
    assert off.err.startswith("error: no daemon here: COMPLIANCE_DAEMON is off")


def test_the_socket_path(tmp_path: Path) -> None:
    uid = os.getuid()
    assert launch.socket_path({"COMPLIANCE_DAEMON": "OFF"}) is None
    assert launch.socket_path({"COMPLIANCE_DAEMON": "/x/d.sock"}) == "/x/d.sock"
    assert launch.socket_path({"COMPLIANCE_DAEMON": "d.sock"}) == str(Path.cwd() / "d.sock")
    name = f"daemon-{zlib.crc32(launch.installation().encode()):08x}.sock"
    assert launch.socket_path({"XDG_RUNTIME_DIR": "/run/user/7"}) == (
        f"/run/user/7/compliance/{name}"
    )
    assert launch.socket_path({"TMPDIR": "/scratch"}) == f"/scratch/compliance-{uid}/{name}"
    assert launch.socket_path({}) == f"/tmp/compliance-{uid}/{name}"
    assert launch.INTERNAL_ERROR == ExitCode.INTERNAL_ERROR
    assert CLI_ENV[launch.ENV] == "off"  # no test's command meets a developer's own daemon


def test_a_kept_engine_is_taken_by_the_next_of_the_same_rules(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(durable, "_keeping", True)
    monkeypatch.setattr(durable, "_KEPT", {})
    plan = compile_ruleset(ruleset)
    view = json.loads((FIXTURES / "flawed-refugee-data-sharing.json").read_text(encoding="utf-8"))
    first = durable.DurableEngine(plan)
    expected = first.results(view)
    first.close()
    assert len(durable._KEPT) == 1
    second = durable.DurableEngine(plan)
    assert durable._KEPT == {}  # taken, not shared
    assert second._host is first._host
    assert second.results(view) == expected
    third = durable.DurableEngine(plan)  # none kept: built anew
    assert third._host is not second._host
    assert third.results(view) == expected
    third.close()
    second.close()
    assert len(durable._KEPT) == 1
    monkeypatch.setattr(durable, "KEPT_MAX", 1)
    fewer = dataclasses.replace(ruleset, rules=ruleset.rules[:3])
    durable.DurableEngine(compile_ruleset(fewer)).close()
    assert len(durable._KEPT) == 1  # full: another rule set's engine is deleted, not kept


def test_a_cache_entry_read_again_is_checked_again_and_decoded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ruleset: RuleSet
) -> None:
    monkeypatch.setenv(rulecache.ENV, str(tmp_path))
    monkeypatch.setattr(rulecache, "_DECODED", {})
    rulecache.store("k" * 64, ruleset)
    first = rulecache.load("k" * 64)
    assert first is not None
    assert first == ruleset
    assert rulecache.load("k" * 64) is first
    entry = next(tmp_path.glob("*.ruleset.json"))
    entry.write_bytes(entry.read_bytes()[:-2] + b"x\n")  # damaged: not trusted, even if decoded
    assert rulecache.load("k" * 64) is None


def test_a_second_start_finds_the_first_and_an_idle_daemon_stops(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    env = _env(tmp_path / "d.sock")
    assert _run(env, "daemon", "start", "--idle-timeout", "2").code == 0
    again = _run(env, "daemon", "start")
    assert again == Run(0, f"compliance daemon: already running on {tmp_path / 'd.sock'}\n", "")
    deadline = time.monotonic() + 30
    while (tmp_path / "d.sock").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not (tmp_path / "d.sock").exists()  # idle for 2 s: stopped, its socket removed
    assert _run(env, "daemon", "status").code == ExitCode.INVALID_INPUT


def test_a_socket_path_too_long_to_bind_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / ("d" * 120 + ".sock")
    refused = _run(_env(path), "daemon", "start")
    assert refused == Run(
        int(ExitCode.INVALID_INPUT),
        "",
        f"error: {path}: a socket path may be at most 107 bytes long\n",
    )


def test_a_daemon_that_does_not_stop_when_asked_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stop`` waits for the socket to go; one that answers and stays is an error, never a
    "stopped" (a second daemon started after it would find the first still serving)."""
    tmp_path.chmod(0o700)
    path = tmp_path / "d.sock"
    request = launch.frame({"op": "stop"})
    asked: list[bytes] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stubborn:
        stubborn.bind(str(path))
        path.chmod(0o600)
        stubborn.listen(1)

        def answer() -> None:
            conn, _ = stubborn.accept()
            with conn, conn.makefile("rb") as reader:
                asked.append(reader.read(len(request)))
                conn.sendall(b"stopping\n")  # and does not

        server = threading.Thread(target=answer)
        server.start()
        monkeypatch.setattr(daemon_command, "_ANSWER_SECONDS", 0.5)
        started = time.monotonic()
        got = run_cli("daemon", "stop", env={launch.ENV: str(path)})
        server.join()
    assert asked == [request]
    assert got == Run(
        int(ExitCode.INVALID_INPUT),
        "",
        f"error: the daemon on {path} was asked to stop but has not\n",
    )
    assert 0.5 <= time.monotonic() - started < 10


def test_a_second_daemon_starting_on_a_locked_socket_is_one_line(tmp_path: Path) -> None:
    """Two starts at once: the one that does not hold the socket's lock says so and exits 2
    (it never unlinks the socket of the one that does)."""
    tmp_path.chmod(0o700)
    path = tmp_path / "d.sock"
    with (tmp_path / "d.sock.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        got = run_cli(
            "daemon", "start", "--foreground", "--idle-timeout", "1", env={launch.ENV: str(path)}
        )
    assert got == Run(
        int(ExitCode.INVALID_INPUT),
        "",
        f"error: a daemon is already running or starting on {path}\n",
    )
    assert not path.exists()
