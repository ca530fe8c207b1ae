"""Exposure of a planted canary (Carlini et al., "The Secret Sharer", USENIX Security 2019).

A canary is a prefix followed by a secret drawn at random from a space ``R`` of ``|R|`` secrets
of one format. The model scores every candidate secret by its log-perplexity given the prefix
(the negative log-likelihood of the secret and what follows it, in bits; lower = the model finds
it likelier). The canary's *rank* is its position among all of ``R`` by that score, and

    exposure = log2 |R| − log2 rank = −log2 (rank / |R|).

``R`` is far too large to score (≥ 2^40), so the share ``rank / |R|`` is estimated from ``m``
candidates drawn uniformly from ``R``:

* when some candidates score better than the canary (it is ranked *inside* the sample), the
  share is ``(above + 1) / (m + 1)``: a direct rank count, no model of the distribution;
* when none does, the share lies below ``1 / m`` and is extrapolated, as the paper does, from a
  skew-normal distribution fitted to the candidates' scores (``scipy.stats.skewnorm``): the
  share is the fitted CDF at the canary's score. Exposure is capped at ``log2 |R|``.

>>> import numpy as np
>>> scores = np.arange(1.0, 1001.0)          # 1000 candidates, scores 1 … 1000 bits
>>> e = exposure(500.5, scores, space_bits=40)
>>> e["method"], round(e["exposure"], 3)     # 500 candidates score better: share 501/1001
('rank', 0.999)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def exposure(canary_score: float, candidate_scores: Sequence[float], *, space_bits: float) -> dict:
    """Exposure of a canary whose log-perplexity is ``canary_score``, from sampled candidates.

    Returns ``{"exposure", "method": "rank"|"skewnorm", "above", "candidates", "share"}``.
    """
    scores = np.asarray(candidate_scores, dtype=float)
    m = int(scores.size)
    if m == 0:
        raise ValueError("exposure needs at least one candidate score")
    above = int(np.count_nonzero(scores < canary_score))
    if above > 0:
        share = (above + 1) / (m + 1)
        method = "rank"
    else:
        share = skewnorm_share(canary_score, scores)
        share = min(share, 1 / (m + 1))  # the tail never claims more than the sample shows
        method = "skewnorm"
    floor = 2.0 ** (-space_bits)
    value = min(space_bits, -math.log2(max(share, floor)))
    return {
        "exposure": round(value, 4),
        "method": method,
        "above": above,
        "candidates": m,
        "share": share,
    }


def skewnorm_share(score: float, scores: np.ndarray) -> float:
    """P(candidate score < ``score``) under a skew-normal distribution fitted to ``scores``."""
    from scipy import stats

    a, loc, scale = stats.skewnorm.fit(scores)
    return float(stats.skewnorm.cdf(score, a, loc=loc, scale=scale))


def exact_exposure(canary_score: float, all_scores: Sequence[float]) -> float:
    """Exposure from a complete enumeration of the space: ``log2 |R| − log2 rank``.

    ``all_scores`` holds every secret's score, the canary's included; rank 1 is the best.
    """
    scores = np.asarray(all_scores, dtype=float)
    rank = int(np.count_nonzero(scores < canary_score)) + 1
    return math.log2(scores.size) - math.log2(rank)
