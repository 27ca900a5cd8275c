"""Python 3.10-3.13: the durable engine where it loads (on 3.13 through the library the install
compiles), the reference evaluator where it cannot, said in the report, on stderr, in
``--version`` and in the service's ``/healthz``; an explicit ``--engine durable`` that cannot load
fails (exit 6), never switches. The failure to load is simulated by a ``durable_rules_engine``
module that raises on import, put first on the path of the command under test."""

from __future__ import annotations

import ctypes
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import __version__
from compliance.errors import EngineError
from compliance.exitcodes import ExitCode
from compliance.review.reviewer import Reviewer
from compliance.rules import durable as durable_engine
from compliance.rules.ruleset import RuleSet

from .conftest import FIXTURES, ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

SIMULATED = "simulated: undefined symbol: PyEval_CallObject"
REASON = f"durable_rules cannot be loaded on Python {platform.python_version()}: {SIMULATED}"
FLAWED = FIXTURES / "flawed-refugee-data-sharing.json"


@pytest.fixture
def no_durable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(durable_engine, "_IMPORT_ERROR", ImportError(SIMULATED))


@pytest.fixture(scope="module")
def broken_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose ``durable_rules_engine`` fails to import as it does on an interpreter
    the C extension cannot load on."""
    where = tmp_path_factory.mktemp("broken-durable")
    (where / "durable_rules_engine.py").write_text(
        f"raise ImportError({SIMULATED!r})\n", encoding="utf-8"
    )
    return where


def run(*args: str, path: Path | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    return subprocess.run(
        [sys.executable, "-m", "compliance", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=300,
    )


# ---------------------------------------------------------------------- choosing the engine


def test_auto_is_durable_where_it_loads() -> None:
    assert durable_engine.unavailable() is None
    assert durable_engine.resolve("auto") == ("durable", None)
    assert durable_engine.resolve("durable") == ("durable", None)
    assert durable_engine.resolve("reference") == ("reference", None)


def test_auto_falls_back_and_says_why(no_durable: None, ruleset: RuleSet) -> None:
    assert durable_engine.unavailable() == REASON
    assert durable_engine.resolve("auto") == ("reference", REASON)
    assert durable_engine.resolve("reference") == ("reference", None)
    with Reviewer(ruleset) as reviewer:
        assert (reviewer.engine, reviewer.fallback) == ("reference", REASON)
        assert reviewer.report([]).engine == "reference"


def test_explicit_durable_that_cannot_load_is_an_error(no_durable: None, ruleset: RuleSet) -> None:
    message = f"--engine durable: {REASON}; use --engine reference or --engine auto"
    with pytest.raises(EngineError) as caught:
        durable_engine.resolve("durable")
    assert caught.value.problems == [message]
    assert caught.value.exit_code == ExitCode.INTERNAL_ERROR
    with pytest.raises(EngineError) as caught:
        Reviewer(ruleset, engine="durable")
    assert caught.value.problems == [message]


def test_an_unknown_engine_is_refused(ruleset: RuleSet) -> None:
    with pytest.raises(ValueError, match="unknown engine 'drools'"):
        Reviewer(ruleset, engine="drools")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the real command


def test_version_names_the_engine() -> None:
    done = run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"compliance, version {__version__}\n"
        f"engine: durable (durable_rules 2.0.28, Python {platform.python_version()})\n"
    )


def test_version_names_the_fallback(broken_path: Path) -> None:
    done = run("--version", path=broken_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"compliance, version {__version__}\nengine: reference ({REASON})\n")


def test_review_falls_back_and_says_so(broken_path: Path) -> None:
    done = run("review", str(FLAWED), "--format", "json", path=broken_path)
    assert done.returncode == ExitCode.BLOCKED, done.stderr
    assert f"engine: the reference evaluator decides ({REASON})\n" in done.stderr
    report = json.loads(done.stdout)
    assert report["engine"] == "reference"
    # The same decision and findings as the durable engine gives.
    durable = run("review", str(FLAWED), "--format", "json")
    assert durable.returncode == ExitCode.BLOCKED
    assert "engine:" not in durable.stderr
    expected = json.loads(durable.stdout)
    assert expected["engine"] == "durable"
    assert report["reviews"] == expected["reviews"]


def test_text_report_names_the_reference_evaluator(broken_path: Path) -> None:
    done = run("review", str(FLAWED), path=broken_path)
    assert done.returncode == ExitCode.BLOCKED, done.stderr
    assert ", engine reference, " in done.stdout


def test_explicit_durable_fails_closed(broken_path: Path) -> None:
    done = run("review", str(FLAWED), "--engine", "durable", path=broken_path)
    assert done.returncode == ExitCode.INTERNAL_ERROR
    assert done.stdout == ""
    assert done.stderr == (
        f"error: --engine durable: {REASON}; use --engine reference or --engine auto\n"
    )


def test_explicit_reference_says_nothing_more(broken_path: Path) -> None:
    done = run("review", str(FLAWED), "--engine", "reference", "--format", "json", path=broken_path)
    assert done.returncode == ExitCode.BLOCKED
    assert "engine:" not in done.stderr
    assert json.loads(done.stdout)["engine"] == "reference"


def test_serve_with_explicit_durable_fails_before_listening(broken_path: Path) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    done = run(
        "serve", "--insecure-no-auth", "--port", "9", "--no-config", "--engine", "durable",
        path=broken_path,
    )  # fmt: skip
    assert done.returncode == ExitCode.INTERNAL_ERROR
    assert done.stderr.endswith(
        f"error: --engine durable: {REASON}; use --engine reference or --engine auto\n"
    )


@pytest.fixture(scope="module")
def fallback_server(broken_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from .test_service import Server, free_port, stop, wait_ready

    tmp = tmp_path_factory.mktemp("fallback-service")
    port = free_port()
    output = tmp / "server.log"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "PYTHONPATH": str(broken_path)}
    env["COMPLIANCE_CACHE_DIR"] = os.environ["COMPLIANCE_CACHE_DIR"]
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "compliance", "serve", "--port", str(port), "--no-config",
             "--insecure-no-auth", "--workers", "1",
             "--decision-log", str(tmp / "decisions.sqlite")],
            cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = wait_ready(Server(process, port, tmp / "decisions.sqlite", output))
    try:
        yield str(port)
    finally:
        stop(server)
    log = output.read_text(encoding="utf-8")
    assert f"WARNING: compliance.http: the reference evaluator decides: {REASON}\n" in log


@pytest.mark.slow
def test_healthz_names_the_engine(fallback_server: str) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", int(fallback_server), timeout=30)
    try:
        conn.request("GET", "/healthz")
        health = json.loads(conn.getresponse().read())
        body = FLAWED.read_bytes()
        conn.request("POST", "/v1/reviews", body=body, headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        report = json.loads(answer.read())
    finally:
        conn.close()
    assert health == {"status": "ok", "version": __version__, "engine": "reference"}
    assert answer.status == 200
    assert report["engine"] == "reference"


# ---------------------------------------------------------------------- Python 3.13 and later

needs_313 = pytest.mark.skipif(
    sys.version_info < (3, 13), reason="PyEval_CallObject exists before Python 3.13"
)


@needs_313
def test_durable_rules_imports_through_the_compiled_library() -> None:
    shim = Path(durable_engine.__file__).with_name(
        "_pyeval_shim" + str(__import__("sysconfig").get_config_var("EXT_SUFFIX"))
    )
    assert shim.is_file()
    assert durable_engine.unavailable() is None
    # Loaded into the global scope, where the durable_rules extension resolves the symbol.
    assert ctypes.CDLL(None).PyEval_CallObject is not None


@needs_313
def test_a_storage_callback_stops_the_process_instead_of_misreading_memory() -> None:
    # durable_rules, built against 3.13's headers, takes PyEval_CallObject's result as an int:
    # the library's definition stops the process rather than hand back a cut pointer.
    script = (
        "from compliance import durable_engine as d\n"
        "h = d._QuietHost()\n"
        "h.register_rulesets({'rs': {'r': {'all': [{'m': {'a': 1}}], 'run': lambda c: None}}})\n"
        "d._native.set_store_message_callback(h.get_ruleset('rs')._handle, lambda *a: 0)\n"
        "h.assert_fact('rs', {'a': 1, 'sid': '1'})\n"
        "print('not reached')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode < 0  # SIGABRT
    assert done.stdout == ""
    assert (
        "Fatal Python error: PyEval_CallObject: durable_rules called PyEval_CallObject (its "
        "storage callbacks), which Python 3.13 removed; compliance never installs those "
        "callbacks\n" in done.stderr
    )


def _python_313() -> str | None:
    """A Python 3.13 to build with: this one, pyenv's, or python3.13 on PATH."""
    if sys.version_info[:2] == (3, 13):
        return sys.executable
    found = sorted(Path.home().glob(".pyenv/versions/3.13.*/bin/python"))
    return str(found[-1]) if found else shutil.which("python3.13")


