"""The HTML report's chart: findings by domain and severity, as inline SVG.

Stacked horizontal bars, one per domain (all proposals of a batch), each segment labelled with
its count and the bar with its total; a legend with each severity's total; the whole described
in the SVG's title and aria-label for screen readers. "No findings" when there are none.
"""

from __future__ import annotations

from collections.abc import Callable

from compliance.reports.html_parts import SEVERITIES, SEVERITY_COLOUR, SEVERITY_INK, esc
from compliance.reports.xlsx import domain_counts
from compliance.review.findings import Report

# The chart's geometry, in CSS pixels (it scales down to the page when printed).
CHART_WIDTH = 760
_BAR_AREA = 700  # the longest bar; its total is written after it
_LEGEND_HEIGHT = 30
_LABEL_HEIGHT = 18
_BAR_HEIGHT = 24
_ROW_GAP = 10
_DIGIT_WIDTH = 8
_MAX_UNIT = 44  # at most this wide per finding: a bar of 2 is not a full-width bar


def _label_width(n: int) -> int:
    """The width a segment needs to hold its count."""
    return _DIGIT_WIDTH * len(str(n)) + 4


def chart_html(report: Report, domain_title: Callable[[str], str]) -> str:
    counts = domain_counts(report)
    scope = "all proposals" if len(report.reviews) > 1 else "this proposal"
    heading = f'<h2 id="chart">Findings by domain and severity <small>({scope})</small></h2>\n'
    if not counts:
        return (
            f'<section class="chart">\n{heading}<p class="no-findings">No findings.</p>\n</section>'
        )
    totals = {s: sum(c[s] for c in counts.values()) for s in SEVERITIES}
    biggest = max(sum(c.values()) for c in counts.values())
    # Every segment is at least as wide as its count, so that every count can be read on the
    # page and in print (a few blockers beside a hundred questions would otherwise lose theirs);
    # the room those minimums take is kept out of the scale, so no bar outgrows the area.
    reserved = max(sum(_label_width(n) for n in c.values() if n) for c in counts.values())
    unit = min((_BAR_AREA - reserved) / biggest, _MAX_UNIT)
    out: list[str] = []
    x = 0
    for s in SEVERITIES:  # the legend
        label = f"{s.value} ({totals[s]})"
        out.append(
            f'<g class="legend-item" data-severity="{s.value}" data-total="{totals[s]}">'
            f'<rect x="{x}" y="6" width="14" height="14" fill="{SEVERITY_COLOUR[s]}"/>'
            f'<text x="{x + 19}" y="18">{label}</text></g>'
        )
        x += 19 + 8 * len(label) + 22
    y = _LEGEND_HEIGHT
    summary = []
    for domain, by_severity in counts.items():
        title = domain_title(domain)
        total = sum(by_severity.values())
        shown = title if len(title) <= 90 else title[:89] + "…"
        out.append(f'<g class="bar" data-domain="{esc(domain)}" data-total="{total}">')
        out.append(f'<text class="domain" x="0" y="{y + 13}">{esc(shown)}</text>')
        bar_y = y + _LABEL_HEIGHT
        left = 0
        for s in SEVERITIES:
            n = by_severity[s]
            if not n:
                continue
            width = max(round(n * unit), _label_width(n))
            out.append(
                f'<rect class="segment" x="{left}" y="{bar_y}" width="{width}" '
                f'height="{_BAR_HEIGHT}" fill="{SEVERITY_COLOUR[s]}" data-severity="{s.value}" '
                f'data-count="{n}"><title>{esc(title)}: {n} {s.value}</title></rect>'
            )
            out.append(
                f'<text class="count" x="{left + width / 2:g}" y="{bar_y + 17}" '
                f'text-anchor="middle" fill="{SEVERITY_INK[s]}" '
                f'data-severity="{s.value}">{n}</text>'
            )
            left += width
        out.append(f'<text class="total" x="{left + 6}" y="{bar_y + 17}">{total}</text></g>')
        detail = ", ".join(f"{by_severity[s]} {s.value}" for s in SEVERITIES if by_severity[s])
        summary.append(f"{title}: {total} ({detail})")
        y = bar_y + _BAR_HEIGHT + _ROW_GAP
    height = y
    label = f"Findings by domain and severity, {scope}. " + "; ".join(summary) + "."
    return (
        f'<section class="chart">\n{heading}'
        f'<svg id="chart-findings" class="chart-findings" role="img" aria-label="{esc(label)}" '
        f'width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">\n'
        f"<title>{esc(label)}</title>\n" + "\n".join(out) + "\n</svg>\n"
        '<p class="note">Every finding counts: violations, open questions and waived findings. '
        "Hover over a segment for its count.</p>\n</section>"
    )
