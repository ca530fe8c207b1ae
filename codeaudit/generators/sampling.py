"""Choosing the next token from logits: greedy, or temperature + nucleus (top-p) sampling.

Sampling is a pure function of the logits and a per-sequence random generator seeded with
``(seed, prompt index, sample index)``: the same seed gives the same samples whatever the batch
size, the order of the batch, or the engine (as far as the engines' logits agree).

>>> import numpy as np
>>> logits = np.log(np.array([[0.1, 0.6, 0.3]], dtype=np.float32))
>>> choose(logits, temperature=0.0, top_p=1.0, rngs=[None]).tolist()
[1]
>>> rng = sequence_rng(seed=7, prompt_index=0, sample_index=0)
>>> int(choose(logits, temperature=1.0, top_p=0.5, rngs=[rng])[0])  # the nucleus is {1}
1
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sample_seed(*, seed: int, prompt_index: int, sample_index: int) -> int:
    """The 64-bit seed of one sample's generator, derived from ``(seed, prompt, sample)``.

    >>> sample_seed(seed=1, prompt_index=0, sample_index=0) == sample_seed(seed=1, prompt_index=0, sample_index=0)
    True
    >>> sample_seed(seed=1, prompt_index=0, sample_index=0) != sample_seed(seed=1, prompt_index=0, sample_index=1)
    True
    """
    words = np.random.SeedSequence([seed & 0xFFFFFFFF, prompt_index, sample_index]).generate_state(
        2, np.uint64
    )
    return int(words[0])


def sequence_rng(*, seed: int, prompt_index: int, sample_index: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, prompt_index, sample_index])


def choose(
    logits: np.ndarray,
    *,
    temperature: float,
    top_p: float,
    rngs: Sequence[np.random.Generator | None],
) -> np.ndarray:
    """One token id per row of ``logits`` (shape ``(batch, vocab)``)."""
    if temperature <= 0.0:
        return np.argmax(logits, axis=-1).astype(np.int64)
    out = np.empty(logits.shape[0], dtype=np.int64)
    for b, rng in enumerate(rngs):
        out[b] = _sample_row(logits[b], temperature, top_p, rng)
    return out


def _sample_row(
    row: np.ndarray, temperature: float, top_p: float, rng: np.random.Generator | None
) -> int:
    if rng is None:
        raise ValueError("sampling needs a random generator per sequence")
    x = row.astype(np.float64) / temperature
    x -= x.max()
    p = np.exp(x)
    p /= p.sum()
    if top_p >= 1.0:
        candidates = np.arange(p.size)
    else:
        candidates = _nucleus(p, top_p)
    probs = p[candidates]
    cumulative = np.cumsum(probs)
    u = rng.random() * cumulative[-1]
    pick = int(np.searchsorted(cumulative, u, side="right"))
    return int(candidates[min(pick, candidates.size - 1)])


def _nucleus(p: np.ndarray, top_p: float) -> np.ndarray:
    """Smallest set of most probable ids whose mass reaches ``top_p``, most probable first.

    Exact, without sorting the whole vocabulary: the nucleus is a prefix of the sorted order, so
    if the ``k`` largest probabilities already reach ``top_p`` the nucleus lies inside them.
    """
    k = min(64, p.size)
    while True:
        top = np.argpartition(-p, k - 1)[:k] if k < p.size else np.arange(p.size)
        # Highest probability first; ties broken by token id so the order is deterministic.
        order = np.lexsort((top, -p[top]))
        top = top[order]
        cumulative = np.cumsum(p[top])
        if cumulative[-1] >= top_p or k >= p.size:
            cut = int(np.searchsorted(cumulative, top_p, side="left")) + 1
            return top[: min(cut, top.size)]
        k = min(p.size, k * 4)