def _wheel(python: str, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
         "-w", str(out), str(ROOT)],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=600, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_the_313_wheel_carries_the_library_and_says_its_platform(tmp_path: Path) -> None:
    python = _python_313()
    if python is None:
        pytest.skip("no Python 3.13 on this machine")
    done = _wheel(python, tmp_path)
    assert done.returncode == 0, done.stderr
    [wheel] = tmp_path.glob("*.whl")
    assert "-cp313-cp313-" in wheel.name
    with zipfile.ZipFile(wheel) as archive:
        shims = [n for n in archive.namelist() if "_pyeval_shim" in n]
    assert len(shims) == 1
    assert re.fullmatch(r"compliance/_pyeval_shim\.cpython-313-.+\.so", shims[0])


@pytest.mark.slow
def test_a_313_build_without_a_compiler_fails_and_says_why(tmp_path: Path) -> None:
    python = _python_313()
    if python is None:
        pytest.skip("no Python 3.13 on this machine")
    done = _wheel(python, tmp_path, CC="/nonexistent/cc")
    assert done.returncode != 0
    assert (
        "compliance: on Python 3.13 and later the install compiles a small library that lets "
        "durable_rules 2.0.28 import, and it could not be compiled (durable_rules needs the same "
        "C compiler and Python headers to install). Install a C compiler and this Python's "
        "headers, or use Python 3.10-3.12." in done.stderr + done.stdout
    )
    assert list(tmp_path.glob("*.whl")) == []


