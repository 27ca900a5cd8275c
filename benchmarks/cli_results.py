"""Results of :mod:`benchmarks.bench_cli` and their Markdown tables for docs/BENCHMARKS.md."""

from __future__ import annotations

import dataclasses
import shlex
import statistics
from collections.abc import Iterator
from typing import Any


@dataclasses.dataclass
class Latency:
    name: str
    command: str
    times: list[float] = dataclasses.field(default_factory=list)
    warmup: float | None = None
    note: str = ""

    def median(self) -> float:
        return statistics.median(self.times)


@dataclasses.dataclass
class Batch:
    proposals: int
    output: str
    jobs: str
    input_files: int
    input_bytes: int
    status: str = "ok"
    wall: float = 0.0
    cpu: float = 0.0
    maxrss_mib: float = 0.0
    tree_pss_mib: float = 0.0
    out_bytes: int = 0
    out_lines: int = 0


@dataclasses.dataclass
class Identity:
    proposals: int
    baseline_tree: str
    runs: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    formats: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    note: str = ""


def cell(text: str) -> str:
    """``text`` in a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(
    facts: dict[str, Any],
    lat: list[Latency],
    rows: list[Batch],
    ident: Identity | None,
    argv: list[str],
) -> Iterator[str]:
    load = "/".join(f"{x:.2f}" for x in facts["load_start"])
    load_end = "/".join(f"{x:.2f}" for x in facts["load_end"])
    yield f"Command: `{shlex.join(['.venv/bin/python', '-m', 'benchmarks.bench_cli', *argv])}`"
    yield ""
    yield (
        f"Machine: {facts['system']}, {facts['cpus']} CPUs, Python {facts['python']}; "
        f"{facts['compliance']} (git {facts['git']}); {facts['date']}; load average (1/5/15 min) "
        f"{load} at start, {load_end} at end; the run took {facts['seconds'] / 60:.1f} min."
    )
    if lat:
        timed = [x for x in lat if x.times]
        base = next((x.median() for x in timed if x.name == "python -c pass"), None)
        yield ""
        rounds = len(timed[0].times) if timed else 0
        shown = f"{rounds} interleaved rounds" if rounds != 1 else "1 round"
        yield f"One proposal, {shown} after a warm-up round (seconds):"
        yield ""
        yield "| command | median | min | max | warm-up | × `python -c pass` |"
        yield "| --- | ---: | ---: | ---: | ---: | ---: |"
        for x in timed:
            ratio = f"{x.median() / base:.1f}x" if base else ""
            warmup = f"{x.warmup:.3f}" if x.warmup is not None else ""
            yield (
                f"| {x.name}: `{x.command}` | {x.median():.3f} | {min(x.times):.3f} | "
                f"{max(x.times):.3f} | {warmup} | {ratio} |"
            )
        for x in lat:
            if x.note:
                yield ""
                yield x.note
    if rows:
        yield ""
        yield "Batches (JSON Lines input; wall and CPU seconds; peak RSS of the largest process):"
        yield ""
        yield (
            "| proposals | report | --jobs | proposals/s | wall s | CPU s | peak RSS MiB | "
            "tree PSS MiB | input B/proposal | output B/proposal | status |"
        )
        yield "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        for r in rows:
            rate = f"{r.proposals / r.wall:,.0f}" if r.status == "ok" and r.wall else ""
            files = "file" if r.input_files == 1 else "files"
            yield (
                f"| {r.proposals:,} | {r.output} | {r.jobs} | {rate} | {r.wall:.1f} | "
                f"{r.cpu:.1f} | {r.maxrss_mib:,.0f} | {r.tree_pss_mib:,.0f} | "
                f"{r.input_bytes / r.proposals:,.0f} ({r.input_files} {files}) | "
                f"{r.out_bytes / r.proposals:,.0f} | {cell(r.status)} |"
            )
    if ident is not None:
        yield ""
        yield f"Byte identity, {ident.proposals:,} proposals, against `{ident.baseline_tree}`:"
        if ident.note:
            yield ""
            yield ident.note
        else:
            yield ""
            yield "| code | status | wall s | proposals/s | CPU s | peak RSS MiB |"
            yield "| --- | --- | ---: | ---: | ---: | ---: |"
            for name, got in ident.runs.items():
                speed = ident.proposals / got["wall"] if got["wall"] else 0
                yield (
                    f"| {name} | {got['status']} | {got['wall']:.1f} | {speed:,.0f} | "
                    f"{got['cpu']:.1f} | {got['maxrss_kb'] / 1024:,.0f} |"
                )
            yield ""
            yield "| report | baseline bytes | current bytes | identical | first difference |"
            yield "| --- | ---: | ---: | --- | --- |"
            for fmt, cmp in ident.formats.items():
                yield (
                    f"| {fmt} | {cmp.get('baseline_bytes', 0):,} | {cmp.get('current_bytes', 0):,}"
                    f" | {'yes' if cmp['identical'] else '**no**'} | {cell(cmp['difference'])} |"
                )
