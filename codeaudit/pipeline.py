"""suggestions -> auditors -> (disable, severity overrides, allowlist, inline suppressions, baseline) -> report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from . import languages, suppress
from ._version import __version__
from .auditors.base import Auditor, Outcome, Progress
from .config import Config
from .context import split_lines
from .errors import UsageError
from .inputs import quoted, suggestion_from_mapping, unique_id
from .model import (
    AuditError,
    AuditResult,
    Finding,
    InputIssue,
    Report,
    Severity,
    Suggestion,
    Verdict,
)
from .redact import Masker, masked
from .registry import Rule, load_auditor_class


class Baseline(Protocol):
    """Anything that marks already-known findings (see :mod:`codeaudit.change.baseline`)."""

    def mark(self, suggestion: Suggestion, findings: Sequence[Finding]) -> list[Finding]: ...


SuggestionLike = Suggestion | Mapping[str, Any] | str


@dataclass(frozen=True, slots=True)
class Unit:
    """What one result is made of: the suggestion it reports on (suppressions are read from its
    completion, the baseline keys on its path) and what each auditor found there, as
    ``(auditor name, outcome)`` pairs in report order (a name may repeat: a change layer folds the
    outcomes of several suggestions into one file). ``data`` replaces the auditors' data when set.
    """

    suggestion: Suggestion
    parts: Sequence[tuple[str, Outcome]]
    data: Mapping[str, Any] | None = None


#: Folds the screened outcomes of the admitted suggestions (one ``(name, outcome)`` list per
#: suggestion) into the units the report has one result each for.
Fold = Callable[[Sequence[Suggestion], Sequence[Sequence[tuple[str, Outcome]]]], Sequence[Unit]]
#: The severity at or above which an active finding fails the verdict.
Threshold = Callable[[Finding], Severity]


def audit(
    suggestions: Iterable[SuggestionLike],
    config: Config | None = None,
    *,
    auditors: Sequence[str | Auditor] | None = None,
    baseline: Baseline | None = None,
    input_issues: Iterable[InputIssue] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Audit suggestions and return a :class:`~codeaudit.model.Report`.

    ``suggestions`` may hold :class:`Suggestion` objects, mappings in the batch contract's shape,
    or plain code strings. ``auditors`` overrides ``config.auditors`` with names or ready
    instances (instances are reused and not closed, so a long-running review bot pays set-up once).
    ``progress(done, total)`` is called as work finishes.

    >>> from codeaudit import audit
    >>> report = audit([{"id": "a", "completion": "key = open('/home/alice/.ssh/id_rsa').read()\\n"}],
    ...                auditors=["privacy"])
    >>> [(f.rule_name, f.evidence["username"]) for _, f in report.findings()]
    [('username-in-path', 'alice')]
    """
    return run(
        suggestions,
        config,
        auditors=auditors,
        baseline=baseline,
        input_issues=input_issues,
        progress=progress,
    )


def run(
    suggestions: Iterable[SuggestionLike],
    config: Config | None = None,
    *,
    auditors: Sequence[str | Auditor] | None = None,
    baseline: Baseline | None = None,
    input_issues: Iterable[InputIssue] = (),
    progress: Callable[[int, int], None] | None = None,
    fold: Fold | None = None,
    threshold: Threshold | None = None,
    fail_on: Severity | None = None,
) -> Report:
    """:func:`audit`, with what a layer above (the change layer) needs to report on other units
    than the suggestions: ``fold`` groups the auditors' screened outcomes into :class:`Unit`\\ s
    (before suppressions, the baseline and the verdict, which are made here once per unit);
    ``threshold(finding)`` is the severity at which a finding fails (default: ``fail_on``, itself
    defaulting to ``config.fail_on``), so a stricter policy for some findings needs no second
    verdict.
    """
    config = config or Config()
    fail_on = config.fail_on if fail_on is None else fail_on
    admitted, issues = admit(suggestions, config)
    issues = [*input_issues, *issues]

    owned: list[Auditor] = []
    instances: list[Auditor] = []
    for item in auditors if auditors is not None else config.auditors:
        if isinstance(item, Auditor):
            instances.append(item)
        elif isinstance(item, str):
            inst = load_auditor_class(item)(config)
            owned.append(inst)
            instances.append(inst)
        else:
            raise UsageError(f"auditors: expected a name or an Auditor, got {type(item).__name__}")

    total = len(admitted) * len(instances)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    per_suggestion: list[list[Outcome]] = [[] for _ in admitted]
    timings: dict[str, float] = {}
    names = [a.name for a in instances]
    try:
        for auditor in instances:
            started = time.perf_counter()
            before = done
            outcomes = _run_auditor(auditor, admitted, advance)
            # auditors that report no progress still finish
            advance(len(admitted) - (done - before))
            timings[auditor.name] = round(time.perf_counter() - started, 4)
            for slot, outcome in zip(per_suggestion, outcomes):
                slot.append(outcome)
        screened = [_screened(s, names, outs, config) for s, outs in zip(admitted, per_suggestion)]
        units = (
            fold(admitted, screened)
            if fold is not None
            else [Unit(s, parts) for s, parts in zip(admitted, screened)]
        )
        results = tuple(_result(u, baseline, threshold or (lambda f: fail_on)) for u in units)
        summaries: dict[str, Mapping[str, Any]] = {}
        described: dict[str, Any] = {}
        for auditor in instances:
            described[auditor.name] = {**auditor.describe(), "seconds": timings.get(auditor.name)}
            summary = auditor.summarize(results)
            if summary:
                summaries[auditor.name] = summary
    finally:
        for auditor in owned:
            auditor.close()

    tool = {
        "name": "codeaudit",
        "version": __version__,
        "auditors": described,
        "config": config.source,
    }
    return Report(
        results=results,
        tool=tool,
        fail_on=fail_on,
        input_errors=tuple(issues),
        auditor_summaries=summaries,
        rules=cited_rules(instances, results),
    )


