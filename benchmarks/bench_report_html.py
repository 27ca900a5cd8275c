"""The HTML report's render time beside earlier code: one saved batch report, both renderers.

    git worktree add ../html-base f9e94e8        # the string-built renderer, outside the repo
    .venv/bin/python -m benchmarks.bench_report_html --baseline-tree ../html-base --rounds 7
    git worktree remove ../html-base
    .venv/bin/python -m benchmarks.bench_report_html --quick    # a smoke run, this tree alone

The report is a batch of synthetic proposals (:mod:`benchmarks.synth`, seed 2026; 200 by
default) reviewed to JSON by this tree's ``compliance review``, once; ``--report`` renders one
already saved. Each round starts a fresh process per source tree (this one, then the
``--baseline-tree``; the other way round every other round, so load affects both alike), which
reads the report, renders it once untimed (the first page in a process, with Jinja2's import and
the templates' compilation, is timed apart as ``first``), then ``--renders`` times. The CPU time
of the process (``time.process_time``) is what is compared: on a machine shared with other work
it moves less than the wall clock. Medians over every timed render, min-max beside them; the
ratio is the median of the rounds' ratios of medians.

Every page each process renders must be byte for byte the same, in both trees: the benchmark
stops (exit 1) if any differs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from compliance import __version__

HERE = Path(__file__).resolve().parent.parent

CHILD = """
import hashlib, sys, time
from pathlib import Path
from compliance import load_rules
from compliance.review.findings import Report

report = Report.model_validate_json(Path(sys.argv[1]).read_bytes())
titles = load_rules().domain_title
cpu = time.process_time()
from compliance.reports.html import render_html
page = render_html(report, titles)
print("first", time.process_time() - cpu)
digests = {hashlib.sha256(page.encode("utf-8")).hexdigest()}
for _ in range(int(sys.argv[2])):
    cpu, wall = time.process_time(), time.perf_counter()
    page = render_html(report, titles)
    print("render", time.process_time() - cpu, time.perf_counter() - wall)
    digests.add(hashlib.sha256(page.encode("utf-8")).hexdigest())
print("pages", *sorted(digests))
print("bytes", len(page.encode("utf-8")))
"""


def saved_report(count: int, folder: Path) -> Path:
    """``count`` synthetic proposals reviewed to a JSON report by this tree's CLI."""
    from benchmarks.synth import generate  # noqa: PLC0415 (imports the package: not for --help)

    proposals = folder / "batch.jsonl"
    with proposals.open("w", encoding="utf-8") as out:
        for proposal in generate(count):
            data = proposal.model_dump(mode="json", exclude_none=True)
            out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    report = folder / "report.json"
    command = ["review", str(proposals), "--no-fail", "--no-config", "--format", "json"]
    subprocess.run(
        [sys.executable, "-m", "compliance", *command, "--output", str(report)],
        capture_output=True,
        check=True,
        cwd=HERE,
    )
    return report


@dataclass
class Run:
    """One process's renders: the first page's CPU time, then each timed render's CPU and wall
    time, the digests of every page it rendered and the page's size."""

    first: float = 0.0
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    pages: set[str] = field(default_factory=set)
    size: int = 0


def rendered(tree: Path, report: Path, renders: int) -> Run:
    """The renders of one process run from ``tree``."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(report), str(renders)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    run = Run()
    for line in done.stdout.splitlines():
        kind, *values = line.split()
        if kind == "first":
            run.first = float(values[0])
        elif kind == "render":
            run.cpu.append(float(values[0]))
            run.wall.append(float(values[1]))
        elif kind == "pages":
            run.pages.update(values)
        else:
            run.size = int(values[0])
    return run


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=200, help="proposals in the batch")
    parser.add_argument("--rounds", type=int, default=7, help="processes per tree")
    parser.add_argument("--renders", type=int, default=3, help="timed renders per process")
    parser.add_argument("--report", type=Path, help="a JSON report already saved, rendered")
    parser.add_argument("--baseline-tree", type=Path, help="a source tree of earlier code")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    args = parser.parse_args(argv)
    count, rounds, renders = (
        (20, 1, 1) if args.quick else (args.proposals, args.rounds, args.renders)
    )
    trees = {"templates": HERE}
    if args.baseline_tree is not None:
        trees["baseline"] = args.baseline_tree.resolve()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        report = args.report.resolve() if args.report else saved_report(count, Path(tmp))
        runs: dict[str, list[Run]] = {name: [] for name in trees}
        for i in range(rounds):
            for name in list(trees) if i % 2 == 0 else list(reversed(trees)):
                runs[name].append(rendered(trees[name], report, renders))
        size = report.stat().st_size
    pages = {page for one in runs.values() for run in one for page in run.pages}
    sizes = sorted({run.size for one in runs.values() for run in one})
    print(
        f"compliance {__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cpus; load average {load:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at end"
    )
    same = "identical" if len(pages) == 1 else "DIFFERENT"
    print(
        f"report: {size:,} bytes; page: {', '.join(f'{n:,}' for n in sizes)} bytes, {same} "
        f"in every render of every tree ({len(pages)} digest(s))\n"
    )
    print("| Renderer | CPU s per page, median (min-max) | Wall s | First page, CPU s |")
    print("| --- | ---: | ---: | ---: |")
    for name, one in runs.items():
        cpu = [t for run in one for t in run.cpu]
        wall = [t for run in one for t in run.wall]
        first = [run.first for run in one]
        print(f"| {name} | {_spread(cpu)} | {_spread(wall)} | {_spread(first)} |")
    if "baseline" in runs:
        ratios = [
            statistics.median(new.cpu) / statistics.median(old.cpu)
            for new, old in zip(runs["templates"], runs["baseline"], strict=True)
        ]
        print(f"\nCPU time, templates / baseline: {_spread(ratios)} over {rounds} rounds")
    if len(pages) != 1:
        print("error: the pages differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
