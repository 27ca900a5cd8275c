"""Reading a 1,000-proposal register, beside openpyxl's bare read and beside earlier code.

    .venv/bin/python -m benchmarks.bench_workbook_read --baseline-tree ../old --passes 5
    .venv/bin/python -m benchmarks.bench_workbook_read --quick     # a smoke run

The register is the one :mod:`benchmarks.bench_workbook` builds (``compliance export`` of
synthetic proposals, seed 2026); ``--register`` reads one already made. Each pass measures, each
in a fresh process started from the same source tree (imports are not timed, the file is read
once before timing so that it is in the page cache):

- **bare**: openpyxl in read-only mode reading every row of every sheet as values;
- **read**: :func:`compliance.intake.proposals.read_proposals` (the package checks, every sheet
streamed,
  the cell checks, assembly, validation, source maps);
- **baseline read**: the same call in the ``--baseline-tree`` source tree, when given.

Both wall-clock and CPU seconds are reported: on a machine shared with other work, the CPU time
of a single-threaded read moves less than its wall clock. Ratios are the medians of the per-pass
ratios, each pass timing all of them back to back.
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
import time
from pathlib import Path

from compliance import __version__
from compliance.workbook.layout import Layout
from compliance.workbook.write import build, to_bytes

from .bench_workbook import writable
from .synth import generate

CHILD = """
import sys, time
import openpyxl
from compliance.intake.proposals import read_proposals

def bare(path):
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            pass
    book.close()

kind, path = sys.argv[1], sys.argv[2]
bare(path)
wall, cpu = time.perf_counter(), time.process_time()
if kind == "bare":
    bare(path)
else:
    read_proposals([path])
print(time.perf_counter() - wall, time.process_time() - cpu)
"""


def timed(kind: str, path: Path, tree: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one measurement, in a fresh process run from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
        env=env,
    )
    wall, cpu = done.stdout.split()
    return float(wall), float(cpu)


def measure(path: Path, passes: int, baseline: Path | None) -> dict[str, object]:
    here = Path(__file__).resolve().parent.parent
    kinds = [("bare", "bare", here), ("read", "read", here)]
    if baseline is not None:
        kinds.append(("baseline_read", "read", baseline))
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in kinds}
    for _ in range(passes):
        for name, kind, tree in kinds:
            runs[name].append(timed(kind, path, tree))
    out: dict[str, object] = {"bytes": path.stat().st_size, "passes": passes}
    for clock, index in (("wall", 0), ("cpu", 1)):
        for name, values in runs.items():
            out[f"{name}_{clock}_s"] = round(statistics.median(v[index] for v in values), 3)
        for name, values in runs.items():
            if name == "bare":
                continue
            ratios = [a[index] / b[index] for a, b in zip(values, runs["bare"], strict=True)]
            out[f"{name}_{clock}_ratio"] = round(statistics.median(ratios), 2)
            out[f"{name}_{clock}_spread"] = [round(min(ratios), 2), round(max(ratios), 2)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=1000, help="rows of the register")
    parser.add_argument("--passes", type=int, default=5, help="timed passes (median)")
    parser.add_argument("--register", type=Path, help="a register already made, read as is")
    parser.add_argument("--baseline-tree", type=Path, help="a source tree of earlier code")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    args = parser.parse_args(argv)
    count, passes = (50, 1) if args.quick else (args.proposals, args.passes)
    baseline = args.baseline_tree.resolve() if args.baseline_tree else None
    results: dict[str, object] = {
        "tool": __version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
    }
    with tempfile.TemporaryDirectory() as tmp:
        register = args.register
        if register is None:
            register = Path(tmp) / "register.xlsx"
            start = time.perf_counter()
            proposals = [writable(p) for p in generate(count)]
            register.write_bytes(to_bytes(build(Layout.register, proposals)))
            results["export_s"] = round(time.perf_counter() - start, 2)
        results["proposals"] = count if args.register is None else "as given"
        results["register"] = measure(register.resolve(), passes, baseline)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
