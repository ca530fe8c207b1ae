"""Checking a rule's examples against what its auditor found (see
:func:`codeaudit.registry.line_annotations` for the line marks)."""

from __future__ import annotations

from collections.abc import Iterable

from codeaudit.model import Finding
from codeaudit.registry import line_annotations


def example_problems(rule_id: str, kind: str, code: str, findings: Iterable[Finding]) -> list[str]:
    """What is wrong with ``findings`` for one example of ``rule_id`` (empty when right).

    A ``good`` example has no finding of the rule. A ``bad`` one has: where it pins lines, a
    finding starts on every ``ruleid`` line and on no other line but ``todook`` ones, none covers
    an ``ok`` line, and none starts on a ``todoruleid`` line (a known miss: once found, promote it).

    >>> from codeaudit.model import Confidence, Severity
    >>> def at(line):
    ...     return Finding(auditor="a", rule_id="CA9", rule_name="r", severity=Severity.LOW,
    ...                    confidence=Confidence.LOW, cwe=None, line=line, end_line=line, column=1,
    ...                    end_column=None, message="m", snippet="", evidence={}, fingerprint="")
    >>> example_problems("CA9", "bad", "# ruleid: CA9\\nx\\n", [at(2)])
    []
    >>> example_problems("CA9", "bad", "# ruleid: CA9\\nx\\ny\\n", [at(3)])
    ['CA9 not found on line 2', 'CA9 found on line 3, which is not marked ruleid']
    >>> example_problems("CA9", "good", "x\\n", [at(1)])
    ['CA9 found in a good example, on line 1']
    """
    mine = [f for f in findings if f.rule_id == rule_id]
    if kind == "good":
        return [f"{rule_id} found in a good example, on line {f.line}" for f in mine]
    marks = {
        k: {n for n, ids in v.items() if rule_id in ids} for k, v in line_annotations(code).items()
    }
    starts = {f.line for f in mine}
    problems: list[str] = []
    if not any(marks.values()):
        return [] if mine else [f"{rule_id} not found in a bad example"]
    problems += [f"{rule_id} not found on line {n}" for n in sorted(marks["ruleid"] - starts)]
    problems += [
        f"{rule_id} found on line {n}, which is not marked ruleid"
        for n in sorted(starts - marks["ruleid"] - marks["todook"])
        if n not in marks["todoruleid"]
    ]
    problems += [
        f"{rule_id} covers line {n}, marked ok"
        for n in sorted(marks["ok"])
        if any(f.line <= n <= f.end_line for f in mine)
    ]
    problems += [
        f"{rule_id} now found on line {n}, a known miss: mark it ruleid"
        for n in sorted(marks["todoruleid"] & starts)
    ]
    return problems
