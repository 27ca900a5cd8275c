"""The impact of a rule change: the same proposals reviewed with a baseline rule set and with
the current one, compared finding by finding.

The batch machinery (:mod:`compliance.batch.windows`) reads the proposals, as ``review`` does, and
reviews each with the current rules; the one stream of the batch (:class:`_Compare`) reviews the
same proposal with the baseline rules straight after, in the same process (a forked worker for
a large batch), and turns the two reviews into a compact comparison. Neither review is kept: what
stays per proposal is its comparison when something differs (the others are counted), and per
rule the ids of the proposals it newly fires or stops firing on.

A finding is identified by its rule id and the list item it judges (a ``for_each`` rule's
subject); it is *changed* when its severity or outcome (violation, needs information) differs.
A rule *fires* on a proposal when it makes at least one finding there, of either outcome.

Proposals a decision log kept (``rules impact --decision-log``) are compared the same way, in
this process, after those of the paths: each is named by its decision's id (the same proposal
may have been decided several times), and a decision whose proposals were not kept is counted.

The baseline is judged with the current configuration: the same thresholds, waivers, severity
overrides, disabled rules and selection (``--domain``, ``--rule``, ``--skip-rule``), as far as
they name rules or domains the baseline has.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compliance import __version__
from compliance.batch import windows as batch
from compliance.batch.impact_model import (
    IMPACT_VERSION,
    DecisionChange,
    FindingChange,
    FindingRef,
    ImpactReport,
    ImpactSummary,
    LogReplay,
    NotInForce,
    ProposalImpact,
    RuleChanges,
    RuleImpact,
    RuleStatus,
)
from compliance.errors import UsageError
from compliance.gate.settings import RunSettings
from compliance.proposal.model import Proposal
from compliance.reports.stream import Stream
from compliance.review.findings import Decision, Review
from compliance.review.reviewer import EngineChoice, Reviewer
from compliance.rules.load import load_rules
from compliance.rules.ruleset import Rule, RuleSet
from compliance.rules.spec import Severity
from compliance.rules.tuning import Selection, apply, in_force

Key = tuple[str, str | None]
"""A finding's identity: its rule id and the list item it judges."""
Grade = tuple[str, Severity]
"""A finding's outcome and severity."""
Stored = Iterable[tuple[str, Sequence[Proposal] | None]]
"""Proposals a decision log kept: each decision's id and its proposals, None when they were not
kept (what ``DecisionLog.stored_proposals`` yields)."""


def baseline_rules(directories: Sequence[Path], selection: Selection) -> RuleSet:
    """The baseline rule set: ``directories`` loaded alone (no built-in rules), narrowed and
    re-graded by the current ``selection`` as far as it names the baseline's rules and domains.
    Problems are :class:`UsageError` naming ``--baseline``."""
    loaded = load_rules(list(directories), builtin=False)
    try:
        return apply(loaded, _narrowed(selection, loaded))
    except UsageError as exc:
        raise UsageError([f"--baseline: {problem}" for problem in exc.problems]) from None


def _narrowed(selection: Selection, loaded: RuleSet) -> Selection:
    severity = {r.id.upper(): r.severity for r in loaded.rules}
    domains = {r.domain.lower() for r in loaded.rules}

    def has(rule_id: str) -> bool:
        return rule_id.strip().upper() in severity

    chosen = tuple(r for r in selection.rules if has(r))
    chosen_domains = tuple(d for d in selection.domains if d.strip().lower() in domains)
    if (selection.rules or selection.domains) and not (chosen or chosen_domains):
        raise UsageError(
            "the baseline has none of the rules or domains selected "
            "(--rule, --domain); nothing to compare"
        )
    return replace(
        selection,
        domains=chosen_domains,
        rules=chosen,
        skip=tuple(r for r in selection.skip if has(r)),
        disabled=tuple(d for d in selection.disabled if has(d.rule_id)),
        # an override to the severity the baseline already gives the rule changes nothing there
        overrides=tuple(
            o
            for o in selection.overrides
            if has(o.rule_id) and severity[o.rule_id.strip().upper()] is not o.severity
        ),
    )


# ------------------------------------------------------------------ one proposal


def _graded(review: Review) -> dict[Key, Grade]:
    """Each finding's grade by its identity (the worse, should a rule judge an item twice)."""
    graded: dict[Key, Grade] = {}
    for f in review.findings:
        key = (f.rule_id, f.subject)
        grade = (f.outcome, f.severity)
        known = graded.get(key)
        if known is None or _worse(grade, known):
            graded[key] = grade
    return graded


def _worse(a: Grade, b: Grade) -> bool:
    return (a[1].rank, a[0] == "violation") > (b[1].rank, b[0] == "violation")


def _ref(key: Key, grade: Grade) -> FindingRef:
    return FindingRef.model_validate(
        {"rule_id": key[0], "item": key[1], "outcome": grade[0], "severity": grade[1]}
    )


