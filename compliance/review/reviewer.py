"""The review: a proposal and a rule set in, findings and a decision out. A plain library call.

>>> from compliance import Reviewer, load_rules
>>> with Reviewer(load_rules()) as reviewer:          # compile once per rule set
...     review = reviewer.review(proposal)            # any number of times

The durable_rules engine decides which rules fire; the reference evaluator explains each firing
(its evidence), judging the rule again on its own. How much of the rule set the reference
evaluator judges beside the engine is the cross-check (``cross_check``):

- ``fired`` (the default): the rules the engine fired (violated, or needing information). The two
  must agree on each of them; a rule the engine did not fire is not judged again.
- ``full``: every rule, fired or not; any disagreement fails.
- ``sample``: ``full`` on one proposal in :data:`SAMPLE_EVERY`, chosen by a hash of its id (so the
  choice does not depend on the order of a batch or the number of workers), ``fired`` on the rest.

A rule's outcomes do not depend on which other rules were judged, so when the engines agree the
three give the same review. When they disagree, the review fails with :class:`EngineError`
instead of reporting a result nobody can explain, or a pass that one of them contradicts.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from compliance import __version__
from compliance.errors import EngineError
from compliance.proposal.fields import catalogue, generic_path
from compliance.proposal.model import Proposal
from compliance.proposal.sourcemap import Location, SourceMap
from compliance.review.decision import DEFAULT_THRESHOLD, Thresholds, decide
from compliance.review.findings import (
    REPORT_VERSION,
    Counts,
    Decision,
    DisabledRuleOut,
    EscalationOut,
    Evidence,
    Finding,
    ReferenceOut,
    Report,
    Review,
    RuleNotInForceOut,
    RuleSetOut,
    RuleSourceOut,
    SelectionOut,
    SeverityChange,
    SeverityOverrideOut,
    Summary,
    UnansweredField,
)
from compliance.review.items import item_names
from compliance.rules import durable as durable_engine
from compliance.rules import templates
from compliance.rules.compiler import compile_ruleset
from compliance.rules.durable import DurableEngine
from compliance.rules.escalation import escalation_test
from compliance.rules.reference import (
    TV,
    Outcome,
    ReferenceEvaluator,
    lookup_for_template,
    outcome_test,
    plain,
    proposal_view,
    worst_by_rule,
)
from compliance.rules.ruleset import Escalation, Rule, RuleSet
from compliance.rules.spec import Severity

if TYPE_CHECKING:
    from compliance.review.redact import Redactor
    from compliance.review.waivers import Waivers

EngineName = Literal["durable", "reference"]
ENGINES: tuple[EngineName, ...] = ("durable", "reference")
EngineChoice = Literal["auto", "durable", "reference"]
ENGINE_CHOICES: tuple[EngineChoice, ...] = ("auto", *ENGINES)
"""What ``--engine`` accepts: ``auto`` (the default) is durable_rules where it loads, else the
reference evaluator, said in the report; an explicit ``durable`` that cannot load is an error."""

CrossCheck = Literal["fired", "full", "sample"]
CROSS_CHECKS: tuple[CrossCheck, ...] = ("fired", "full", "sample")
"""How much the reference evaluator judges beside the durable engine; the first is the default."""

SAMPLE_EVERY = 32
"""``sample`` cross-checks every rule on one proposal in this many (by a hash of its id)."""


def sampled(proposal_id: str) -> bool:
    """Whether the ``sample`` cross-check judges every rule of this proposal: the same answer
    for the same id in every run, batch order and number of workers."""
    return zlib.crc32(proposal_id.encode("utf-8", "surrogatepass")) % SAMPLE_EVERY == 0


def question_of(path: str) -> str:
    spec = catalogue().get(generic_path(path))
    return spec.question if spec is not None else path


class Reviewer:
    """A rule set compiled once, ready to review any number of proposals.

    ``engine`` picks what decides which rules fire: ``durable`` (durable_rules), ``reference``
    (the plain-Python evaluator alone) or ``auto`` (the default: durable_rules where it loads,
    else the reference evaluator; :attr:`engine` is the one that runs and :attr:`fallback` says
    why it is not durable_rules). ``cross_check`` (one of
    :data:`CROSS_CHECKS`, see the module notes) sets how much of the rule set the reference
    evaluator judges beside the durable engine. Reviews leave no state behind.
    """

    def __init__(
        self,
        ruleset: RuleSet,
        *,
        engine: EngineChoice = "auto",
        threshold: Severity | Thresholds = DEFAULT_THRESHOLD,
        waivers: Waivers | None = None,
        cross_check: CrossCheck = "fired",
        redaction: Redactor | None = None,
    ) -> None:
        if cross_check not in CROSS_CHECKS:
            raise ValueError(f"unknown cross-check {cross_check!r}")
        if engine not in ENGINE_CHOICES:
            raise ValueError(f"unknown engine {engine!r}")
        self.ruleset = ruleset
        self.engine: EngineName
        self.engine, self.fallback = durable_engine.resolve(engine)
        self.cross_check = cross_check
        self.thresholds = threshold if isinstance(threshold, Thresholds) else Thresholds(threshold)
        self.waivers = waivers
        self.redaction = redaction
        """Set for a redacted report: proposals are reviewed as copies with placeholders."""
        self._reference = ReferenceEvaluator(ruleset)
        self._parts: dict[str, _RuleParts] = {}
        self._durable = None
        if self.engine == "durable":
            self._durable = DurableEngine(compile_ruleset(ruleset))

    # ------------------------------------------------------------------ evaluation

    def outcomes(self, proposal: Proposal) -> list[Outcome]:
        """Every rule outcome that is not a pass, explained, for one proposal."""
        return self._outcomes(proposal_view(proposal), proposal.id)

    def _outcomes(self, view: dict[str, Any], proposal_id: str) -> list[Outcome]:
        if self._durable is None:
            return self._reference.outcomes(view)
        fired = self._durable.results(view)
        if self.cross_check == "full" or (self.cross_check == "sample" and sampled(proposal_id)):
            outcomes = self._reference.outcomes(view)
        else:
            outcomes = self._reference.outcomes_of(view, fired)
        explained = worst_by_rule(outcomes)
        if explained != fired:
            diff = sorted(
                f"{rid} (engine {fired.get(rid, TV.FALSE).name}, "
                f"reference {explained.get(rid, TV.FALSE).name})"
                for rid in set(fired) | set(explained)
                if fired.get(rid) != explained.get(rid)
            )
            raise EngineError(
                f"{proposal_id}: the rule engine and the reference evaluator disagree on "
                + ", ".join(diff)
            )
        return outcomes

    # ------------------------------------------------------------------ findings

    def _view(self, proposal: Proposal) -> dict[str, Any]:
        view = proposal_view(proposal)
        return view if self.redaction is None else self.redaction.view(view)

    def _findings(
        self,
        proposal_id: str,
        view: dict[str, Any],
        outcomes: list[Outcome],
        source_map: SourceMap | None,
    ) -> list[Finding]:
        findings = [
            self._finding(outcome, view, source_map)
            for outcome in outcomes
            if outcome.result is TV.TRUE or outcome.rule.when_unanswered == "needs_information"
        ]
        if self.waivers is not None:
            findings = [self.waivers.apply(proposal_id, f, view) for f in findings]
        return findings

    def findings_of(self, proposal: Proposal, rule_id: str) -> list[Finding]:
        """The findings of one rule on ``proposal``, as :meth:`review` gives them (waivers
        applied; no source map, and not passed through redaction, which a redacting review
        applies to the whole review afterwards), with every rule evaluated and the engines
        checked against each other but only this rule's findings written: what a rule's own
        examples need (``rules test``)."""
        view = self._view(proposal)
        mine = [o for o in self._outcomes(view, proposal.id) if o.rule.id == rule_id]
        return self._findings(proposal.id, view, mine, None)

    def review(self, proposal: Proposal, source_map: SourceMap | None = None) -> Review:
        view = self._view(proposal)
        findings = self._findings(proposal.id, view, self._outcomes(view, proposal.id), source_map)
        findings.sort(
            key=lambda f: (-f.severity.rank, f.outcome != "violation", f.domain, f.rule_id)
        )
        unanswered = _unanswered(findings)
        review = Review.made(
            proposal_id=proposal.id,
            title=view["title"],
            source=source_map.source if source_map is not None else None,
            decision=decide(findings, self.thresholds),
            counts=_counts(findings),
            findings=findings,
            unanswered=unanswered,
            # from the view as reviewed: a redacted review names its items by placeholders
            item_names=item_names(view, findings, unanswered),
        )
        if self.redaction is not None:  # the id still matched waivers; now it is hidden
            review = self.redaction.review(review)
            review = review.model_copy(
                update={"proposal_id": self.redaction.proposal_id(proposal.id)}
            )
        return review

    def _finding(
        self, outcome: Outcome, view: dict[str, Any], source_map: SourceMap | None
    ) -> Finding:
        rule = outcome.rule
        parts = self._parts.get(rule.id)
        if parts is None:
            parts = self._parts[rule.id] = _RuleParts(rule)
        locate: Callable[[str], Location | None] = (
            source_map.locate if source_map is not None else _nowhere
        )
        lookup = lookup_for_template(view, outcome)
        evidence: list[Evidence] = []
        seen_paths: set[str] = set()
        if outcome.result is TV.TRUE:
            outcome_kind: Literal["violation", "needs_information"] = "violation"
            message = parts.message(lookup)
            ordered = [(s, "violation") for s in outcome.violation]
            ordered += [(s, "context") for s in outcome.context]
        else:
            outcome_kind = "needs_information"
            missing = outcome.unanswered
            questions = "; ".join(f"{question_of(p)} ({p})" for p in missing)
            message = f"Not enough information to check this rule. Answer: {questions}"
            everything = list(outcome.violation) + list(outcome.context)
            ordered = [(s, "unanswered") for s in everything if s.value is None]
            ordered += [(s, "context") for s in everything if s.value is not None]
        for seen, role in ordered:
            if seen.path in seen_paths:
                continue
            seen_paths.add(seen.path)
            evidence.append(
                Evidence.made(
                    path=seen.path, value=plain(seen.value), role=role, location=locate(seen.path)
                )
            )
        remediation = parts.remediation(lookup)
        if outcome_kind == "needs_information":
            remediation = (
                "Answer the questions named in this finding in the proposal, then review it again. "
                f"If the answers show a violation: {remediation}"
            )
        raised = parts.escalation(view, outcome)
        return Finding.made(
            rule_id=rule.id,
            outcome=outcome_kind,
            domain=rule.domain,
            severity=rule.severity if raised is None else raised.severity,
            title=rule.title,
            message=message,
            subject=outcome.subject,
            evidence=evidence,
            remediation=remediation,
            references=parts.references(view, outcome),
            severity_override=parts.severity_override,
            escalation=None if raised is None else parts.escalation_out(raised),
            waived=False,
            waiver=None,
        )

    # ------------------------------------------------------------------ report

    def report(self, reviews: list[Review]) -> Report:
        made = build_report(reviews, self.ruleset, self.engine, self.thresholds, self.waivers)
        return made if self.redaction is None else self.redaction.report(made)

    def close(self) -> None:
        if self._durable is not None:
            self._durable.close()

    def __enter__(self) -> Reviewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_Test = Callable[[dict[str, Any], Outcome], TV]


def _nowhere(path: str) -> None:
    """Where an answer is when the proposal came with no source map (a library call)."""


class _RuleParts:
    """What every finding of one rule shares, made once per rule set: its references (each with
    the test of its ``binds_when``), severity override, escalations and templates. The report's
    models are frozen, so the same instance can be in every finding."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.message = templates.compiled(rule.message)
        self.remediation = templates.compiled(rule.remediation)
        self.escalation = escalation_test(rule)
        self.severity_override = _severity_change(rule)
        self._escalations: dict[int, EscalationOut] = {}
        self._references: list[tuple[ReferenceOut, _Test | None, ReferenceOut]] = []
        for ref in rule.references:
            if ref.binds_when is None:
                made = ReferenceOut(**ref.to_dict())
                self._references.append((made, None, made))
            else:
                self._references.append(
                    (
                        ReferenceOut(**ref.to_dict("required")),
                        outcome_test(ref.binds_when, rule.for_each),
                        ReferenceOut(**ref.to_dict("good_practice")),
                    )
                )

    def references(self, view: dict[str, Any], outcome: Outcome) -> list[ReferenceOut]:
        return [
            made if binds is None or binds(view, outcome) is TV.TRUE else otherwise
            for made, binds, otherwise in self._references
        ]

    def escalation_out(self, raised: Escalation) -> EscalationOut:
        made = self._escalations.get(id(raised))
        if made is None:
            made = EscalationOut(base_severity=self.rule.severity, reason=raised.reason)
            self._escalations[id(raised)] = made
        return made


