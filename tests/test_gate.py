"""The gate's settings: per-domain thresholds, several formats in one run, the config's gate keys,
``config show`` with origins, and the examples in docs/gate.md run as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, run_cli

BIOMETRICS = "fixtures/flawed-data-sharing-biometrics-left-behind.json"  # HO-F3-BIOMETRIC-ID
LIBYA = "fixtures/flawed-accountability-coast-guard-unvetted.json"  # HO-F4-LIBYA-LCG
EXEMPLARY = "fixtures/exemplary-community-policing.json"
INCOMPLETE = "fixtures/incomplete-coast-guard-training.json"
GATE = ROOT / "fixtures" / "gate"
GATE_DOC = (ROOT / "docs" / "gate.md").read_text(encoding="utf-8")


def decision(*args: str, cwd: Path = ROOT) -> tuple[int, str, dict[str, str]]:
    run = run_cli("review", *args, "--format", "json", cwd=cwd)
    assert run.out, run.err
    report = json.loads(run.out)
    ((review,),) = [report["reviews"]]
    return run.code, review["decision"], report["domain_thresholds"]


# HO-F4-LIBYA-LCG: violations ACC-006, ACC-007 (escalated), ACC-014 (high), MON-004 (low); questions
# HR-017 (blocker), ACC-018, ACC-050, ACC-051, CIV-004, CIV-005, CIV-006, HR-007 (high), and medium ones.
# HO-F3-BIOMETRIC-ID: violations DS-004, DS-011 (high), MON-006, ACC-008 (escalated) (medium),
# MON-004, TRN-005 (low); questions DS-018, DS-019 (high) and medium ones.
THRESHOLDS = [
    (LIBYA, [], 3, "reject", {}),
    (LIBYA, ["blocker"], 4, "needs_information", {}),
    (LIBYA, ["blocker", "accountability=high"], 3, "reject", {"accountability": "high"}),
    (
        LIBYA,
        ["accountability=blocker"],
        4,
        "needs_information",
        {"accountability": "blocker"},
    ),
    (
        LIBYA,
        ["ACCOUNTABILITY=Blocker", "monitoring=low"],
        3,
        "reject",
        {"accountability": "blocker", "monitoring": "low"},
    ),
    (BIOMETRICS, ["blocker", "monitoring=medium"], 3, "reject", {"monitoring": "medium"}),
    (
        BIOMETRICS,
        ["blocker", "transparency=medium"],
        0,
        "approve_with_conditions",
        {"transparency": "medium"},
    ),
    (
        BIOMETRICS,
        ["data_sharing=blocker"],
        0,
        "approve_with_conditions",
        {"data_sharing": "blocker"},
    ),
]


@pytest.mark.parametrize(("path", "fail_on", "code", "expected", "domains"), THRESHOLDS)
def test_a_domain_can_have_its_own_threshold(
    path: str, fail_on: list[str], code: int, expected: str, domains: dict[str, str]
) -> None:
    args = [a for value in fail_on for a in ("--fail-on", value)]
    assert decision(path, *args) == (code, expected, domains)


@pytest.mark.parametrize(
    ("fail_on", "message"),
    [
        (
            ["severe"],
            "--fail-on severe: 'severe' is not a severity (blocker, high, medium, low, info)",
        ),
        (["high", "low"], "--fail-on low: a default threshold is already given"),
        (
            ["data=high"],
            "--fail-on: 'data': no loaded rule has this domain (domains: accountability, ",
        ),
        (
            ["monitoring=low", "monitoring=high"],
            "--fail-on monitoring=high: the domain monitoring is given twice",
        ),
        (["monitoring="], "--fail-on monitoring=: '' is not a severity"),
    ],
)
def test_a_bad_threshold_is_an_error(fail_on: list[str], message: str) -> None:
    args = [a for value in fail_on for a in ("--fail-on", value)]
    run = run_cli("review", LIBYA, *args)
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith("error: " + message)


def test_junit_fails_by_the_domain_threshold() -> None:
    run = run_cli(
        "review",
        LIBYA,
        "--format",
        "junit",
        "--fail-on",
        "blocker",
        "--fail-on",
        "accountability=medium",
    )
    root = ET.fromstring(run.out)
    failed = sorted(
        case.get("name", "").split(":")[0]
        for case in root.iter("testcase")
        if case.find("failure") is not None
    )
    assert failed == ["ACC-006", "ACC-007", "ACC-014"]


# ------------------------------------------------------------------------------ several formats


def test_several_formats_in_one_run(tmp_path: Path) -> None:
    outs = {
        fmt: tmp_path / f"report.{ext}"
        for fmt, ext in [
            ("json", "json"),
            ("sarif", "sarif"),
            ("junit", "xml"),
            ("markdown", "md"),
            ("html", "html"),
            ("xlsx", "xlsx"),
        ]
    }
    args = [a for fmt in outs for a in ("--format", fmt)] + [
        a for out in outs.values() for a in ("-o", str(out))
    ]
    run = run_cli("review", BIOMETRICS, *args)
    written = ", ".join(str(out) for out in outs.values())
    assert (run.code, run.out, run.err) == (
        3,
        "",
        f"wrote {written}; 1 proposal: 1 reject; exit 3\n",
    )
    report = json.loads(outs["json"].read_text(encoding="utf-8"))
    assert report["reviews"][0]["decision"] == "reject"
    assert json.loads(outs["sarif"].read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert ET.parse(outs["junit"]).getroot().tag == "testsuites"
    assert outs["markdown"].read_text(encoding="utf-8").startswith("# Compliance review\n")
    assert outs["html"].read_text(encoding="utf-8").lower().startswith("<!doctype html>")
    assert outs["xlsx"].read_bytes()[:2] == b"PK"


def test_one_of_several_formats_may_go_to_stdout(tmp_path: Path) -> None:
    run = run_cli(
        "review",
        EXEMPLARY,
        "--format",
        "json",
        "--format",
        "markdown",
        "-o",
        str(tmp_path / "r.json"),
        "-o",
        "-",
    )
    assert run.code == 0
    assert run.out.startswith("# Compliance review\n")
    assert (
        json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["summary"]["proposals"] == 1
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "json", "--format", "sarif"],
            "2 formats need 2 --output options, one per format in the same order (- for standard output); got 0",
        ),
        (
            ["--format", "json", "--format", "sarif", "-o", "a.json"],
            "2 formats need 2 --output options",
        ),
        (
            ["--format", "json", "--format", "json", "-o", "a", "-o", "b"],
            "--format: each format may be given once",
        ),
        (
            ["--format", "json", "--format", "text", "-o", "-", "-o", "-"],
            "--output -: only one format can go to standard output",
        ),
        (
            ["--format", "json", "--format", "text", "-o", "same", "-o", "same"],
            "--output: two formats would be written to the same file",
        ),
        (["--format", "xlsx"], "a workbook is not written to the terminal; give --output FILE"),
    ],
)
def test_formats_and_outputs_must_pair(tmp_path: Path, args: list[str], message: str) -> None:
    run = run_cli("review", str(ROOT / EXEMPLARY), *args, cwd=tmp_path)
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith("error: " + message)
    assert list(tmp_path.iterdir()) == []  # nothing half written


# --------------------------------------------------------------------------------- config show


def test_config_show_gives_each_value_and_its_origin() -> None:
    run = run_cli("config", "show", "--as-of", "2026-11-21", "--record", "out/decisions", cwd=GATE)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines == [
        "config file              compliance.toml  [found]",
        "built-in rules           yes  [default]",
        "rule directories         (none)  [default]",
        "rule set                 compliance-core 2.0.0  [default]",
        "rules run                125 of 125  [default]",
        "disabled rules           (none)  [default]",
        "severity overrides       (none)  [default]",
        "threshold                high  [compliance.toml]",
        "domain thresholds        monitoring=medium  [compliance.toml]",
        "waivers file             waivers.yaml  [compliance.toml]",
        "waivers                  4  [compliance.toml]",
        "blocker waivers allowed  no  [default]",
        "record directory         out/decisions  [command line (--record)]",
        "waivers judged as of     2026-11-21  [command line (--as-of)]",
    ]


def test_config_show_json_and_the_command_line_overriding_the_file(tmp_path: Path) -> None:
    run = run_cli("config", "show", "--format", "json", "--fail-on", "medium", "--no-config")
    rows = {r["name"]: r for r in json.loads(run.out)["settings"]}
    assert rows["threshold"] == {
        "name": "threshold",
        "value": "medium",
        "origin": "command line (--fail-on)",
    }
    assert rows["config file"] == {"name": "config file", "value": None, "origin": "default"}
    assert rows["waivers file"]["value"] is None
    assert rows["waivers judged as of"]["origin"] == "default (today, UTC)"
    run = run_cli("config", "show", "--format", "json", "--fail-on", "low", cwd=GATE)
    rows = {r["name"]: r for r in json.loads(run.out)["settings"]}
    # the command line's default replaces the file's; the file's domain thresholds stay
    assert rows["threshold"] == {
        "name": "threshold",
        "value": "low",
        "origin": "compliance.toml and command line (--fail-on)",
    }
    assert rows["domain thresholds"]["value"] == {"monitoring": "medium"}


def test_a_domain_threshold_on_the_command_line_keeps_the_configs_default(
    tmp_path: Path,
) -> None:
    (tmp_path / "compliance.toml").write_text('[gate]\nfail_on = "low"\n', encoding="utf-8")
    # both violations are low; a threshold for a third domain leaves them to the config's default
    args = ("review", str(ROOT / BIOMETRICS), "--rule", "MON-004", "--rule", "TRN-005")
    assert run_cli(*args, cwd=tmp_path).code == 3
    assert run_cli(*args, "--fail-on", "accountability=low", cwd=tmp_path).code == 3
    assert run_cli(*args, "--fail-on", "medium", cwd=tmp_path).code == 0


def test_domains_that_differ_only_in_case_are_given_twice(tmp_path: Path) -> None:
    (tmp_path / "compliance.toml").write_text(
        '[gate]\nfail_on_domains = { DATA_SHARING = "low", data_sharing = "blocker" }\n',
        encoding="utf-8",
    )
    run = run_cli("config", "show", cwd=tmp_path)
    assert run.code == 2
    assert run.err == (
        "error: compliance.toml: gate.fail_on_domains: data_sharing is given twice\n"
    )


def test_config_show_validates_what_a_review_would(tmp_path: Path) -> None:
    (tmp_path / "compliance.toml").write_text(
        '[gate]\nfail_on = "severe"\nfail_on_domains = { data = "high" }\n[waivers]\nfile = "missing.yaml"\n[records]\ndir = "x"\n',
        encoding="utf-8",
    )
    run = run_cli("config", "show", cwd=tmp_path)
    assert run.code == 2
    assert run.err.splitlines() == [
        "error: compliance.toml: gate.fail_on: Input should be 'blocker', 'high', 'medium', 'low' or 'info'",
        "error: compliance.toml: records.dir: unknown key",
    ]
    (tmp_path / "compliance.toml").write_text(
        '[gate]\nfail_on_domains = { data = "high" }\n[waivers]\nfile = "missing.yaml"\n',
        encoding="utf-8",
    )
    run = run_cli("config", "show", cwd=tmp_path)
    assert run.err.splitlines() == [
        "error: compliance.toml: waivers.file: 'missing.yaml' is not a file (paths are relative to the config file)",
    ]
    (tmp_path / "compliance.toml").write_text(
        '[gate]\nfail_on_domains = { data = "high" }\n', encoding="utf-8"
    )
    run = run_cli("config", "show", cwd=tmp_path)
    assert run.err.startswith(
        "error: compliance.toml: gate.fail_on_domains: 'data': no loaded rule has this domain"
    )


def test_the_config_sets_the_record_directory(tmp_path: Path) -> None:
    (tmp_path / "compliance.toml").write_text(
        '[records]\ndirectory = "decisions"\n[gate]\nfail_on = "blocker"\n', encoding="utf-8"
    )
    run = run_cli("review", str(ROOT / BIOMETRICS), cwd=tmp_path)
    assert run.code == 0  # nothing at blocker
    assert len(list((tmp_path / "decisions").glob("*.json"))) == 1
    assert run_cli("verify-records", "decisions", cwd=tmp_path).code == 0


# ------------------------------------------------------------------------------ docs/gate.md


def _block(marker: str) -> str:
    found = re.search(
        rf"<!-- {marker}:begin -->\n```\w+\n(.*?)```\n<!-- {marker}:end -->", GATE_DOC, re.S
    )
    assert found, marker
    return found.group(1)


@pytest.mark.parametrize(
    ("proposal", "code", "said"),
    [
        (EXEMPLARY, 0, "compliance: approved (conditions, if any, in out/memo.md)"),
        (BIOMETRICS, 3, "compliance: rejected; findings in out/report.html"),
        (INCOMPLETE, 4, "compliance: needs information; questions in out/memo.md"),
        (
            "fixtures/no-such-file.json",
            2,
            "compliance: the review did not complete (exit 2); not approved",
        ),
    ],
)
def test_the_documented_workflow_step_works_as_written(
    tmp_path: Path, proposal: str, code: int, said: str
) -> None:
    script = tmp_path / "compliance-gate.sh"
    script.write_text(_block("gate-step"), encoding="utf-8")
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "compliance").exists()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        ["sh", str(script), str(ROOT / proposal), "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.splitlines()[-1] == said
    if code in (0, 3, 4):
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
            "decisions",
            "memo.md",
            "report.html",
            "report.json",
            "report.sarif",
        ]
        assert run_cli("verify-records", str(tmp_path / "out" / "decisions")).code == 0


def test_the_documented_ci_job_is_valid_and_uses_real_options() -> None:
    job = yaml.safe_load(_block("ci-job"))
    steps = job["jobs"]["review"]["steps"]
    (review,) = [s for s in steps if s.get("id") == "review"]
    command = " ".join(review["run"].replace("\\\n", " ").split())
    args = command.split("compliance review ", 1)[1].split(" echo ")[0].split()
    # the same arguments run here, on the fixtures, as the job would run them
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    out = tmp / f"ci-job-{os.getpid()}"
    shutil.rmtree(out, ignore_errors=True)
    (out / "out").mkdir(parents=True)
    (out / "proposals").mkdir()
    for name in (EXEMPLARY, BIOMETRICS):
        shutil.copy(ROOT / name, out / "proposals")
    run = run_cli("review", *args, cwd=out)
    assert run.code == 3, run.err
    assert sorted(p.name for p in (out / "out").iterdir()) == [
        "junit.xml",
        "memo.md",
        "report.html",
        "report.sarif",
    ]
    sarif = [s for s in steps if "upload-sarif" in s.get("uses", "")]
    assert sarif
    assert sarif[0]["with"]["sarif_file"] == "out/report.sarif"
    shutil.rmtree(out)


# ------------------------------------------------------------------- where reports are written


def test_a_symbolic_link_is_written_through_and_a_pipe_in_place(tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_text("old", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to("target.txt")
    run = run_cli("review", str(ROOT / EXEMPLARY), "-o", "link.txt", cwd=tmp_path)
    assert run.code == 0
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "target.txt").read_text(encoding="utf-8").startswith("compliance ")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    run = run_cli("review", str(ROOT / EXEMPLARY), "--format", "json", "-o", "pipe", cwd=tmp_path)
    reader.join(timeout=60)
    assert run.code == 0
    assert json.loads(got[0])["summary"]["proposals"] == 1
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_output_that_cannot_be_written_fails_before_anything_is_recorded(
    tmp_path: Path,
) -> None:
    run = run_cli(
        "review", str(ROOT / EXEMPLARY), "--format", "json", "--format", "html",
        "-o", "ok.json", "-o", "missing/r.html", "--record", "decisions", cwd=tmp_path,
    )  # fmt: skip
    assert (run.code, run.out) == (2, "")
    assert (
        run.err
        == "error: missing/r.html: cannot be written (no directory "
        + str(tmp_path / "missing")
        + ")\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    run = run_cli(
        "review", str(ROOT / EXEMPLARY), "--format", "xlsx", "--record", "decisions", cwd=tmp_path
    )
    assert run.code == 2
    assert not (tmp_path / "decisions").exists()
