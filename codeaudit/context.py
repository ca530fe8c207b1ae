"""Analyse a completion in its context, report inside the completion only.

A suggestion is ``prompt + completion + suffix``; the prompt may end in the middle of a line (the
cursor). Auditors parse the whole text so fragments make sense, then map every position back with
:meth:`CodeContext.locate`; positions outside the completion map to ``None`` and are not reported.

>>> ctx = CodeContext.build(prompt="x = ", completion="f(1)\\ny = 2\\n")
>>> ctx.locate_line(1)   # line 1 of the text is line 1 of the completion
1
>>> ctx.to_completion(1, 5)  # column 5 of the text is column 1 of the completion
(1, 1)
>>> ctx.to_completion(1, 2) is None  # inside the prompt
True
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """Lines of ``text`` as codeaudit counts them: ``\\n``, ``\\r\\n`` and ``\\r`` end a line.

    Unlike :meth:`str.splitlines`, form feeds, ``\\x1c``–``\\x1e``, ``\\x85`` and U+2028/U+2029
    do not: parsers, git and editors do not count them either, so line numbers agree everywhere.
    With ``keepends`` each line keeps its line break (``"".join`` gives ``text`` back).

    >>> split_lines("a\\r\\nb\\x0cc\\n")
    ['a', 'b\\x0cc']
    >>> split_lines("a\\r\\nb\\x0cc\\nd", keepends=True)
    ['a\\r\\n', 'b\\x0cc\\n', 'd']
    """
    if keepends:
        starts = line_starts(text)
        ends = starts[1:] + [len(text)]
        return [text[a:b] for a, b in zip(starts, ends, strict=True) if b > a]
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of ``text`` starts (``\\n``, ``\\r\\n`` and ``\\r`` endings)."""
    if "\r" not in text:
        starts = [0]
        find, i = text.find, 0
        while (j := find("\n", i)) >= 0:
            i = j + 1
            starts.append(i)
        return starts
    starts, i, n = [0], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\r" and i + 1 < n and text[i + 1] == "\n":
            i += 1
        if c in "\r\n":
            starts.append(i + 1)
        i += 1
    return starts


@dataclass(frozen=True, slots=True)
class CodeContext:
    """The text to analyse and where the completion sits in it."""

    text: str
    start: int  # offset of the completion's first character in ``text``
    end: int  # offset just past its last character
    _starts: list[int] = field(repr=False, compare=False)

    @classmethod
    def build(cls, *, prompt: str = "", completion: str, suffix: str = "") -> CodeContext:
        text = prompt + completion + suffix
        return cls(text, len(prompt), len(prompt) + len(completion), line_starts(text))

    @classmethod
    def of(cls, suggestion, *, with_prompt: bool = True, with_suffix: bool = True) -> CodeContext:
        return cls.build(
            prompt=suggestion.prompt if with_prompt else "",
            completion=suggestion.completion,
            suffix=suggestion.suffix if with_suffix else "",
        )

    @property
    def completion(self) -> str:
        return self.text[self.start : self.end]

    # -- positions in the text ---------------------------------------------------------------
    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``offset`` in the whole text."""
        idx = bisect_right(self._starts, offset) - 1
        return idx + 1, offset - self._starts[idx] + 1

    def offset(self, line: int, column: int = 1) -> int:
        """Offset in the text of a 1-based (line, column); clamps to the text."""
        line = min(max(line, 1), len(self._starts))
        return min(self._starts[line - 1] + max(column, 1) - 1, len(self.text))

    # -- mapping into the completion --------------------------------------------------------
    @property
    def first_line(self) -> int:
        """Line of the text on which the completion starts."""
        return self.position(self.start)[0]

    def locate(self, offset: int) -> tuple[int, int] | None:
        """1-based (line, column) inside the completion of a text offset, or ``None`` outside it."""
        if not self.start <= offset < self.end:
            return None
        line, col = self.position(offset)
        first_line, first_col = self.position(self.start)
        if line == first_line:
            return 1, col - first_col + 1
        return line - first_line + 1, col

    def to_completion(self, line: int, column: int = 1) -> tuple[int, int] | None:
        """Map a 1-based (line, column) of the text into the completion, or ``None``."""
        return self.locate(self.offset(line, column))

    def locate_line(self, line: int) -> int | None:
        """Map a line of the text to a completion line when any part of it is completion text."""
        if line < 1 or line > len(self._starts):
            return None
        line_start = self._starts[line - 1]
        line_end = self._starts[line] if line < len(self._starts) else len(self.text)
        lo, hi = max(line_start, self.start), min(line_end, self.end)
        if lo >= hi:
            return None
        return self.locate(lo)[0]  # type: ignore[index]

    def completion_span(
        self, start_offset: int, end_offset: int
    ) -> tuple[int, int, int, int] | None:
        """Clip a text span to the completion: (line, column, end_line, end_column) or ``None``."""
        lo, hi = max(start_offset, self.start), min(end_offset, self.end)
        if lo >= hi:
            return None
        line, col = self.locate(lo)  # type: ignore[misc]
        end_line, end_col = self.locate(hi - 1)  # type: ignore[misc]
        return line, col, end_line, end_col
