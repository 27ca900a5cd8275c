"""One-proposal review start-up beside an earlier source tree and beside ``python -c pass``.

    git worktree add ../startup-base HEAD~1
    .venv/bin/python -m benchmarks.bench_startup --baseline-tree ../startup-base --rounds 31
    git worktree remove ../startup-base

Each round runs ``python -m compliance review FIXTURE --format json -o FILE`` once with this
tree and once with the baseline (``PYTHONPATH`` selects the tree; the order alternates every
round, so load affects both alike), and ``python -c pass``, each a fresh process started from a
neutral directory. Both trees are byte-compiled first (a tree compiled from source on every run,
as under ``PYTHONDONTWRITEBYTECODE``, would be measured slower than it is) and each is run twice,
untimed, so that its rule-set cache exists. Reported: the child's CPU time (user plus system,
from ``getrusage``), median and min-max, and the ratio of the medians; the wall time beside it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
FIXTURE = HERE / "fixtures" / "exemplary-humanitarian.json"


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU and wall seconds of ``command`` run to its end in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=False, cwd="/")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1, 3, 4):  # a decision, not an error
        raise SystemExit(f"{command}: exit {done.returncode}: {done.stderr.decode()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def _line(name: str, values: list[tuple[float, float]]) -> str:
    cpu = [c * 1000 for c, _ in values]
    wall = [w * 1000 for _, w in values]
    return (
        f"| {name} | {statistics.median(cpu):.0f} ({min(cpu):.0f}-{max(cpu):.0f}) "
        f"| {statistics.median(wall):.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-tree", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    args = parser.parse_args()
    trees = {"this tree": HERE, "baseline": args.baseline_tree.resolve()}
    for tree in trees.values():
        compileall.compile_dir(tree / "compliance", quiet=1)
    out = Path(tempfile.mkdtemp()) / "review.json"
    command = [sys.executable, "-m", "compliance", "review", str(args.fixture.resolve())]
    command += ["--format", "json", "-o", str(out)]
    # Each tree starts on its own: never handed to a daemon the caller may have running.
    base = {**os.environ, "COMPLIANCE_DAEMON": "off"}
    envs = {name: {**base, "PYTHONPATH": str(tree)} for name, tree in trees.items()}
    for env in envs.values():
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for _ in range(2):
            _run(command, env)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in envs}
    bare: list[tuple[float, float]] = []
    load = os.getloadavg()[0]
    for round_ in range(args.rounds):
        order = list(envs) if round_ % 2 == 0 else list(reversed(envs))
        bare.append(_run([sys.executable, "-c", "pass"], dict(os.environ)))
        for name in order:
            results[name].append(_run(command, envs[name]))
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cpus, {args.rounds} rounds; "
        f"load average {load:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    )
    print("\n| Command | CPU ms, median (min-max) | Wall ms, median |\n| --- | ---: | ---: |")
    for name, values in results.items():
        print(_line(f"review, {name}", values))
    print(_line("python -c pass", bare))
    ratio = statistics.median(c for c, _ in results["this tree"]) / statistics.median(
        c for c, _ in results["baseline"]
    )
    print(f"\nCPU, this tree / baseline: {ratio:.3f}")


if __name__ == "__main__":
    main()