def _order(key: Key) -> tuple[str, str]:
    return (key[0], key[1] or "")


def compare(before: Review, after: Review) -> dict[str, Any]:
    """The comparison of one proposal's two reviews, as the batch carries it: its id, both
    decisions, its :class:`ProposalImpact` (``None`` when nothing differs) and the rules that
    newly fire, stop firing or fire differently on it."""
    old, new = _graded(before), _graded(after)
    added = [_ref(k, new[k]) for k in sorted(new.keys() - old.keys(), key=_order)]
    removed = [_ref(k, old[k]) for k in sorted(old.keys() - new.keys(), key=_order)]
    changed = [
        FindingChange.model_validate(
            {
                "rule_id": k[0],
                "item": k[1],
                "outcome_before": old[k][0],
                "outcome_after": new[k][0],
                "severity_before": old[k][1],
                "severity_after": new[k][1],
            }
        )
        for k in sorted(old.keys() & new.keys(), key=_order)
        if old[k] != new[k]
    ]
    fired_before = {k[0] for k in old}
    fired_after = {k[0] for k in new}
    differing = {f.rule_id for f in [*added, *removed]} | {c.rule_id for c in changed}
    impact = None
    if added or removed or changed or before.decision is not after.decision:
        impact = ProposalImpact(
            proposal_id=after.proposal_id,
            source=after.source,
            decision_before=before.decision,
            decision_after=after.decision,
            added=added,
            removed=removed,
            changed=changed,
        )
    return {
        "id": after.proposal_id,
        "before": before.decision.value,
        "after": after.decision.value,
        "impact": None if impact is None else impact.model_dump(mode="json"),
        "newly": sorted(fired_after - fired_before),
        "stops": sorted(fired_before - fired_after),
        "changed": sorted(differing & fired_before & fired_after),
    }


@dataclass(frozen=True)
class _Compare(Stream):
    """The batch's one stream: a proposal reviewed with the baseline rules too, and the two
    reviews compared (one line of JSON per proposal)."""

    baseline: Reviewer | None = None

    def chunk(self, review: Review, first: bool, proposal: Any = None) -> str:
        if self.baseline is None or proposal is None:
            raise AssertionError("an impact comparison needs the baseline and the proposal")
        before = self.baseline.review(proposal)
        return json.dumps(compare(before, review), separators=(",", ":")) + "\n"


# ------------------------------------------------------------------ the batch


@dataclass
class _RuleTally:
    newly: list[str] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


class Tally:
    """The comparisons as the batch writes them (it is the stream's spool): the proposals that
    differ, the count of each pair of decisions, and each rule's proposals."""

    def __init__(self) -> None:
        self.decisions: Counter[tuple[Decision, Decision]] = Counter()
        self.proposals: list[ProposalImpact] = []
        self.findings_differ = 0
        self.rules: dict[str, _RuleTally] = {}

    def write(self, data: bytes, /) -> int:
        self.add(json.loads(data))
        return len(data)

    def add(self, compared: dict[str, Any]) -> None:
        """One comparison, as :func:`compare` makes it."""
        self.decisions[(Decision(compared["before"]), Decision(compared["after"]))] += 1
        if compared["impact"] is not None:
            impact = ProposalImpact.model_validate(compared["impact"])
            self.proposals.append(impact)
            if impact.added or impact.removed or impact.changed:
                self.findings_differ += 1
        for kind in ("newly", "stops", "changed"):
            for rule_id in compared[kind]:
                tally = self.rules.setdefault(rule_id, _RuleTally())
                getattr(tally, kind).append(compared["id"])


def replay(current: Reviewer, baseline: Reviewer, stored: Stored, tally: Tally) -> LogReplay:
    """Compare the proposals of ``stored`` into ``tally``, each named by its decision's id
    (``id#1``, ``id#2``, ... for a decision of several), its own id as its source."""
    decisions = replayed = proposals = 0
    for record_id, kept in stored:
        decisions += 1
        if kept is None:
            continue
        replayed += 1
        for n, proposal in enumerate(kept, 1):
            compared = compare(baseline.review(proposal), current.review(proposal))
            name = record_id if len(kept) == 1 else f"{record_id}#{n}"
            compared["id"] = name
            if compared["impact"] is not None:
                compared["impact"].update(proposal_id=name, source=proposal.id)
            tally.add(compared)
            proposals += 1
    return LogReplay(
        decisions=decisions,
        replayed=replayed,
        proposals=proposals,
        without_proposals=decisions - replayed,
    )


def _definition(rule: Rule) -> Rule:
    """What a rule is, apart from its examples and the file it is written in."""
    return replace(rule, examples=(), source="")