def _severity_change(rule: Rule) -> SeverityChange | None:
    o = rule.override
    if o is None:
        return None
    return SeverityChange(original_severity=o.original, reason=o.reason, origin=o.origin)


def _selection(ruleset: RuleSet) -> SelectionOut | None:
    t = ruleset.tuning
    if t is None:
        return None
    return SelectionOut(
        config=t.config,
        builtin_rules=t.builtin,
        rules_loaded=t.loaded,
        rules_run=len(ruleset.rules),
        domains=list(t.domains),
        rules=list(t.rules),
        skipped=list(t.skipped),
        disabled=[
            DisabledRuleOut(rule_id=d.rule_id, reason=d.reason, origin=d.origin) for d in t.disabled
        ],
        severity_overrides=[
            SeverityOverrideOut(
                rule_id=r.id,
                severity=r.severity,
                original_severity=r.override.original,
                reason=r.override.reason,
                origin=r.override.origin,
            )
            for r in ruleset.rules
            if r.override is not None
        ],
    )


def _counts(findings: list[Finding]) -> Counts:
    violations = dict.fromkeys(Severity, 0)
    unknown = dict.fromkeys(Severity, 0)
    waived = dict.fromkeys(Severity, 0)
    for f in findings:
        target = waived if f.waived else violations if f.outcome == "violation" else unknown
        target[f.severity] += 1
    return Counts.made(violations=violations, needs_information=unknown, waived=waived)


