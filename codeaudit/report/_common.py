"""Pieces the human-facing reporters share: rule look-up, code windows, evidence text, lexers.

Nothing here filters findings: reporters show what the pipeline decided.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..context import split_lines
from ..model import Finding, Severity, plain

if TYPE_CHECKING:
    from ..model import AuditResult, Report
    from ..redact import Masker
    from ..registry import Rule

#: Lines of context shown around flagged lines.
CONTEXT_LINES = 2
#: Longest code window shown for one group of findings (long flagged spans are cut in the middle).
MAX_WINDOW_LINES = 16

# Our language names -> pygments lexer aliases (``None``: plain text).
_LEXERS = {
    "python": "python",
    "c": "c",
    "cpp": "cpp",
    "csharp": "csharp",
    "java": "java",
    "kotlin": "kotlin",
    "scala": "scala",
    "javascript": "javascript",
    "typescript": "typescript",
    "php": "php",
    "rust": "rust",
    "go": "go",
    "ruby": "ruby",
    "shell": "bash",
    "powershell": "powershell",
    "batch": "batch",
    "perl": "perl",
    "lua": "lua",
    "r": "r",
    "swift": "swift",
    "objectivec": "objective-c",
    "dart": "dart",
    "sql": "sql",
    "html": "html",
    "xml": "xml",
    "css": "css",
    "json": "json",
    "notebook": "json",
    "yaml": "yaml",
    "toml": "toml",
    "ini": "ini",
    "dockerfile": "docker",
    "makefile": "make",
    "terraform": "terraform",
    "markdown": "markdown",
}


def lexer_for(language: str | None):
    """A pygments lexer for one of our language names; plain text when unknown.

    >>> lexer_for("php").name, lexer_for("no-such-language").name
    ('PHP', 'Text only')
    """
    from pygments.lexers import get_lexer_by_name
    from pygments.lexers.special import TextLexer

    alias = _LEXERS.get(language or "")
    if alias is None:
        return TextLexer(stripnl=False)
    # Leading blank lines are kept so that line numbers stay the completion's.
    options: dict[str, Any] = {"stripnl": False}
    if alias == "php":
        options["startinline"] = True  # completions are fragments: rarely start with ``<?php``
    return get_lexer_by_name(alias, **options)


def rules_for(report: Report, rules: Mapping[str, Rule] | None = None) -> dict[str, Rule]:
    """Rule metadata for the rules in ``report``: ``rules`` when given, else what the report
    carries (:attr:`Report.rules`). A rule it does not know costs its help text: the reporter
    then falls back to what the finding itself says."""
    return dict(report.rules if rules is None else rules)


@dataclass(frozen=True, slots=True)
class Window:
    """Lines ``start..end`` (1-based, inclusive) of a completion, showing ``findings``."""

    start: int
    end: int
    findings: tuple[Finding, ...]

    @property
    def flagged(self) -> set[int]:
        """Lines to highlight: those of active findings (of suppressed ones when there are none)."""
        lines: set[int] = set()
        for f in [f for f in self.findings if f.active] or self.findings:
            lines.update(range(f.line, min(f.end_line, self.end) + 1))
        return lines


def windows(result: AuditResult, findings: Sequence[Finding]) -> list[Window]:
    """Group findings whose context windows overlap, so each code excerpt is shown once."""
    n_lines = max(1, len(split_lines(result.suggestion.completion)))
    spans = []
    for f in sorted(findings, key=lambda f: (f.line, f.end_line)):
        start = max(1, f.line - CONTEXT_LINES)
        end = min(n_lines, max(f.end_line, f.line) + CONTEXT_LINES, start + MAX_WINDOW_LINES - 1)
        spans.append([start, end, [f]])
    merged: list[list[Any]] = []
    for span in spans:
        if merged and span[0] <= merged[-1][1] + 1 and span[1] - merged[-1][0] < MAX_WINDOW_LINES:
            merged[-1][1] = max(merged[-1][1], span[1])
            merged[-1][2].extend(span[2])
        else:
            merged.append(span)
    return [Window(start, end, tuple(fs)) for start, end, fs in merged]


#: Longest code line a report shows whole; a longer one shows a window around its findings.
MAX_CODE_LINE = 240


def code_lines(result: AuditResult, window: Window, masker: Masker | None = None) -> str:
    """The window's lines of the completion, with every secret an auditor masked masked again;
    a line longer than :data:`MAX_CODE_LINE` is cut to a window around the first finding on it
    (masked before it is cut, so a cut never shows part of a secret)."""
    lines = split_lines(result.suggestion.completion)[window.start - 1 : window.end]
    columns: dict[int, int] = {}
    for f in window.findings:
        columns.setdefault(f.line, f.column)
    out = []
    for number, line in enumerate(lines, start=window.start):
        shown = masker(line) if masker else line
        if len(shown) > MAX_CODE_LINE:
            column = columns.get(number, 1)
            at = len(masker(line[: column - 1])) if masker else column - 1
            shown = cut_around(shown, at, MAX_CODE_LINE)
        out.append(shown)
    return "\n".join(out)


def cut_around(text: str, at: int, limit: int) -> str:
    """At most ``limit`` characters of ``text`` around position ``at``, with "…" where cut.

    >>> cut_around("a" * 50 + "X" + "b" * 50, 50, 20)
    '…aaaaaaXbbbbbbbbbbbbb…'
    """
    if len(text) <= limit:
        return text
    start = max(0, min(at - limit // 3, len(text) - limit))
    end = start + limit
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def evidence_items(
    evidence: Mapping[str, Any], *, max_chars: int = 160, masker: Masker | None = None
) -> list[tuple[str, str]]:
    """Evidence as (key, text) pairs in the auditor's order; nested values as compact JSON.

    >>> evidence_items({"username": "alice", "lines": [3, 9]})
    [('username', 'alice'), ('lines', '[3, 9]')]
    """
    out = []
    for key, value in evidence.items():
        text = (
            value
            if isinstance(value, str)
            else json.dumps(plain_json(value), ensure_ascii=False, sort_keys=True)
        )
        text = " ".join(str(text).split()) if "\n" in str(text) else str(text)
        if masker:
            text = masker(text)
        if len(text) > max_chars:
            text = text[: max_chars - 1] + "…"
        out.append((str(key), text))
    return out


def plain_json(value: Any) -> Any:
    """``value`` as plain JSON data: anything that is not a string, number, boolean or ``None`` as
    its text (:func:`codeaudit.model.plain` does the walk).

    >>> from pathlib import PurePosixPath
    >>> plain_json({"p": (1, PurePosixPath("/x"))})
    {'p': [1, '/x']}
    """
    return plain(value, _json_leaf)


def _json_leaf(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.label: 0 for s in reversed(Severity)}
    for f in findings:
        counts[f.severity.label] += 1
    return counts


def auditor_names(report: Report) -> list[str]:
    """Auditors that ran (in run order), then any that only appear in findings."""
    names = [str(n) for n in (report.tool.get("auditors") or {})]
    for _, f in report.findings(include_suppressed=True):
        if f.auditor not in names:
            names.append(f.auditor)
    return names


def one_line(text: Any, max_chars: int = 300) -> str:
    """Collapse whitespace so a value from the input cannot break a line-oriented report."""
    s = " ".join(str(text).split())
    return s if len(s) <= max_chars else s[: max_chars - 1] + "…"


def suppression_notes(report: Report) -> list[str]:
    """Suppressions a reviewer should look at: bare ones (they hide any rule) and unused ones."""
    notes = []
    for r in report.results:
        for sup in r.suppressions:
            form = "ignore-next-line" if sup.next_line else "ignore"
            if not sup.rules:
                notes.append(
                    f"{one_line(r.id, 60)}:{sup.line}: bare 'codeaudit: {form}' silences every rule"
                    + ("" if sup.used else " (unused)")
                )
            elif not sup.used:
                notes.append(
                    f"{one_line(r.id, 60)}:{sup.line}: unused 'codeaudit: {form}[{', '.join(sup.rules)}]'"
                )
    return notes
