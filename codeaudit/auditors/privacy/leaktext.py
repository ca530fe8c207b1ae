"""The :class:`Leak` record the personal-data detectors return and the line index of the text
they read (:mod:`.leakage`)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# --- records -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leak:
    """One piece of personal data in the analysed text (offsets into that text).

    ``focus`` is the part that reveals something (the user name, the address); a leak counts
    only when its focus lies in the audited completion. ``mask`` lists spans that must never be
    shown (a password).
    """

    rule: str
    start: int
    end: int
    focus: tuple[int, int]
    evidence: dict[str, Any]
    message: str
    mask: tuple[tuple[int, int], ...] = ()
    #: ``"high"``/``"medium"``/``"low"``; ``None``: the rule's default.
    confidence: str | None = None
    #: a severity label overriding the rule's default (e.g. a role address is ``low``).
    severity: str | None = None


# --- the text, line by line ---------------------------------------------------------------------


@dataclass(slots=True)
class _Text:
    """The analysed text, lowercased once, with its line starts (``\n``, ``\r\n`` and ``\r``)."""

    text: str
    low: str = ""
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.low = self.text.lower()
        starts = [0]
        find, i, text = self.text.find, 0, self.text
        if "\r" in text:
            for m in re.finditer(r"\r\n?|\n", text):
                starts.append(m.end())
        else:
            while (j := find("\n", i)) >= 0:
                i = j + 1
                starts.append(i)
        self.starts = starts

    def line_span(self, index: int) -> tuple[int, int]:
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        text = self.text
        while end > start and text[end - 1] in "\r\n":
            end -= 1
        return start, end

    def lines_with(self, needles: tuple[str, ...]) -> Iterator[tuple[int, str]]:
        """(offset, line) of each line whose lowercase form holds one of ``needles``."""
        low, found = self.low, set()
        for needle in needles:
            i = low.find(needle)
            while i >= 0:
                found.add(self.line_index(i))
                i = low.find(
                    needle,
                    self.starts[self.line_index(i) + 1]
                    if self.line_index(i) + 1 < len(self.starts)
                    else len(low),
                )
        return self._lines_at(found)

    def lines_matching(self, pattern: re.Pattern[str]) -> Iterator[tuple[int, str]]:
        return self._lines_at({self.line_index(m.start()) for m in pattern.finditer(self.text)})

    def line_index(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def _lines_at(self, indices: set[int]) -> Iterator[tuple[int, str]]:
        for index in sorted(indices):
            start, end = self.line_span(index)
            yield start, self.text[start:end]
