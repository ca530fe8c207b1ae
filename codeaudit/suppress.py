"""Inline suppressions, written in the file's own comment syntax.

* ``x = eval(s)  # codeaudit: ignore[B307]`` silences B307 on that line (ids or names, comma-separated);
* a comment line ``// codeaudit: ignore-next-line[CA101]`` standing alone silences the next line;
* a bare ``codeaudit: ignore`` silences every rule on its line; it is allowed but counted in the
  summary, because it also hides findings nobody has looked at.

Suppressed findings are kept in the report, marked ``"suppressed": "inline"``; suppressions that
silenced nothing are listed as unused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from .context import split_lines
from .languages import comment_syntax
from .model import Finding, Suppression

_MARKER = re.compile(
    r"codeaudit:\s*ignore(?P<next>-next-line)?(?:\[(?P<rules>[^\]]*)\])?(?![\w-])",
    re.IGNORECASE,
)


def parse(text: str, language: str | None) -> list[Suppression]:
    """Suppression comments in ``text`` (1-based lines), honouring the language's comment syntax."""
    if "codeaudit" not in text:
        return []
    line_tokens, block_tokens = comment_syntax(language)
    openers = tuple(line_tokens) + tuple(start for start, _ in block_tokens)
    if not openers:  # formats without comments (JSON …): accept any comment-looking prefix
        openers = ("#", "//", "/*", "<!--", "--", ";")
    out: list[Suppression] = []
    for number, raw in enumerate(split_lines(text), start=1):
        if "codeaudit" not in raw:
            continue
        for m in _MARKER.finditer(raw):
            before = raw[: m.start()]
            opener = _comment_start(before, openers)
            if opener is None:
                continue
            rules = tuple(r.strip() for r in (m.group("rules") or "").split(",") if r.strip())
            next_line = bool(m.group("next"))
            if next_line and before[:opener].strip():
                continue  # the next-line form must stand alone on its line
            out.append(
                Suppression(
                    line=number + 1 if next_line else number, rules=rules, next_line=next_line
                )
            )
    return out


def _comment_start(before: str, openers: Sequence[str]) -> int | None:
    """Index where the comment holding the marker starts, if the marker sits in a comment."""
    best = None
    for token in openers:
        idx = before.rfind(token)
        if idx >= 0 and (best is None or idx < best):
            best = idx
    return best


def apply(
    findings: Iterable[Finding], suppressions: Sequence[Suppression]
) -> tuple[list[Finding], list[Suppression]]:
    """Mark findings silenced by ``suppressions``; return them and the suppressions with ``used`` set."""
    if not suppressions:
        return list(findings), []
    used = [False] * len(suppressions)
    out: list[Finding] = []
    for f in findings:
        hit = None
        for i, s in enumerate(suppressions):
            if f.line <= s.line <= f.end_line and _names(s, f):
                hit = i
                break
        if hit is not None and f.active:
            used[hit] = True
            f = replace(f, suppressed="inline")
        out.append(f)
    return out, [replace(s, used=u) for s, u in zip(suppressions, used)]


def _names(s: Suppression, f: Finding) -> bool:
    if not s.rules:
        return True
    wanted = {r.lower() for r in s.rules}
    return f.rule_id.lower() in wanted or f.rule_name in wanted
