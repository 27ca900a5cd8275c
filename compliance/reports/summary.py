"""What a review comes to, in a few lines: the summary that text and HTML reports open with.

Per review: the decision, then one line per finding, worst first (open violations, then questions
the proposal left open, then waived findings; within each, the worse severity first, then the
rule id, then the item), each with its severity, rule and title, the list item it is about named
by what it holds (``data flow "Ministry of Interior"`` rather than ``data_sharing.flows[1]``)
and, for workbook input, its sheet and row. For a review that needs information, a checklist of
the questions to answer (by sheet and cell for workbooks). For a batch, the count of each
decision, worst first.

The functions here return data (frozen dataclasses); :func:`summary_lines`,
:func:`checklist_lines` and :func:`counts_line` render it as text.

An item of a table is called by its model's name (``DataFlow``: "data flow") and named by the
first text field of its model (see :mod:`compliance.review.items`), as the review recorded it
(:attr:`~compliance.review.findings.Review.item_names`). An item the review gives no name (its
name is not answered, or the review was made before report 1.5) is called by its place
(``data flow 2``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from compliance.proposal.sourcemap import Location
from compliance.review.findings import Decision, Finding, Review, Summary, UnansweredField
from compliance.review.items import ITEM, item_of, table_of
from compliance.rules.spec import Severity

WORST_FIRST: tuple[Decision, ...] = (
    Decision.reject,
    Decision.needs_information,
    Decision.approve_with_conditions,
    Decision.approve,
)
"""Decisions from the one that most needs a reader to the one that least does."""

FAILING: frozenset[Decision] = frozenset({Decision.reject, Decision.needs_information})
"""Decisions that fail the gate (a non-zero exit)."""

NAME_MAX = 40
"""An item's name is shown up to this many characters (then cut, with an ellipsis)."""


@dataclass(frozen=True)
class Place:
    """Where in a workbook a finding or question is: the sheet, the row and the cell (of an
    answer, or, for an answer not given, where it is to be given)."""

    sheet: str
    row: int
    cell: str


@dataclass(frozen=True)
class FindingLine:
    """One finding as the summary shows it."""

    outcome: Literal["violation", "needs_information"]
    waived: bool
    severity: Severity
    rule_id: str
    title: str
    item: str | None
    """The list item the finding is about, named (``data flow "Ministry"``); None: the proposal."""
    subject: str | None
    """The item's path (``data_sharing.flows[1]``), as in the finding."""
    place: Place | None
    """For workbook input: the item's row, or the row of the answer the finding rests on."""


@dataclass(frozen=True)
class Question:
    """One question a proposal left open, as the checklist shows it."""

    question: str
    path: str
    item: str | None
    """The list item the question is about, named; None: a question about the proposal."""
    rules: tuple[str, ...]
    place: Place | None
    """For workbook input: the cell to fill in."""


@dataclass(frozen=True)
class ReviewSummary:
    proposal_id: str
    title: str
    decision: Decision
    lines: tuple[FindingLine, ...]
    questions: tuple[Question, ...]

    @property
    def questions_first(self) -> bool:
        """Whether the questions are what a reader needs first: the proposal is incomplete
        (its decision waits on them)."""
        return self.decision is Decision.needs_information and bool(self.questions)


@dataclass(frozen=True)
class DecisionCounts:
    proposals: int
    counts: tuple[tuple[Decision, int], ...]
    """Each decision with its count, worst first; decisions no proposal got are left out."""


# ------------------------------------------------------------------------------ item names


def item_label(item: str, names: Mapping[str, str]) -> str:
    """``data flow "Ministry of Interior"``, or ``data flow 2`` when the item has no name."""
    match = ITEM.match(item)
    table = table_of(item)
    if match is None or table is None:
        return item
    noun = table.noun
    name = names.get(item)
    if name is None:
        return f"{noun} {int(match.group(2)) + 1}"
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        name = name[: NAME_MAX - 1].rstrip() + "…"
    return f'{noun} "{name}"'


# ------------------------------------------------------------------------------ summaries


def _row(location: Location | None) -> Place | None:
    if location is None or location.sheet is None or not location.cell:
        return None
    row = int(re.sub(r"^[A-Z]+", "", location.cell))
    return Place(location.sheet, row, location.cell)


def _finding_place(f: Finding) -> Place | None:
    """For an item, its row (every answer of the item is on it); otherwise the row of the first
    answer the finding rests on (that breaks the rule, or is missing: where it is to be given)."""
    for e in f.evidence:
        if f.subject is not None and not e.path.startswith(f.subject + "."):
            continue
        if f.subject is None and e.role == "context":
            continue
        if (place := _row(e.location)) is not None:
            return place
    return None


