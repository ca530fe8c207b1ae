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
from collections.abc import Iterable

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


def redact_values(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each (long enough) secret value masked.

    >>> redact_values("a=s3cr3t-value; b=s3cr3t-value", ["s3cr3t-value"])
    'a=[REDACTED:1f3fa74b]; b=[REDACTED:1f3fa74b]'
    """
    for value in sorted({v for v in values if len(v) >= MIN_VALUE_LENGTH}, key=len, reverse=True):
        if value in text:
            text = text.replace(value, mask(value))
    return text
