"""Review throughput of both engines, side by side, and memory over 100,000 reviews.

    .venv/bin/python -m benchmarks.bench_review              # full run (as in docs/BENCHMARKS.md)
    .venv/bin/python -m benchmarks.bench_review --quick      # a smoke run
    .venv/bin/python -m benchmarks.bench_review --baseline-rules DIR   # beside another rule set

Measures, for the durable_rules engine and the reference evaluator in one process:

- throughput: proposals per second and microseconds per proposal, reviewing N synthetic
  proposals (the median of several passes, after a warm-up pass);
- memory: resident set size (RSS) after 1,000 reviews and after ``--reviews`` reviews (default
  100,000), cycling through the synthetic proposals. A review must leave nothing behind, so the
  two should be close.

With ``--baseline-rules DIR`` (a rules directory, e.g. an earlier release's ``rules/`` taken from
git), the same table is measured for that rule set in the same run, on the same proposals, first:
the ratio between the two rows is what holds across machines.

Each engine is built once per rule set, as the CLI does. Times are wall-clock on this machine; the
numbers are only comparable between runs on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compliance import Reviewer, __version__, load_rules
from compliance.intake.proposals import read_proposals
from compliance.proposal.model import Proposal
from compliance.rules.compiler import compile_ruleset
from compliance.rules.durable import DurableEngine
from compliance.rules.reference import proposal_view
from compliance.rules.ruleset import RuleSet

try:
    from compliance.review.reviewer import CROSS_CHECKS
except ImportError:  # the code before the cross-check modes judged every rule: "full" alone
    CROSS_CHECKS = ("full",)

from .synth import FIXTURES, generate


def rss_mib() -> float:
    """Current resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = {"now": CLOCKS["wall"]}
"""What the timings count: wall-clock seconds, or this process's CPU seconds (``--clock cpu``,
steadier than wall-clock on a machine other work shares)."""


def timed(work: Callable[[Proposal], object], proposals: list[Proposal], passes: int) -> float:
    """Median seconds to run ``work`` on every proposal once (after one warm-up pass)."""
    for proposal in proposals:
        work(proposal)
    clock = CLOCK["now"]
    times = []
    for _ in range(passes):
        start = clock()
        for proposal in proposals:
            work(proposal)
        times.append(clock() - start)
    return statistics.median(times)


def engine_costs(ruleset: RuleSet, repeats: int) -> dict[str, float]:
    """The durable engine alone: its fixed cost (a sound proposal fires no rule) and the cost of
    each firing, from the bundled exemplary and flawed fixtures."""
    views = {
        name: proposal_view(read_proposals([str(FIXTURES / f"{name}.json")])[0].proposal)
        for name in ("exemplary-community-policing", "flawed-refugee-data-sharing")
    }
    out: dict[str, float] = {}
    with DurableEngine(compile_ruleset(ruleset)) as engine:
        for name, view in views.items():
            fired = engine.results(view)
            start = CLOCK["now"]()
            for _ in range(repeats):
                engine.results(view)
            out[name] = (CLOCK["now"]() - start) / repeats * 1e6
            out[f"{name}_rules_fired"] = len(fired)
    sound, flawed = (out[n] for n in views)
    firings = 2 * out["flawed-refugee-data-sharing_rules_fired"]  # certain and possible forms
    out["fixed_us"] = sound
    out["per_firing_us"] = (flawed - sound) / firings
    return out


def engine_on(ruleset: RuleSet, proposals: list[Proposal], passes: int) -> dict[str, float]:
    """The durable engine alone on ``proposals``: what a review of them cannot cost less than
    with this engine (the fact built from each proposal's view, the C engine's assert and the
    firings it runs), without explanations, findings, locations or reading and writing."""
    views = [proposal_view(p) for p in proposals]
    with DurableEngine(compile_ruleset(ruleset)) as engine:
        fired = sum(len(engine.results(view)) for view in views)
        clock = CLOCK["now"]
        times = []
        for _ in range(passes):
            start = clock()
            for view in views:
                engine.results(view)
            times.append(clock() - start)
    return {
        "microseconds_per_proposal": round(statistics.median(times) / len(views) * 1e6, 1),
        "engine_rules_fired_per_proposal": round(fired / len(views), 2),
    }


