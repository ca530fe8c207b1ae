"""Fitting a prompt into the model's context window.

>>> fit_prompt([1, 2, 3, 4, 5, 6], 6, 2)
[3, 4, 5, 6]
>>> fit_prompt([1, 2, 3], 6, 2)
[1, 2, 3]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def fit_prompt(
    ids: Sequence[int],
    context_length: int,
    max_new_tokens: int,
    *,
    is_line_start: Callable[[int], bool] | None = None,
) -> list[int]:
    """The prompt's token ids cut from the left so that ``max_new_tokens`` still fit the context.

    The cut lands on a line boundary when ``is_line_start(i)`` says which positions begin a line
    (the first position after a newline); without one, or when no line starts inside the room,
    the cut is at the token that makes room. At least one token of the prompt is kept.
    """
    room = max(1, context_length - max_new_tokens)
    if len(ids) <= room:
        return list(ids)
    first = len(ids) - room
    if is_line_start is not None:
        for i in range(first, len(ids)):
            if is_line_start(i):
                return list(ids[i:])
    return list(ids[first:])


def line_starts(tokenizer_decode: Callable[[Sequence[int]], str], ids: Sequence[int]):
    """``is_line_start`` for :func:`fit_prompt`: position ``i`` starts a line when the text of
    token ``i - 1`` ends with a newline."""

    def is_line_start(i: int) -> bool:
        return i > 0 and tokenizer_decode([ids[i - 1]]).endswith("\n")

    return is_line_start
