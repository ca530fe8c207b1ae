"""The records that flow through codeaudit: suggestion in, findings and a report out.

All of them are frozen. A finding is built complete by the auditor that raises it; later stages
(severity overrides, suppressions, baselines) derive new records with :func:`dataclasses.replace`
instead of patching old ones.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

REPORT_SCHEMA = "codeaudit.report/1"
AUDITOR_NAMES = ("privacy", "security", "memorization", "tests")


class _Ordered(enum.IntEnum):
    """An ordered enum that reads and writes itself in lower case."""

    def __str__(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | _Ordered) -> _Ordered:
        if isinstance(value, cls):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            allowed = ", ".join(m.label for m in cls)
            raise ValueError(
                f"{value!r} is not a {cls.__name__.lower()} (one of: {allowed})"
            ) from None


class Severity(_Ordered):
    """How bad a finding is: ``info`` < ``low`` < ``medium`` < ``high`` < ``critical``."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class Confidence(_Ordered):
    """How sure the auditor is that the finding is real."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Verdict(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    def __str__(self) -> str:
        return self.value


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, kw_only=True, slots=True)
class Suggestion:
    """One piece of generated code to audit.

    ``completion`` is what is audited; ``prompt`` (code before the cursor) and ``suffix`` (code
    after it) are context only: they help fragments parse, but no finding is reported in them.

    >>> s = Suggestion(id="demo", completion="open('/home/alice/notes.txt')\\n", language="python")
    >>> s.completion_lines()
    ["open('/home/alice/notes.txt')"]
    """

    id: str
    completion: str
    prompt: str = ""
    suffix: str = ""
    language: str | None = None
    path: str | None = None
    tests: str | None = None
    entry_point: str | None = None
    task_id: str | None = None
    model: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: Where the suggestion was read from (``batch.jsonl:12``), for messages.
    origin: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", _frozen_mapping(self.meta))

    def completion_lines(self) -> list[str]:
        from .context import split_lines

        return split_lines(self.completion)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "completion": self.completion}
        for name in (
            "prompt",
            "suffix",
            "language",
            "path",
            "tests",
            "entry_point",
            "task_id",
            "model",
        ):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.meta:
            out["meta"] = dict(self.meta)
        return out


def fingerprint(rule_id: str, identity: str) -> str:
    """A finding's identity: rule id + what was found, never a line number or a path.

    It survives line shifts and file moves (the baseline stores the path beside it).
    """
    digest = hashlib.sha256(f"{rule_id}\x00{identity}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """One problem in a completion. Lines and columns are 1-based, inside the completion;
    ``end_line`` and ``end_column`` are inclusive (the last character flagged).

    ``snippet`` and ``evidence`` are already redacted: a secret never leaves the auditor.
    """

    auditor: str
    rule_id: str
    rule_name: str
    severity: Severity
    confidence: Confidence
    cwe: int | None
    line: int
    end_line: int
    column: int
    end_column: int | None
    message: str
    snippet: str
    evidence: Mapping[str, Any]
    fingerprint: str
    #: ``None`` when active; else why it is not counted: ``inline``, ``allowlist``, ``baseline``.
    suppressed: str | None = None
    #: Set by the pre-commit hook when the line came from an AI assistant; ``None`` = unknown.
    ai_generated: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", _frozen_mapping(self.evidence))
        if self.line < 1 or self.end_line < self.line or self.column < 1:
            raise ValueError(
                f"{self.rule_id}: bad location line={self.line} end_line={self.end_line} column={self.column}"
            )

    @property
    def cwe_id(self) -> str | None:
        return f"CWE-{self.cwe}" if self.cwe is not None else None

    @property
    def active(self) -> bool:
        return self.suppressed is None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "auditor": self.auditor,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "severity": self.severity.label,
            "confidence": self.confidence.label,
            "cwe": self.cwe_id,
            "line": self.line,
            "end_line": self.end_line,
            "column": self.column,
            "end_column": self.end_column,
            "message": self.message,
            "snippet": self.snippet,
            "evidence": _jsonable(self.evidence),
            "fingerprint": self.fingerprint,
            "suppressed": self.suppressed,
        }
        if self.ai_generated is not None:
            out["ai_generated"] = self.ai_generated
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditError:
    """Something an auditor could not do for one suggestion (the suggestion is still reported)."""

    auditor: str
    code: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"auditor": self.auditor, "code": self.code, "message": self.message}
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class InputIssue:
    """A problem in the input, named by file, line and field.

    ``skipped`` says whether the suggestion was left out (bad JSON, no completion …) or audited
    anyway (unknown language, duplicate id …).
    """

    source: str
    line: int | None
    message: str
    field: str | None = None
    skipped: bool = True
    suggestion_id: str | None = None

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        what = f"field '{self.field}': " if self.field else ""
        return f"{where}: {what}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "skipped": self.skipped,
            "suggestion_id": self.suggestion_id,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Suppression:
    """An inline ``codeaudit: ignore[...]`` comment, and whether it silenced anything."""

    line: int
    rules: tuple[str, ...]  # empty = bare ignore (any rule)
    next_line: bool = False
    used: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "rules": list(self.rules),
            "next_line": self.next_line,
            "used": self.used,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditResult:
    """Everything codeaudit says about one suggestion."""

    suggestion: Suggestion
    language: str | None
    verdict: Verdict
    findings: tuple[Finding, ...] = ()
    errors: tuple[AuditError, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    #: Per-auditor facts that are not findings (a test outcome, the corpora searched …).
    data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen_mapping(self.data))

    @property
    def id(self) -> str:
        return self.suggestion.id

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.active)

    def to_dict(self) -> dict[str, Any]:
        s = self.suggestion
        out: dict[str, Any] = {
            "id": s.id,
            "language": self.language,
            "verdict": self.verdict.value,
            "findings": [f.to_dict() for f in self.findings],
            "errors": [e.to_dict() for e in self.errors],
        }
        for name in ("path", "task_id", "model", "origin"):
            value = getattr(s, name)
            if value is not None:
                out[name] = value
        if s.meta:
            out["meta"] = _jsonable(s.meta)
        if self.suppressions:
            out["suppressions"] = [x.to_dict() for x in self.suppressions]
        if self.data:
            out["auditors"] = _jsonable(self.data)
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    """The outcome of one audit run; :meth:`to_dict` gives the ``codeaudit.report/1`` JSON."""

    results: tuple[AuditResult, ...]
    tool: Mapping[str, Any]
    fail_on: Severity
    input_errors: tuple[InputIssue, ...] = ()
    #: Per-auditor batch summaries (pass rate and pass@k, corpora searched …).
    auditor_summaries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Metadata of the rules the findings cite (id -> :class:`~codeaudit.registry.Rule`), so a
    #: reporter needs the report alone. Not part of the JSON document.
    rules: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool", _frozen_mapping(self.tool))
        object.__setattr__(self, "auditor_summaries", _frozen_mapping(self.auditor_summaries))
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))

    def findings(
        self, *, include_suppressed: bool = False
    ) -> Iterator[tuple[AuditResult, Finding]]:
        for result in self.results:
            for f in result.findings:
                if include_suppressed or f.active:
                    yield result, f

    @property
    def failed(self) -> bool:
        """True when an active finding is at or above ``fail_on``."""
        return any(f.severity >= self.fail_on for _, f in self.findings())

    def summary(self) -> dict[str, Any]:
        verdicts = {v.value: 0 for v in Verdict}
        by_auditor: dict[str, dict[str, int]] = {}
        by_severity = {s.label: 0 for s in Severity}
        suppressed: dict[str, int] = {}
        bare = unused = errors = 0
        for r in self.results:
            verdicts[r.verdict.value] += 1
            errors += len(r.errors)
            for f in r.findings:
                if not f.active:
                    suppressed[f.suppressed] = suppressed.get(f.suppressed, 0) + 1
                    continue
                by_severity[f.severity.label] += 1
                per = by_auditor.setdefault(f.auditor, {s.label: 0 for s in Severity})
                per[f.severity.label] += 1
            for sup in r.suppressions:
                bare += not sup.rules
                unused += not sup.used
        out: dict[str, Any] = {
            "suggestions": len(self.results),
            "verdicts": verdicts,
            "findings": sum(by_severity.values()),
            "by_severity": by_severity,
            "by_auditor": by_auditor,
            "suppressed": suppressed,
            "bare_suppressions": bare,
            "unused_suppressions": unused,
            "errors": errors,
            "input_errors": len(self.input_errors),
            "skipped_inputs": sum(1 for e in self.input_errors if e.skipped),
            "fail_on": self.fail_on.label,
            "failed": self.failed,
        }
        if self.auditor_summaries:
            out["auditors"] = _jsonable(self.auditor_summaries)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "tool": _jsonable(self.tool),
            "summary": self.summary(),
            "results": [r.to_dict() for r in self.results],
            "input_errors": [e.to_dict() for e in self.input_errors],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def plain(
    value: Any,
    leaf: Callable[[Any], Any] | None = None,
    *,
    keep_tuples: bool = False,
    str_keys: bool = True,
    max_items: int | None = None,
) -> Any:
    """A deep copy of ``value`` in plain types: every mapping (read-only ones too) a ``dict`` with
    ``str`` keys (keys kept as they are without ``str_keys``), every list and tuple a ``list``
    (tuples stay tuples with ``keep_tuples``; only the first ``max_items`` items with it), and
    every other value passed through ``leaf`` (kept as it is when ``leaf`` is ``None``).

    The one recursive walk over nested data: reports (:meth:`Finding.to_dict`, the reporters'
    ``plain_json``), the process boundary of ``hook --parallel`` and masking build on it (see
    :func:`map_strings`; :func:`any_value` is its read-only counterpart).

    >>> from types import MappingProxyType
    >>> plain(MappingProxyType({"a": (1, Severity.HIGH), 2: [None]}), lambda v: str(v) if isinstance(v, enum.Enum) else v)
    {'a': [1, 'high'], '2': [None]}
    >>> plain({"a": (1, 2)}, keep_tuples=True)
    {'a': (1, 2)}
    """
    if isinstance(value, Mapping):
        return {
            (str(k) if str_keys else k): plain(
                v, leaf, keep_tuples=keep_tuples, str_keys=str_keys, max_items=max_items
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        items = value if max_items is None else value[:max_items]
        out = [
            plain(v, leaf, keep_tuples=keep_tuples, str_keys=str_keys, max_items=max_items)
            for v in items
        ]
        return tuple(out) if keep_tuples and isinstance(value, tuple) else out
    return value if leaf is None else leaf(value)


def map_strings(value: Any, fn: Callable[[str], Any], *, max_items: int | None = None) -> Any:
    """``value`` (JSON-like; mappings and tuples come back as dicts and lists, keys as they are)
    with ``fn`` applied to every string in it, lists cut to their first ``max_items`` items.

    >>> map_strings({"a": ("x", 1, ["yz"])}, str.upper)
    {'a': ['X', 1, ['YZ']]}
    """
    return plain(
        value,
        lambda v: fn(v) if isinstance(v, str) else v,
        str_keys=False,
        max_items=max_items,
    )


def any_value(value: Any, pred: Callable[[Any], bool]) -> bool:
    """Whether ``pred`` holds for ``value`` or any value nested in it (a mapping's values, a list's
    or tuple's items, the containers themselves included).

    >>> any_value({"a": [1, "x****"]}, lambda v: isinstance(v, str) and "****" in v)
    True
    """
    if pred(value):
        return True
    if isinstance(value, Mapping):
        return any(any_value(v, pred) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(any_value(v, pred) for v in value)
    return False


def _enum_str(value: Any) -> Any:
    return str(value) if isinstance(value, enum.Enum) else value


def _jsonable(value: Any) -> Any:
    """Deep-copy mapping proxies and tuples into plain JSON types (enums as their text)."""
    return plain(value, _enum_str)


def max_severity(findings: Sequence[Finding]) -> Severity | None:
    active = [f.severity for f in findings if f.active]
    return max(active) if active else None
