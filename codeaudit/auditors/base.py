"""The auditor plug-in interface.

An auditor is a class with a ``name``, its :class:`~codeaudit.registry.Rule` list and either
:meth:`Auditor.audit_one` (one suggestion -> one :class:`Outcome`; the default batch loop isolates
failures) or :meth:`Auditor.audit_batch`, which takes the whole batch (so expensive set-up is paid
once per batch, not per suggestion) and returns one :class:`Outcome` per suggestion, in order.

A third-party auditor registers itself in its own package metadata::

    [project.entry-points."codeaudit.auditors"]
    licences = "acme_audit:LicenceAuditor"

and is then enabled like a built-in one (``--auditors privacy,licences``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..config import Config, check_options
from ..context import split_lines
from ..model import AuditError, AuditResult, Confidence, Finding, Severity, Suggestion, fingerprint
from ..registry import Rule

#: Called with the number of suggestions finished since the last call.
Progress = Callable[[int], None]


@dataclass(slots=True)
class Outcome:
    """What one auditor found in one suggestion."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[AuditError] = field(default_factory=list)
    #: Facts that are not findings, reported under ``results[].auditors.<name>``.
    data: dict[str, Any] = field(default_factory=dict)


class Auditor(abc.ABC):
    #: The auditor's name, as used in ``--auditors`` and in findings.
    name: ClassVar[str]
    #: Options of its ``[tool.codeaudit.<name>]`` table: key -> default (whose type is checked).
    options_spec: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.options = check_options(
            self.name,
            self.config.auditor_options(self.name),
            self.options_spec,
            source=self.config.source,
        )
        self._rules = {r.id: r for r in self.rules()}

    @classmethod
    @abc.abstractmethod
    def rules(cls) -> Sequence[Rule]:
        """Every rule this auditor can raise."""

    #: Exceptions that mean the whole batch cannot be audited (a broken rule pack, a bad
    #: configuration): :meth:`audit_batch` re-raises them instead of charging one suggestion.
    fatal_errors: ClassVar[tuple[type[Exception], ...]] = ()

    def audit_batch(
        self, suggestions: Sequence[Suggestion], progress: Progress | None = None
    ) -> list[Outcome]:
        """Audit a batch; return one Outcome per suggestion, in the same order.

        The default calls :meth:`audit_one` for each suggestion; a failure costs that suggestion
        its findings (an error says why), never the batch. Auditors that gain from seeing the
        whole batch at once (a sandbox pool, bandit over many files) override this instead.
        """
        outcomes = []
        for s in suggestions:
            try:
                outcome = self.audit_one(s)
            except self.fatal_errors:
                raise
            except (RecursionError, MemoryError) as exc:
                outcome = Outcome(
                    errors=[
                        self.error(
                            "too-complex",
                            f"code too deeply nested or too large to analyse ({type(exc).__name__}); not audited",
                        )
                    ]
                )
            except Exception as exc:  # noqa: BLE001 - one bad suggestion must not cost the batch
                outcome = Outcome(
                    errors=[
                        self.error(
                            "internal-error",
                            f"{self.name} audit failed: {type(exc).__name__}: {exc}",
                        )
                    ]
                )
            outcomes.append(outcome)
            if progress is not None:
                progress(1)
        return outcomes

    def audit_one(self, suggestion: Suggestion) -> Outcome:
        """Audit one suggestion (used by the default :meth:`audit_batch`)."""
        raise NotImplementedError(
            f"auditor {self.name!r} implements neither audit_one nor audit_batch"
        )

    def summarize(self, results: Sequence[AuditResult]) -> Mapping[str, Any] | None:
        """An optional batch summary for ``report.summary.auditors.<name>``."""
        return None

    def describe(self) -> Mapping[str, Any]:
        """What the report's ``tool.auditors.<name>`` says about this auditor (versions, corpora …)."""
        return {}

    def close(self) -> None:
        """Release pools, sandboxes or files held across batches."""

    # -- helpers for subclasses ----------------------------------------------------------------
    def rule(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def finding(
        self,
        suggestion: Suggestion,
        rule: Rule | str,
        *,
        line: int,
        end_line: int | None = None,
        column: int = 1,
        end_column: int | None = None,
        message: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        identity: str | None = None,
        snippet: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        cwe: int | None | type[Ellipsis] = ...,
    ) -> Finding:
        """Build a complete finding for ``rule`` at a completion location.

        ``identity`` is what makes this finding this finding (a redacted match, a secret's
        hash …); it defaults to the flagged lines with whitespace collapsed, so the fingerprint
        survives line shifts and re-indentation. ``snippet`` defaults to the flagged lines.
        """
        if isinstance(rule, str):
            rule = self.rule(rule)
        end_line = end_line or line
        if snippet is None:
            snippet = excerpt(suggestion.completion, line, end_line)
        if identity is None:
            identity = " ".join(snippet.split())
        return Finding(
            auditor=self.name,
            rule_id=rule.id,
            rule_name=rule.name,
            severity=severity if severity is not None else rule.severity,
            confidence=confidence if confidence is not None else rule.confidence,
            cwe=rule.cwe if cwe is ... else cwe,  # type: ignore[arg-type]
            line=line,
            end_line=end_line,
            column=column,
            end_column=end_column,
            message=message or rule.title,
            snippet=snippet,
            evidence=evidence or {},
            fingerprint=fingerprint(rule.id, identity),
        )

    def error(self, code: str, message: str, line: int | None = None) -> AuditError:
        return AuditError(auditor=self.name, code=code, message=message, line=line)


def excerpt(
    text: str, line: int, end_line: int | None = None, *, max_lines: int = 12, max_chars: int = 2000
) -> str:
    """Lines ``line..end_line`` (1-based) of ``text``, trimmed to a readable size."""
    lines = split_lines(text)
    end_line = min(end_line or line, line + max_lines - 1)
    out = "\n".join(lines[line - 1 : end_line])
    return out if len(out) <= max_chars else out[: max_chars - 1] + "…"