def line_order(line: FindingLine) -> tuple[bool, bool, int, str, int]:
    """Worst first: open violations, then questions, then waived findings; within each, by
    severity, rule id, then item order."""
    index = 0
    if line.subject is not None and (match := ITEM.match(line.subject)) is not None:
        index = int(match.group(2))
    return (
        line.waived,
        line.outcome != "violation",
        -line.severity.rank,
        line.rule_id,
        index,
    )


def _question(u: UnansweredField, names: Mapping[str, str]) -> Question:
    item = item_of(u.path)
    return Question(
        question=u.question,
        path=u.path,
        item=None if item is None else item_label(item, names),
        rules=tuple(u.rules),
        place=_row(u.location),
    )


def summarize(review: Review, names: Mapping[str, str] | None = None) -> ReviewSummary:
    """The summary of one review, its items named as the review names them (``names``, when
    given, instead: kept for callers written before reviews carried their items' names)."""
    names = review.item_names if names is None else names
    lines = [
        FindingLine(
            outcome=f.outcome,
            waived=f.waived,
            severity=f.severity,
            rule_id=f.rule_id,
            title=f.title,
            item=None if f.subject is None else item_label(f.subject, names),
            subject=f.subject,
            place=_finding_place(f),
        )
        for f in review.findings
    ]
    return ReviewSummary(
        proposal_id=review.proposal_id,
        title=review.title,
        decision=review.decision,
        lines=tuple(sorted(lines, key=line_order)),
        questions=tuple(_question(u, names) for u in review.unanswered),
    )


def decision_counts(summary: Summary) -> DecisionCounts:
    """A batch's decisions, worst first."""
    return DecisionCounts(
        proposals=summary.proposals,
        counts=tuple((d, n) for d in WORST_FIRST if (n := summary.decisions.get(d, 0))),
    )


def decision_rank(decision: Decision) -> int:
    """0 for the worst decision (reject), 3 for approve: the order of a batch's reviews."""
    return WORST_FIRST.index(decision)


# ------------------------------------------------------------------------------ as text

_OUTCOME = {
    ("violation", False): "violation",
    ("needs_information", False): "needs information",
    ("violation", True): "waived",
    ("needs_information", True): "waived",
}
_OUTCOME_WIDTH = max(len(text) for text in _OUTCOME.values())
_SEVERITY_WIDTH = max(len(s.value) for s in Severity)


def place_text(place: Place, *, cell: bool = False) -> str:
    """``Data sharing flows, row 3`` (or, with ``cell``, ``Oversight!C22``)."""
    return f"{place.sheet}!{place.cell}" if cell else f"{place.sheet}, row {place.row}"


def finding_line_text(line: FindingLine, rule_width: int = 0) -> str:
    """``violation          blocker  DS-003   Title  (data flow "X"; Data sharing flows, row 3)``:
    proposal text in it is not yet escaped for a terminal."""
    about = [text for text in (line.item, line.place and place_text(line.place)) if text]
    where = f"  ({'; '.join(about)})" if about else ""
    outcome = _OUTCOME[(line.outcome, line.waived)]
    return (
        f"{outcome:<{_OUTCOME_WIDTH}}  {line.severity.value:<{_SEVERITY_WIDTH}}  "
        f"{line.rule_id:<{rule_width}}  {line.title}{where}"
    )


def summary_lines(summary: ReviewSummary) -> list[str]:
    """The one-line findings of a review, worst first (not indented, not escaped)."""
    width = max((len(line.rule_id) for line in summary.lines), default=0)
    return [finding_line_text(line, width) for line in summary.lines]


def question_text(q: Question) -> tuple[str, str]:
    """A checklist entry: the question (with the item it is about), and where to answer it:
    the field's path, its cell for workbooks, and the rules that need it."""
    asked = f"{q.item}: {q.question}" if q.item is not None else q.question
    where = q.path if q.place is None else f"{place_text(q.place, cell=True)}, {q.path}"
    return asked, f"{where}; needed by {', '.join(q.rules)}"


def counts_line(counts: DecisionCounts) -> str:
    """``3 proposals: 1 reject, 2 approve`` (worst first)."""
    n = counts.proposals
    shown = ", ".join(f"{k} {d.value}" for d, k in counts.counts)
    return f"{n} proposal{'s' if n != 1 else ''}: {shown or 'none'}"


def written_line(files: Iterable[str], counts: DecisionCounts, code: int) -> str:
    """What a review that wrote its reports to files says on standard error:
    ``wrote report.json, report.html; 3 proposals: 1 reject, 2 approve; exit 3``."""
    return f"wrote {', '.join(files)}; {counts_line(counts)}; exit {code}"
