"""Post-processing of raw model output, kept apart from generation.

The raw text a model produced is stored untouched (``meta.raw``); the completion that is audited
is derived from it here.

>>> truncate_at_stops("    return a + b\\n\\ndef main():\\n", HUMANEVAL_STOPS)
'    return a + b\\n'
>>> truncate_at_stops("x = 1\\n", ())
'x = 1\\n'
"""

from __future__ import annotations

from collections.abc import Sequence

#: Where a HumanEval completion ends: the start of the next top-level statement. These are the
#: stop sequences of the Codex paper (Chen et al., 2021, section 2.3).
HUMANEVAL_STOPS: tuple[str, ...] = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")


def first_stop(text: str, stops: Sequence[str]) -> int | None:
    """Index of the earliest stop sequence in ``text``, or ``None``."""
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None


def truncate_at_stops(text: str, stops: Sequence[str]) -> str:
    """``text`` up to (not including) the first stop sequence."""
    cut = first_stop(text, stops)
    return text if cut is None else text[:cut]