@pytest.mark.slow
@pytest.mark.skipif(sys.version_info >= (3, 13), reason="the wheel is pure before Python 3.13")
def test_the_wheel_is_pure_python_before_313(tmp_path: Path) -> None:
    done = _wheel(sys.executable, tmp_path, CC="/nonexistent/cc")  # nothing to compile
    assert done.returncode == 0, done.stderr
    [wheel] = tmp_path.glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".so")]


def test_the_wrapper_never_installs_storage_callbacks(ruleset: RuleSet) -> None:
    host = durable_engine._QuietHost()
    with pytest.raises(EngineError, match="storage callbacks are not used by compliance"):
        host.set_store_message_callback(print)


# ---------------------------------------------------------------------- metadata and CI


def test_metadata_and_ci_name_the_same_pythons() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == ">=3.10"
    classified = sorted(
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert classified == ["3.10", "3.11", "3.12", "3.13"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    smoke = re.search(r"^for minor in ([\d. ]+); do$", ci, flags=re.MULTILINE)
    assert smoke is not None
    # The suite runs on CI's own Python (3.11); the smoke test on every other one.
    assert sorted([*smoke.group(1).split(), "3.11"]) == classified


def test_every_test_marked_slow_by_name_exists() -> None:
    from .conftest import FIRST, NOT_FAST, SLOW_MODULES, SLOW_TESTS

    sources = {path.stem: path.read_text(encoding="utf-8") for path in ROOT.glob("tests/test_*.py")}
    assert set(sources) >= SLOW_MODULES
    missing = [
        name
        for name in sorted(SLOW_TESTS | NOT_FAST | set(FIRST))  # and those sorted by name
        if not any(re.search(rf"^def {name}\(", text, re.MULTILINE) for text in sources.values())
    ]
    assert missing == []
