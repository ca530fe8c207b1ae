"""When a verified match is reported: every threshold of the memorization auditor, defined once.

This module imports nothing heavy: the auditor's option table is built from it at import time.

>>> Thresholds().min_chars
150
>>> Thresholds.from_options({"min_chars": 200, "corpora": []}).min_chars
200
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a verified match is reported. Every threshold of the auditor is defined here, once."""

    #: A match of at least this many characters is reported (GitHub Copilot's public-code
    #: filter looks for about 150 characters of matching code).
    min_chars: int = 150
    #: A shorter match is still reported when it spans at least ``min_lines`` code lines *and*
    #: ``min_tokens`` tokens: six copied lines are a copy even when they are short.
    min_lines: int = 6
    min_tokens: int = 20
    #: Shortest run of equal normal-form tokens that counts as aligned.
    min_run: int = 12
    #: Tokens that may lie between two runs of one match (an inserted or deleted line).
    max_gap: int = 24
    #: Share of tokens with identical text at or above which a match is a verbatim copy.
    verbatim_similarity: float = 0.9
    #: Below it, a match is a renamed copy only when its identifiers were renamed consistently
    #: (each name of the suggestion always stands for the same name of the source) and it has at least
    #: ``renamed_min_distinct`` distinct shingles: code of the same *shape* without shared
    #: names (a run of ``self.a = a`` lines, a list of ``name: int | None = None`` parameters)
    #: is common in unrelated projects; a renamed copy of real logic is not repetitive.
    rename_consistency: float = 0.9
    renamed_min_distinct: int = 30
    #: Severity tiers by copied characters of code (low below, medium, high at or above).
    medium_chars: int = 300
    high_chars: int = 1000
    #: Candidate (file, diagonal) pairs verified per query, most LSH votes first, and the votes a
    #: pair needs (a copy lines up with a corpus window in several bands and query windows; a
    #: single vote is most often a chance collision).
    max_candidates: int = 48
    min_votes: int = 2

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{f.name} must be a non-negative number, not {value!r}")
        for name in ("verbatim_similarity", "rename_consistency"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie between 0 and 1")
        if self.min_run < 1 or self.max_candidates < 1 or self.min_votes < 1:
            raise ValueError("min_run, max_candidates and min_votes must be at least 1")
        if self.medium_chars > self.high_chars:
            raise ValueError("medium_chars must not exceed high_chars")

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Thresholds:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})