def _unanswered(findings: list[Finding]) -> list[UnansweredField]:
    found: dict[str, tuple[list[str], Any]] = {}
    for f in findings:
        if f.outcome != "needs_information":
            continue
        for e in f.evidence:
            if e.role == "unanswered":
                rules, _ = found.setdefault(e.path, ([], e.location))
                if f.rule_id not in rules:
                    rules.append(f.rule_id)
    return [
        UnansweredField.made(path=path, question=question_of(path), rules=rules, location=location)
        for path, (rules, location) in found.items()
    ]


def build_report(
    reviews: list[Review],
    ruleset: RuleSet,
    engine: EngineName,
    threshold: Severity | Thresholds,
    waivers: Waivers | None = None,
) -> Report:
    thresholds = threshold if isinstance(threshold, Thresholds) else Thresholds(threshold)
    decisions = dict.fromkeys(Decision, 0)
    for r in reviews:
        decisions[r.decision] += 1
    return Report(
        report_version=REPORT_VERSION,
        tool_version=__version__,
        engine=engine,
        rule_set=RuleSetOut(
            name=ruleset.name,
            version=ruleset.version,
            hash=ruleset.hash,
            rule_count=len(ruleset.rules),
            sources=[RuleSourceOut.model_validate(s.to_dict()) for s in ruleset.sources],
        ),
        threshold=thresholds.default,
        domain_thresholds=dict(thresholds.domains),
        selection=_selection(ruleset),
        as_of=ruleset.as_of,
        rules_not_in_force=[RuleNotInForceOut(**vars(n)) for n in ruleset.not_in_force],
        waivers=waivers.usage(reviews, ruleset) if waivers is not None else None,
        summary=Summary(proposals=len(reviews), decisions=decisions),
        reviews=reviews,
    )
