"""Masking secrets before anything is reported.

A secret never leaves the auditor that found it: snippets, messages and evidence carry a mask
that names the secret by a short hash instead. The hash is stable, so the same secret keeps the
same fingerprint and mask wherever it appears, and two different secrets never share one.

>>> mask("hunter2-correct-horse")
'[REDACTED:417b00ea]'
>>> redact_spans('token = "abc123"', [(9, 15)])
'token = "[REDACTED:6ca13d52]"'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .context import split_lines

if TYPE_CHECKING:
    from .model import AuditResult, Finding

#: Secrets shorter than this are masked only where a detector located them: replacing every
#: occurrence of a three-letter password would mangle unrelated text.
MIN_VALUE_LENGTH = 6


def secret_hash(value: str) -> str:
    """A short, stable identity for a secret (SHA-256, first 16 hex digits).

    >>> secret_hash("abc123")
    '6ca13d52ca70c883'
    """
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def mask(value: str) -> str:
    """What is shown instead of a secret."""
    return f"[REDACTED:{secret_hash(value)[:8]}]"


def redact_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each (start, end) span replaced by the mask of what it covered.

    Overlapping spans are merged first, so nothing of either secret shows.
    """
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        start, end = max(start, 0), min(end, len(text))
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out.append(text[last:start])
        out.append(mask(text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_values(text: str, values: Iterable[str] | Masker) -> str:
    """``text`` with every occurrence of each (long enough) secret value masked.

    >>> redact_values("a=s3cr3t-value; b=s3cr3t-value", ["s3cr3t-value"])
    'a=[REDACTED:1f3fa74b]; b=[REDACTED:1f3fa74b]'
    """
    return (values if isinstance(values, Masker) else Masker.of_values(values))(text)


class Masker:
    """Masks, in whatever a report shows, the secrets that auditors masked in their snippets.

    Reports for people show the completion itself, which still holds every secret; only the
    auditors' snippets are redacted. Comparing each finding's snippet with the completion lines
    it stands for gives the text the auditor hid and what it put in its place; that text is then
    replaced wherever it appears (code windows, and messages or evidence of any auditor that
    quoted it).

    >>> m = Masker.from_pairs([("key = 'sk_live_0123456789'", "key = '[REDACTED]'")])
    >>> m("print('sk_live_0123456789')")
    "print('[REDACTED]')"
    """

    def __init__(self, replacements: dict[str, str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._items = sorted(replacements.items(), key=lambda kv: -len(kv[0]))
        # Many secrets (a minified line can hold thousands): one pass of an alternation, in the
        # same longest-first order, instead of one scan of the text per secret.
        self._shown = dict(self._items)
        self._pattern = (
            re.compile("|".join(re.escape(h) for h, _ in self._items))
            if len(self._items) > 8
            else None
        )

    @classmethod
    def of_values(cls, values: Iterable[str]) -> Masker:
        """Every occurrence of each secret value (of at least :data:`MIN_VALUE_LENGTH` characters)
        shown as its :func:`mask`, prepared once for many texts.

        >>> Masker.of_values(["s3cr3t-value", "abc"])("key: s3cr3t-value, abc")
        'key: [REDACTED:1f3fa74b], abc'
        """
        return cls({v: mask(v) for v in values if len(v) >= MIN_VALUE_LENGTH})

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Masker:
        found: dict[str, str] = {}
        for raw, shown in pairs:
            if raw == shown or raw.strip() == shown.strip():
                continue
            if shown.endswith("…") and not raw.endswith("…"):
                continue  # a shortened snippet, not a redaction
            limit = min(len(raw), len(shown))
            head = 0
            while head < limit and raw[head] == shown[head]:
                head += 1
            tail = 0
            while tail < limit - head and raw[-1 - tail] == shown[-1 - tail]:
                tail += 1
            hidden = raw[head : len(raw) - tail]
            if len(hidden.strip()) >= 4:
                found.setdefault(hidden, shown[head : len(shown) - tail] or "****")
        return cls(found)

    @classmethod
    def of(cls, result: AuditResult) -> Masker:
        return cls.of_findings(result.suggestion.completion, result.findings)

    @classmethod
    def of_findings(cls, completion: str, findings: Iterable[Finding]) -> Masker:
        lines = split_lines(completion)
        pairs = []
        seen: set[tuple[int, int, str]] = set()  # many findings share one snippet
        for f in findings:
            if (f.line, f.end_line, f.snippet) in seen:
                continue
            seen.add((f.line, f.end_line, f.snippet))
            shown = split_lines(f.snippet)
            if f.snippet and len(shown) == f.end_line - f.line + 1:
                pairs.extend(zip(lines[f.line - 1 : f.end_line], shown))
        return cls.from_pairs(pairs)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            return self._pattern.sub(lambda m: self._shown[m.group()], text)
        for hidden, shown in self._items:
            if hidden in text:
                text = text.replace(hidden, shown)
        return text


def masked(value: Any, masker: Masker) -> Any:
    """``value`` (JSON-like; mappings and tuples come back as dicts and lists) with ``masker``
    applied to every string in it."""
    if not masker:
        return value
    if isinstance(value, str):
        return masker(value)
    if isinstance(value, (list, tuple)):
        return [masked(v, masker) for v in value]
    if isinstance(value, Mapping):
        return {k: masked(v, masker) for k, v in value.items()}
    return value
