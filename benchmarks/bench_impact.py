"""``compliance rules impact`` beside ``compliance review`` on the same register, in one run.

    .venv/bin/python -m benchmarks.bench_impact                      # 10,000 proposals, 3 rounds
    .venv/bin/python -m benchmarks.bench_impact --count 1000 --rounds 1   # a smoke run

A register of ``--count`` synthetic proposals (:mod:`benchmarks.synth`, a pool of 2,000 repeated
with distinct ids) is written as one JSON Lines file; the baseline is a copy of the built-in rules
with one rule (ACC-010) raised from medium to high. Each round runs, through the installed
command and ``benchmarks/launch.py`` (wall and CPU seconds, peak RSS of the largest process, the
sampled peak PSS of the process tree), for each ``--jobs`` setting:

- ``compliance review REGISTER --format json --no-fail --no-config --jobs J``, and
- ``compliance rules impact REGISTER --baseline BASE --format json --no-config --jobs J``,

one after the other, so load affects both alike. Both write JSON to a pipe that the launcher
counts and drops. The table gives the medians and the ratio impact / review: the goal is about 2
(every proposal is reviewed twice).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.bench_cli import REPO, cli_path, log, machine, pool, run_launched, write_batch


def _baseline(target: Path) -> Path:
    shutil.copytree(REPO / "rules", target)
    path = target / "accountability.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: ACC-010\n")
    end = text.index("    severity: medium\n", start)
    path.write_text(
        text[:end] + "    severity: high\n" + text[end + len("    severity: medium\n") :],
        encoding="utf-8",
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", default="1,default", help="comma-separated: N or default")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--max-memory-gb", type=float, default=8.0)
    args = parser.parse_args()
    info = machine()
    cli = str(cli_path())
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-impact-") as tmp:
        folder = Path(tmp)
        register = write_batch(
            folder / "register", args.count, pool(min(args.count, 2_000)), args.count
        )
        base = _baseline(folder / "base")
        for round_no in range(args.rounds):
            for jobs in args.jobs.split(","):
                given = [] if jobs == "default" else ["--jobs", jobs]
                commands = {
                    "review": [cli, "review", *map(str, register), "--format", "json",
                               "--no-fail", "--no-config", *given],
                    "rules impact": [cli, "rules", "impact", *map(str, register), "--baseline",
                                     str(base), "--format", "json", "--no-config", *given],
                }  # fmt: skip
                for name, cmd in commands.items():
                    result, last = run_launched(cmd, folder, args, args.max_memory_gb)
                    if result["code"] != 0:
                        raise SystemExit(f"{name} exited {result['code']}: {last}")
                    log(f"round {round_no + 1}, jobs {jobs}, {name}: {result['wall']:.1f} s")
                    runs.setdefault((jobs, name), []).append(result)
    info["load_end"] = os.getloadavg()
    print(
        f"{args.count:,} proposals, {args.rounds} rounds, {info['date']}, {info['system']}, "
        f"{info['cpus']} cores, Python {info['python']}, "
        f"{info['compliance'].replace(chr(10), '; ')}, "
        f"load average {info['load_start'][0]:.1f} at start, {info['load_end'][0]:.1f} at end"
    )
    print()
    print("| --jobs | command | wall s (median) | min | max | CPU s | peak RSS MB | peak PSS MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (jobs, name), results in runs.items():
        walls = [r["wall"] for r in results]
        print(
            f"| {jobs} | `{name}` | {statistics.median(walls):.1f} | {min(walls):.1f} | "
            f"{max(walls):.1f} | {statistics.median(r['cpu'] for r in results):.1f} | "
            f"{max(r['maxrss_kb'] for r in results) / 1024:.0f} | "
            f"{max(r['tree_kb'] for r in results) / 1024:.0f} |"
        )
    print()
    for jobs in args.jobs.split(","):
        review = statistics.median(r["wall"] for r in runs[(jobs, "review")])
        impact = statistics.median(r["wall"] for r in runs[(jobs, "rules impact")])
        print(f"--jobs {jobs}: rules impact / review = {impact / review:.2f}")


if __name__ == "__main__":
    main()
