"""JSON intake within its limits: what the budgets cost on valid input, and what they save on
hostile input, each beside a bare parse of the same text in the same run.

    .venv/bin/python -m benchmarks.bench_intake            # full run (as in docs/BENCHMARKS.md)
    .venv/bin/python -m benchmarks.bench_intake --quick    # a smoke run

Measured, as the median of several passes after a warm-up, in this process:

- **bare**: ``json.loads`` of the file's text and ``Proposal.model_validate`` of every proposal:
  the least any reader that validates with the same model could do;
- **intake**: :func:`compliance.intake.proposals.read_proposals` on the file (reading within the
limits,
  the density check, one proposal at a time, the shape budget, validation, source maps), for a
  JSON list and for the same proposals as JSON Lines.

Then two hostile files, each measured in a fresh process for CPU time and peak memory (as a user
would meet them): a 48 MB list of empty lists and a 48 MB list of zeros, refused by intake, beside
a bare ``json.loads`` of the same file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.synth import generate
from compliance.intake.proposals import read_proposals
from compliance.proposal.model import Proposal

_CHILD = """
import json, resource, sys, time
from pathlib import Path
path, mode = sys.argv[1], sys.argv[2]
start = time.process_time()
if mode == "bare":
    json.loads(Path(path).read_text(encoding="utf-8"))
    outcome = "parsed"
else:
    from compliance.errors import InputError
    from compliance.intake.proposals import read_proposals
    try:
        read_proposals([path])
        outcome = "accepted"
    except InputError as exc:
        outcome = "refused: " + exc.problems[0].split(": ", 1)[1]
cpu = time.process_time() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"cpu": cpu, "peak_mb": peak, "outcome": outcome}))
"""


def _median_seconds(passes: int, work: object) -> float:
    assert callable(work)
    work()  # warm-up
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bare(path: Path) -> None:
    for item in json.loads(path.read_text(encoding="utf-8")):
        Proposal.model_validate(item)


_LAUNCH = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
"""A child's peak memory counts the process it was forked from (the kernel carries the parent's
high-water mark across exec), so the measured child is started by a small launcher, not by this
process, which holds the synthetic proposals."""


def _child(path: Path, mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _LAUNCH, sys.executable, "-c", _CHILD, str(path), mode],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=2000, help="synthetic proposals")
    parser.add_argument("--passes", type=int, default=5, help="timed passes")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    args = parser.parse_args()
    count, passes, hostile_mb = (200, 2, 4) if args.quick else (args.proposals, args.passes, 48)
    documents = [p.model_dump(mode="json", exclude_none=True) for p in generate(count)]
    with tempfile.TemporaryDirectory() as tmp:
        listed = Path(tmp) / "batch.json"
        listed.write_text(json.dumps(documents, indent=2), encoding="utf-8")
        lines = Path(tmp) / "batch.jsonl"
        lines.write_text("".join(json.dumps(d) + "\n" for d in documents), encoding="utf-8")
        bare = _median_seconds(passes, lambda: _bare(listed))
        ours = _median_seconds(passes, lambda: read_proposals([str(listed)]))
        ours_lines = _median_seconds(passes, lambda: read_proposals([str(lines)]))
        size = listed.stat().st_size / 1e6
        print(f"{count} proposals, JSON list {size:.1f} MB (median of {passes} passes)")
        print(f"  bare json.loads + validate   {bare:7.3f} s")
        print(f"  intake, JSON list            {ours:7.3f} s  ({ours / bare:.2f}x bare)")
        print(
            f"  intake, JSON Lines           {ours_lines:7.3f} s  ({ours_lines / bare:.2f}x bare)"
        )
        hostile = {
            "list of empty lists": "[" + "[]," * (hostile_mb * 1_000_000 // 3) + "[]]",
            "list of zeros": "[" + "0," * (hostile_mb * 1_000_000 // 2) + "0]",
        }
        for name, text in hostile.items():
            path = Path(tmp) / "hostile.json"
            path.write_text(text, encoding="utf-8")
            print(f"{name}, {len(text) / 1e6:.0f} MB (fresh process; CPU s, peak MB)")
            for mode in ("bare", "intake"):
                r = _child(path, mode)
                print(f"  {mode:7} {r['cpu']:6.2f} s {r['peak_mb']:7.0f} MB  {r['outcome']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