def memory(
    reviewer: Reviewer, proposals: list[Proposal], reviews: int
) -> tuple[float, float, float]:
    """RSS before any review, after 1,000 reviews and after ``reviews`` reviews."""
    before = rss_mib()
    done = 0
    at_1000 = before
    while done < reviews:
        reviewer.review(proposals[done % len(proposals)])
        done += 1
        if done == 1000:
            at_1000 = rss_mib()
    return before, at_1000, rss_mib()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=2000, help="synthetic proposals (N)")
    parser.add_argument("--passes", type=int, default=5, help="timed passes over the N proposals")
    parser.add_argument("--reviews", type=int, default=100_000, help="reviews for the RSS check")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="time in wall-clock or in this process's CPU seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--cross-check",
        choices=CROSS_CHECKS,
        default=CROSS_CHECKS[0],
        help="what the reference evaluator judges beside the durable engine (default: %(default)s)",
    )
    parser.add_argument(
        "--baseline-rules",
        type=Path,
        default=None,
        help="also measure this rule directory (instead of the built-in rules), as a baseline",
    )
    args = parser.parse_args(argv)
    CLOCK["now"] = CLOCKS[args.clock]
    if args.quick:
        args.proposals, args.passes, args.reviews = 200, 2, 3000
    proposals = generate(args.proposals)
    runs = []
    if args.baseline_rules is not None:
        runs.append(
            (
                f"baseline ({args.baseline_rules.name})",
                load_rules([args.baseline_rules], builtin=False),
            )
        )
    runs.append(("built-in", load_rules()))
    for label, ruleset in runs:
        if len(runs) > 1:
            print(f"## {label}")
        _measure(args, ruleset, proposals)
        if len(runs) > 1 and not args.json:
            print()
    return 0


def _measure(args: argparse.Namespace, ruleset: RuleSet, proposals: list[Proposal]) -> int:
    results: dict[str, Any] = {
        "tool_version": __version__,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "rules": len(ruleset.rules),
        "proposals": args.proposals,
        "passes": args.passes,
        "reviews_for_rss": args.reviews,
        "cross_check": args.cross_check,
        "clock": args.clock,
        "engines": {},
    }
    decisions: Counter[str] = Counter()
    for engine in ("durable", "reference"):
        # Before the cross-check modes, Reviewer took no cross_check (and judged every rule).
        options = {"cross_check": args.cross_check} if len(CROSS_CHECKS) > 1 else {}
        with Reviewer(ruleset, engine=engine, **options) as reviewer:
            if engine == "durable":
                decisions.update(reviewer.review(p).decision.value for p in proposals)
            seconds = timed(reviewer.review, proposals, args.passes)
            rules_only = timed(reviewer.outcomes, proposals, args.passes)
            before, at_1000, after = memory(reviewer, proposals, args.reviews)
        results["engines"][engine] = {
            "proposals_per_second": round(args.proposals / seconds, 1),
            "microseconds_per_proposal": round(seconds / args.proposals * 1e6, 1),
            "microseconds_rules_only": round(rules_only / args.proposals * 1e6, 1),
            "rss_mib_start": round(before, 1),
            "rss_mib_after_1000": round(at_1000, 1),
            f"rss_mib_after_{args.reviews}": round(after, 1),
            "rss_growth_percent": round((after - at_1000) / at_1000 * 100, 2),
        }
    results["decisions"] = dict(sorted(decisions.items()))
    results["durable_engine_on_these"] = engine_on(ruleset, proposals, args.passes)
    costs = engine_costs(ruleset, repeats=300 if args.quick else 3000)
    results["durable_engine_alone"] = {k: round(v, 1) for k, v in costs.items()}

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"compliance {__version__}, Python {results['python']}, {results['machine']}")
    print(
        f"{results['rules']} rules; {args.proposals} synthetic proposals, median of {args.passes} "
        f"passes ({args.clock} clock); cross-check {args.cross_check}; "
        f"decisions: {results['decisions']}"
    )
    print()
    header = (
        "| engine | proposals/s | µs/proposal (review) | µs/proposal (rules only) "
        "| RSS after 1,000 (MiB) | RSS after {:,} (MiB) | growth |"
    )
    print(header.format(args.reviews))
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for engine, r in results["engines"].items():
        print(
            f"| {engine} | {r['proposals_per_second']:,.0f} "
            f"| {r['microseconds_per_proposal']:,.0f} | {r['microseconds_rules_only']:,.0f} "
            f"| {r['rss_mib_after_1000']:.1f} | {r[f'rss_mib_after_{args.reviews}']:.1f} "
            f"| {r['rss_growth_percent']:+.2f}% |"
        )
    print()
    alone = results["durable_engine_on_these"]
    print(
        f"durable engine alone on these proposals (the fact built from a proposal's view and "
        f"the C engine's assert and firings): {alone['microseconds_per_proposal']:,.0f} µs a "
        f"proposal, {alone['engine_rules_fired_per_proposal']:.1f} rules fired on average"
    )
    print(
        f"durable engine alone: {costs['fixed_us']:,.0f} µs for a proposal that fires no rule "
        f"(exemplary fixture); {costs['per_firing_us']:,.0f} µs more per engine rule fired "
        f"(flawed fixture: {costs['flawed-refugee-data-sharing_rules_fired']:.0f} rules fired, "
        "each as a certain and a possible form)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
