"""The HTML report's chart: findings by domain and severity, drawn as inline SVG by
``templates/chart.html.j2`` from the geometry worked out here.

Stacked horizontal bars, one per domain (all proposals of a batch), each segment labelled with
its count and the bar with its total; a legend with each severity's total; the whole described
in the SVG's title and aria-label for screen readers. "No findings" when there are none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compliance.reports.html_parts import SEVERITIES
from compliance.reports.xlsx import domain_counts
from compliance.review.findings import Report
from compliance.rules.spec import Severity

# The chart's geometry, in CSS pixels (it scales down to the page when printed).
CHART_WIDTH = 760
_BAR_AREA = 700  # the longest bar; its total is written after it
_LEGEND_HEIGHT = 30
_LABEL_HEIGHT = 18
BAR_HEIGHT = 24
_ROW_GAP = 10
_DIGIT_WIDTH = 8
_MAX_UNIT = 44  # at most this wide per finding: a bar of 2 is not a full-width bar


@dataclass(frozen=True, slots=True)
class Segment:
    severity: Severity
    count: int
    x: int
    width: int
    centre: str
    """Where the count is written, as SVG reads it."""


@dataclass(frozen=True, slots=True)
class Bar:
    domain: str
    title: str
    shown: str
    """The title as written beside the bar: cut to 90 characters."""
    total: int
    y: int
    bar_y: int
    segments: list[Segment]
    end: int


@dataclass(frozen=True, slots=True)
class Chart:
    scope: str
    """``all proposals`` or ``this proposal``."""
    legend: list[tuple[Severity, int, int]]
    """Each severity with its total and where its key starts."""
    bars: list[Bar]
    width: int
    height: int
    bar_height: int
    label: str
    """The chart in words, for screen readers."""


def _label_width(n: int) -> int:
    """The width a segment needs to hold its count."""
    return _DIGIT_WIDTH * len(str(n)) + 4


def chart_of(report: Report, domain_title: Callable[[str], str]) -> Chart:
    counts = domain_counts(report)
    scope = "all proposals" if len(report.reviews) > 1 else "this proposal"
    if not counts:
        return Chart(scope, [], [], CHART_WIDTH, 0, BAR_HEIGHT, "")
    totals = {s: sum(c[s] for c in counts.values()) for s in SEVERITIES}
    biggest = max(sum(c.values()) for c in counts.values())
    # Every segment is at least as wide as its count, so that every count can be read on the
    # page and in print (a few blockers beside a hundred questions would otherwise lose theirs);
    # the room those minimums take is kept out of the scale, so no bar outgrows the area.
    reserved = max(sum(_label_width(n) for n in c.values() if n) for c in counts.values())
    unit = min((_BAR_AREA - reserved) / biggest, _MAX_UNIT)
    legend: list[tuple[Severity, int, int]] = []
    x = 0
    for s in SEVERITIES:
        legend.append((s, totals[s], x))
        x += 19 + 8 * len(f"{s.value} ({totals[s]})") + 22
    y = _LEGEND_HEIGHT
    bars: list[Bar] = []
    summary = []
    for domain, by_severity in counts.items():
        title = domain_title(domain)
        total = sum(by_severity.values())
        shown = title if len(title) <= 90 else title[:89] + "…"
        bar_y = y + _LABEL_HEIGHT
        segments: list[Segment] = []
        left = 0
        for s in SEVERITIES:
            n = by_severity[s]
            if not n:
                continue
            width = max(round(n * unit), _label_width(n))
            segments.append(Segment(s, n, left, width, f"{left + width / 2:g}"))
            left += width
        bars.append(Bar(domain, title, shown, total, y, bar_y, segments, left))
        detail = ", ".join(f"{by_severity[s]} {s.value}" for s in SEVERITIES if by_severity[s])
        summary.append(f"{title}: {total} ({detail})")
        y = bar_y + BAR_HEIGHT + _ROW_GAP
    label = f"Findings by domain and severity, {scope}. " + "; ".join(summary) + "."
    return Chart(scope, legend, bars, CHART_WIDTH, y, BAR_HEIGHT, label)