def cited_rules(auditors: Iterable[Auditor], results: Iterable[AuditResult]) -> dict[str, Rule]:
    """The declared rules (id -> Rule) that ``results`` cite, suppressed findings included.

    A plug-in whose ``rules()`` fails costs its help text in the reports, not the report.
    """
    cited = {f.rule_id for r in results for f in r.findings}
    found: dict[str, Rule] = {}
    for auditor in auditors:
        try:
            declared = auditor.rules()
        except Exception:  # noqa: BLE001 - a broken plug-in costs its help text, not the report
            continue
        for rule in declared:
            if rule.id in cited:
                found.setdefault(rule.id, rule)
    return found


def admit(
    items: Iterable[SuggestionLike], config: Config
) -> tuple[list[Suggestion], list[InputIssue]]:
    """Turn input into auditable suggestions with their languages set; what cannot be audited
    (too large, binary, not a suggestion) is left out with an :class:`InputIssue` saying why."""
    issues: list[InputIssue] = []
    out: list[Suggestion] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        if isinstance(item, Suggestion):
            s = item
        elif isinstance(item, str):
            s = Suggestion(id=f"item-{index}", completion=item)
        elif isinstance(item, Mapping):
            s, problems = suggestion_from_mapping(
                item, default_id=f"item-{index}", origin=f"<api>[{index - 1}]"
            )
            for fld, message, skipped in problems:
                issues.append(
                    InputIssue(
                        source="<api>",
                        line=index,
                        field=fld,
                        message=message,
                        skipped=skipped,
                        suggestion_id=s.id if s else None,
                    )
                )
            if s is None:
                continue
        else:
            raise UsageError(
                f"suggestions[{index - 1}]: expected a Suggestion, a mapping or a string, got {type(item).__name__}"
            )

        source, line = _origin(s, index)
        size = len(s.completion.encode("utf-8", "surrogatepass"))
        if size > config.max_completion_bytes:
            issues.append(
                InputIssue(
                    source=source,
                    line=line,
                    field="completion",
                    suggestion_id=s.id,
                    message=f"completion of {size:,} bytes is over the {config.max_completion_bytes:,}-byte limit (max_completion_bytes); suggestion skipped",
                )
            )
            continue
        if "\x00" in s.completion:
            issues.append(
                InputIssue(
                    source=source,
                    line=line,
                    field="completion",
                    suggestion_id=s.id,
                    message="binary content (NUL characters) in completion; suggestion skipped",
                )
            )
            continue
        if s.id in seen:
            new_id = unique_id(s.id, index, seen)
            issues.append(
                InputIssue(
                    source=source,
                    line=line,
                    field="id",
                    suggestion_id=new_id,
                    skipped=False,
                    message=f"duplicate id {quoted(s.id)}; renamed to {quoted(new_id)}",
                )
            )
            s = replace(s, id=new_id)
        seen.add(s.id)
        out.append(_with_language(s))
    return out, issues


def _origin(s: Suggestion, index: int) -> tuple[str, int | None]:
    if s.origin and ":" in s.origin:
        source, _, line = s.origin.rpartition(":")
        if line.isdigit():
            return source, int(line)
    return s.origin or "<api>", None if s.origin else index


def _with_language(s: Suggestion) -> Suggestion:
    if s.language:
        canonical = languages.normalize(s.language)
        return s if canonical in (None, s.language) else replace(s, language=canonical)
    guess = languages.from_path(s.path) or languages.detect(s.prompt[-4000:] + s.completion)
    return replace(s, language=guess) if guess else s