def rule_changes(baseline: RuleSet, current: RuleSet) -> RuleChanges:
    old = {r.id: r for r in baseline.rules}
    new = {r.id: r for r in current.rules}
    return RuleChanges(
        added=sorted(new.keys() - old.keys()),
        removed=sorted(old.keys() - new.keys()),
        changed=sorted(
            rid for rid in old.keys() & new.keys() if _definition(old[rid]) != _definition(new[rid])
        ),
    )


def _report(
    tally: Tally, current: Reviewer, baseline: Reviewer, log: LogReplay | None
) -> ImpactReport:
    now, before = current.report([]), baseline.report([])
    changes = rule_changes(baseline.ruleset, current.ruleset)
    status: dict[str, RuleStatus] = {
        **dict.fromkeys(changes.added, "added"),
        **dict.fromkeys(changes.removed, "removed"),
        **dict.fromkeys(changes.changed, "changed"),
    }
    rules = []
    for rule_id in sorted(status.keys() | tally.rules.keys()):
        t = tally.rules.get(rule_id, _RuleTally())
        rules.append(
            RuleImpact(
                rule_id=rule_id,
                status=status.get(rule_id, "unchanged"),
                newly_fires=len(t.newly),
                stops_firing=len(t.stops),
                changed=len(t.changed),
                newly_fires_on=t.newly,
                stops_firing_on=t.stops,
                changed_on=t.changed,
            )
        )
    total = sum(tally.decisions.values())
    return ImpactReport(
        impact_version=IMPACT_VERSION,
        tool_version=__version__,
        engine=current.engine,
        baseline=before.rule_set,
        current=now.rule_set,
        in_force_on=current.ruleset.as_of,
        not_in_force=NotInForce(baseline=before.rules_not_in_force, current=now.rules_not_in_force),
        threshold=now.threshold,
        domain_thresholds=now.domain_thresholds,
        rule_changes=changes,
        summary=ImpactSummary(
            proposals=total,
            decided_differently=sum(n for (b, a), n in tally.decisions.items() if b is not a),
            findings_differ=tally.findings_differ,
            unchanged=total - len(tally.proposals),
            decisions=[
                DecisionChange(before=b, after=a, proposals=tally.decisions[(b, a)])
                for b in Decision
                for a in Decision
                if tally.decisions[(b, a)]
            ],
        ),
        proposals=tally.proposals,
        rules=rules,
        decision_log=log,
    )


def impact(
    current: Reviewer,
    baseline: Reviewer,
    paths: Sequence[str],
    jobs: int | None = None,
    stored: Stored | None = None,
) -> ImpactReport:
    """Review every proposal of ``paths``, then those ``stored`` (a decision log's), with both
    reviewers and compare; raises :class:`~compliance.errors.InputError` with every problem of
    the input (nothing is then reported), :class:`UsageError` when a log alone gives nothing
    to compare."""
    tally = Tally()
    if paths or stored is None:
        stream = _Compare("impact", current.ruleset.domain_title, baseline=baseline)
        plan = batch.Plan(current, (stream,))
        batch.run(plan, list(paths), [tally], jobs or batch.default_jobs())
    log = None if stored is None else replay(current, baseline, stored, tally)
    if log is not None and not paths and not log.proposals:
        raise UsageError(
            f"--decision-log: nothing to compare: {log.not_replayed()} "
            "(the service keeps them only with --keep-proposals)"
            if log.decisions
            else "--decision-log: the log holds no decision"
        )
    return _report(tally, current, baseline, log)


def run(
    ruleset: RuleSet,
    settings: RunSettings,
    baseline_dirs: Sequence[Path],
    selection: Selection,
    paths: Sequence[str],
    *,
    engine: EngineChoice = "auto",
    jobs: int | None = None,
    in_force_on: dt.date | None = None,
    stored: Stored | None = None,
) -> tuple[ImpactReport, str | None]:
    """``rules impact``: the current ``ruleset`` and the baseline in ``baseline_dirs``, both
    judged with ``settings`` (thresholds, waivers), compared over ``paths``. Each rule set runs
    the rules in force on ``in_force_on`` (default: the judgment day, ``settings.as_of``), which
    may be after today. ``stored``: a decision log's kept proposals, compared after ``paths``.
    Returns the report and why the reference evaluator decides, if it does in place of
    durable_rules."""
    day = in_force_on or settings.as_of.value
    base = baseline_rules(baseline_dirs, selection)
    try:
        base = in_force(base, day)
    except UsageError as exc:
        raise UsageError([f"--baseline: {problem}" for problem in exc.problems]) from None
    ruleset = in_force(ruleset, day)
    threshold, waivers = settings.thresholds.value, settings.waivers
    with (
        Reviewer(ruleset, engine=engine, threshold=threshold, waivers=waivers) as current,
        Reviewer(base, engine=engine, threshold=threshold, waivers=waivers) as baseline,
    ):
        from compliance.batch.progress import on_terminal  # noqa: PLC0415 - as review imports it

        with on_terminal(enabled=True):
            return impact(current, baseline, paths, jobs, stored), current.fallback
