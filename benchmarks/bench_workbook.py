"""The workbook path: a register of 1,000 proposals reviewed end to end, beside a bare read.

    .venv/bin/python -m benchmarks.bench_workbook            # full run (as in docs/BENCHMARKS.md)
    .venv/bin/python -m benchmarks.bench_workbook --quick    # a smoke run

The register is made by ``compliance export`` from synthetic proposals (:mod:`benchmarks.synth`,
seeded; list items left with no answer at all are dropped, as the export refuses them).
Measured, as the median of several passes after a warm-up:

- **bare read**: ``openpyxl.load_workbook(read_only=True)`` and every row of every sheet read as
  values: the least any tool built on openpyxl could do with the same cells;
- **read**: :func:`compliance.intake.proposals.read_proposals` on the register (intake, cell checks,
  validation, source maps);
Each measurement runs in a fresh process (as the CLI does), timed inside it.

- **end to end**: read, review every proposal with the durable engine, build the report and
  render it as JSON, as ``compliance review register.xlsx --format json`` does (the rule engine is
  built once per rule set, before timing, as the CLI does once per run): on one process per core,
  as the CLI does by default, and on one process (``--jobs 1``).

The ratio is the median over the passes of end to end / bare read, each pass timing both back to
back.

openpyxl writes text as inline strings; Excel and LibreOffice save a shared-string table, which
openpyxl reads about twice as fast. With ``--resave`` (needs ``libreoffice`` on PATH) the register
is also saved again by LibreOffice and measured the same way, so both kinds of file are reported.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

from compliance import Reviewer, __version__, load_rules
from compliance.batch.windows import Plan, default_jobs, run
from compliance.intake.proposals import read_proposals
from compliance.proposal.fields import get_in, split_path
from compliance.proposal.model import Proposal
from compliance.reports.stream import Stream
from compliance.workbook.layout import Layout, Table, tables
from compliance.workbook.write import build, to_bytes

from .synth import generate


def writable(proposal: Proposal) -> Proposal:
    """The proposal without list items that have no answer at all, or only notes (the synthetic
    drafts drop answers at random; a blank row or a row of notes is not an item, so the export
    refuses such items)."""
    data = proposal.model_dump(mode="json", exclude_none=True)
    for table in tables():
        parent = get_in(data, split_path(table.path)[:-1]) if "." in table.path else data
        name = split_path(table.path)[-1]
        if isinstance(parent, dict) and isinstance(parent.get(name), list):
            parent[name] = [item for item in parent[name] if item and not _note(table, item)]
    return Proposal.model_validate(data)


def _note(table: Table, item: dict[str, object]) -> bool:
    """Whether ``item`` answers only free text besides its name (a workbook reads that row back
    as a note, so the export refuses it)."""
    return {f"{table.path}[].{key}" for key in item} <= table.notes


def bare_read(path: Path) -> int:
    """Every cell of every sheet, as values, the way openpyxl reads fastest."""
    book = openpyxl.load_workbook(path, read_only=True)
    cells = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells += len(row)
    book.close()
    return cells


def end_to_end(path: Path, reviewer: Reviewer, jobs: int) -> int:
    """The review as the CLI runs it: the batch flows to a JSON report."""
    spool = io.BytesIO()
    plan = Plan(reviewer, (Stream("json", reviewer.ruleset.domain_title),))
    result = run(plan, [str(path)], [spool], jobs)
    return len(spool.getvalue()) + result.proposals


def timed_in_child(kind: str, path: Path, jobs: int) -> float:
    """Seconds one measurement takes, timed inside a fresh process: each starts with a clean heap,
    as the CLI does, so no measurement pays for the objects another one left behind. Start-up,
    imports and building the rule engine are not timed (the CLI does those once per run)."""
    command = [sys.executable, "-m", "benchmarks.bench_workbook", "--child", kind, str(path)]
    done = subprocess.run(
        [*command, "--jobs", str(jobs)], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def child(kind: str, path: Path, jobs: int) -> float:
    """The body of :func:`timed_in_child`, in the child process."""
    with Reviewer(load_rules()) as reviewer:
        bare_read(path)  # the file in the page cache, as for every other measurement
        start = time.perf_counter()
        if kind == "bare":
            bare_read(path)
        elif kind == "read":
            read_proposals([str(path)])
        else:
            end_to_end(path, reviewer, jobs)
        return time.perf_counter() - start


def measure(path: Path, passes: int) -> dict[str, float]:
    """Medians over ``passes``, each pass timing the bare read, intake and the end-to-end
    review (on every core, and in one process) back to back, so that the ratios compare runs
    made under the same conditions on a machine whose speed drifts."""
    jobs = default_jobs()
    runs: dict[str, list[float]] = {"bare": [], "read": [], "all": [], "one": []}
    for _ in range(passes):
        runs["bare"].append(timed_in_child("bare", path, 1))
        runs["read"].append(timed_in_child("read", path, 1))
        runs["all"].append(timed_in_child("review", path, jobs))
        runs["one"].append(timed_in_child("review", path, 1))
    median = {key: statistics.median(values) for key, values in runs.items()}
    ratios = [a / b for a, b in zip(runs["all"], runs["bare"], strict=True)]
    ratios_one = [a / b for a, b in zip(runs["one"], runs["bare"], strict=True)]
    return {
        "bytes": path.stat().st_size,
        "cells": bare_read(path),
        "bare_read_s": round(median["bare"], 3),
        "read_s": round(median["read"], 3),
        "jobs": jobs,
        "end_to_end_s": round(median["all"], 3),
        "ratio": round(statistics.median(ratios), 2),
        "end_to_end_one_job_s": round(median["one"], 3),
        "ratio_one_job": round(statistics.median(ratios_one), 2),
    }


def cli_seconds(path: Path) -> float:
    """Wall clock of the real command, start-up and engine build included."""
    command = [sys.executable, "-m", "compliance", "review", str(path), "--format", "json"]
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
    return round(time.perf_counter() - start, 2)


def resave(path: Path, directory: Path) -> Path | None:
    """The register saved again by LibreOffice (shared strings, as Excel saves), if installed."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        return None
    out = directory / "resaved"
    out.mkdir()
    subprocess.run(
        [office, "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        check=True,
        capture_output=True,
        env={**os.environ, "HOME": str(directory / "office-home")},
        timeout=300,
    )
    return out / path.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=1000, help="rows of the register")
    parser.add_argument("--passes", type=int, default=5, help="timed passes (median)")
    parser.add_argument("--resave", action="store_true", help="also measure a LibreOffice save")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(child(args.child[0], Path(args.child[1]), args.jobs))
        return 0
    count, passes = (50, 1) if args.quick else (args.proposals, args.passes)
    results: dict[str, object] = {
        "tool": __version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "proposals": count,
        "passes": passes,
    }
    with tempfile.TemporaryDirectory() as tmp:
        register = Path(tmp) / "register.xlsx"
        start = time.perf_counter()
        proposals = [writable(p) for p in generate(count)]
        register.write_bytes(to_bytes(build(Layout.register, proposals)))
        results["export_s"] = round(time.perf_counter() - start, 2)
        results["exported"] = measure(register, passes)
        results["exported"]["cli_s"] = cli_seconds(register)  # type: ignore[index]
        if args.resave:
            again = resave(register, Path(tmp))
            if again is None:
                results["resaved"] = "libreoffice not found"
            else:
                results["resaved"] = measure(again, passes)
                results["resaved"]["cli_s"] = cli_seconds(again)  # type: ignore[index]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for key, value in results.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for name, number in value.items():
                print(f"  {name:<22} {number}")
        else:
            print(f"{key:<16} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