def _run_auditor(auditor: Auditor, batch: list[Suggestion], advance: Progress) -> list[Outcome]:
    if not batch:
        return []
    try:
        outcomes = auditor.audit_batch(batch, advance)
        if len(outcomes) != len(batch):
            raise RuntimeError(f"returned {len(outcomes)} outcomes for {len(batch)} suggestions")
        return outcomes
    except Exception as exc:  # noqa: BLE001 - a crashing plug-in costs its own findings, never the report
        message = f"auditor '{auditor.name}' failed: {type(exc).__name__}: {exc}"
        return [
            Outcome(
                errors=[AuditError(auditor=auditor.name, code="auditor-crash", message=message)]
            )
            for _ in batch
        ]


def _screened(
    s: Suggestion, names: Sequence[str], outcomes: Sequence[Outcome], config: Config
) -> list[tuple[str, Outcome]]:
    """Each auditor's outcome for ``s`` with the configuration applied finding by finding: only
    findings inside the completion (the prompt and suffix are context), disabled rules left out,
    severity overrides, the allowlist; then secrets masked everywhere (see :func:`_masked`)."""
    n_lines = max(1, len(split_lines(s.completion)))
    kept: list[list[Finding]] = []
    for outcome in outcomes:
        mine: list[Finding] = []
        for f in outcome.findings:
            if f.line > n_lines:
                continue  # outside the completion: the prompt and suffix are context only
            if f.rule_id in config.disable or f.rule_name in config.disable:
                continue
            override = config.severity.get(f.rule_id) or config.severity.get(f.rule_name)
            if override is not None and override != f.severity:
                f = replace(f, severity=override)
            if f.end_line > n_lines:
                f = replace(f, end_line=n_lines)
            if config.allowlist and config.allowlist.matches(f.evidence, f.snippet):
                f = replace(f, suppressed="allowlist")
            mine.append(f)
        kept.append(mine)
    masker = Masker.of_findings(s.completion, [f for mine in kept for f in mine])
    if not masker:
        return [
            (name, Outcome(findings=mine, errors=list(o.errors), data=o.data))
            for name, o, mine in zip(names, outcomes, kept)
        ]
    return [
        (
            name,
            Outcome(
                findings=[_masked_finding(f, masker) for f in mine],
                errors=[replace(e, message=masker(e.message)) for e in o.errors],
                data=o.data,
            ),
        )
        for name, o, mine in zip(names, outcomes, kept)
    ]


def _result(unit: Unit, baseline: Baseline | None, threshold: Threshold) -> AuditResult:
    """Suppressions, the baseline and the verdict: made here once, for every kind of unit."""
    s = unit.suggestion
    findings: list[Finding] = []
    errors: list[AuditError] = []
    data: dict[str, Any] = {}
    for name, outcome in unit.parts:
        errors.extend(outcome.errors)
        if outcome.data:
            data[name] = outcome.data
        findings.extend(outcome.findings)
    if unit.data is not None:
        data = dict(unit.data)
    findings, suppressions = suppress.apply(findings, suppress.parse(s.completion, s.language))
    if baseline is not None:
        findings = baseline.mark(s, findings)
    findings.sort(key=lambda f: (f.line, f.column, f.auditor, f.rule_id))
    return AuditResult(
        suggestion=s,
        language=s.language,
        verdict=verdict(findings, errors, threshold),
        findings=tuple(findings),
        errors=tuple(errors),
        suppressions=tuple(suppressions),
        data=data,
    )


def _masked_finding(f: Finding, masker: Masker) -> Finding:
    """Mask in a finding the secrets that any auditor masked in its snippet, so an auditor quoting
    a secret in its message (bandit's B105 does) cannot leak it into the report."""
    return replace(
        f,
        snippet=masker(f.snippet),
        message=masker(f.message),
        evidence=masked(f.evidence, masker),
    )


def verdict(
    findings: Sequence[Finding],
    errors: Sequence[AuditError],
    fail_on: Severity | Threshold,
) -> Verdict:
    """``fail``: an active finding at or above ``fail_on`` (a severity, or a function giving each
    finding's); ``warn``: any other active finding or an error.

    >>> from codeaudit.model import Confidence
    >>> f = Finding(auditor="a", rule_id="CA1", rule_name="r", severity=Severity.MEDIUM,
    ...             confidence=Confidence.HIGH, cwe=None, line=1, end_line=1, column=1,
    ...             end_column=None, message="m", snippet="", evidence={}, fingerprint="")
    >>> verdict([f], [], Severity.HIGH).value, verdict([f], [], lambda f: Severity.LOW).value
    ('warn', 'fail')
    """
    threshold = fail_on if callable(fail_on) else (lambda f: fail_on)
    active = [f for f in findings if f.active]
    if any(f.severity >= threshold(f) for f in active):
        return Verdict.FAIL
    if active or errors:
        return Verdict.WARN
    return Verdict.PASS
