"""What ``--redact`` costs: the bundled fixtures reviewed to every report format, plain and
redacted, side by side in one process.

    .venv/bin/python -m benchmarks.bench_redact              # 5 rounds
    .venv/bin/python -m benchmarks.bench_redact --rounds 9

Each round reviews every proposal of ``fixtures/`` (one batch, in this process) and writes all
eight formats to a temporary directory, once plain and once with the ``default`` profile (a fresh
redactor per round, as per run), in alternating order so load affects both alike; an untimed
warm-up round first. CPU time of this process (``time.process_time``) and wall time per round;
the medians and the spread (min to max) are printed as a Markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from compliance import load_rules
from compliance.batch.run import review_batch
from compliance.commands.review import _render
from compliance.reports.redact_check import public_text
from compliance.review.redact import Redactor, default_profile
from compliance.review.reviewer import Reviewer
from compliance.rules.ruleset import RuleSet

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("text", "json", "jsonl", "markdown", "junit", "sarif", "html", "xlsx")


def _round(ruleset: RuleSet, loaded: RuleSet, redact: bool) -> tuple[float, float]:
    redaction = Redactor(default_profile(), public_text(loaded)) if redact else None
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[tuple[str, Path | None]] = [(f, Path(tmp) / f"r.{f}") for f in FORMATS]
        where = dict(targets)
        cpu, wall = time.process_time(), time.perf_counter()
        with Reviewer(ruleset, engine="reference", redaction=redaction) as reviewer:
            review_batch(
                reviewer,
                [str(ROOT / "fixtures")],
                targets,
                1,
                lambda fmt, whole: _render(fmt, whole, ruleset, where[fmt], None),
            )
        return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ruleset = load_rules()
    _round(ruleset, ruleset, False)
    _round(ruleset, ruleset, True)
    times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for i in range(args.rounds):
        for redact in (False, True) if i % 2 == 0 else (True, False):
            times[redact].append(_round(ruleset, ruleset, redact))
    print(f"cores: {os.cpu_count()}, load average at end: {os.getloadavg()[0]:.2f}")
    print("| Run | CPU s, median (min-max) | Wall s, median (min-max) |")
    print("| --- | ---: | ---: |")
    for redact, label in ((False, "plain"), (True, "--redact default")):
        cpu = [c for c, _ in times[redact]]
        wall = [w for _, w in times[redact]]
        print(
            f"| {label} | {statistics.median(cpu):.2f} ({min(cpu):.2f}-{max(cpu):.2f}) | "
            f"{statistics.median(wall):.2f} ({min(wall):.2f}-{max(wall):.2f}) |"
        )


if __name__ == "__main__":
    main()
