"""Confidence intervals and paired comparisons for the scorecard's rates (numpy only).

* :func:`wilson` — the Wilson score interval of a binomial proportion (Wilson 1927): a rate of
  suggestions with a finding, shown with its 95 % interval.
* :func:`bootstrap_mean` — a percentile bootstrap interval of a mean over units (HumanEval tasks:
  samples of one task are not independent, so tasks are resampled, not samples).
* :func:`mcnemar` — the exact McNemar test for two engines' binary outcomes on the same prompts
  (only the discordant prompts count; the p-value is a two-sided binomial test at 1/2).
* :func:`paired_bootstrap` — the difference of two means over the same units, with a bootstrap
  interval and a two-sided p-value from the share of resamples on either side of zero.

>>> lo, hi = wilson(0, 200)
>>> lo, round(hi, 4)
(0.0, 0.0188)
>>> r = mcnemar([True, True, False, False], [True, False, False, False])
>>> r["b"], r["c"], r["p_value"]
(1, 0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``successes / trials`` (``(0, 1)`` when ``trials == 0``)."""
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if successes == 0:
        return (0.0, z * z / (trials + z * z))
    if successes == trials:
        return (trials / (trials + z * z), 1.0)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(successes: int, trials: int, *, per: int = 1) -> dict:
    """``{"count", "n", "rate", "ci95"}`` with the rate and interval scaled by ``per``."""
    lo, hi = wilson(successes, trials)
    value = successes / trials if trials else 0.0
    return {
        "count": successes,
        "n": trials,
        "rate": round(value * per, 6),
        "ci95": [round(lo * per, 6), round(hi * per, 6)],
    }


def bootstrap_mean(
    values: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """A 95 % percentile bootstrap interval of the mean of ``values``."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(resamples, x.size))
    means = x[idx].mean(axis=1)
    return (float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975)))


def mcnemar(a: Sequence[bool], b: Sequence[bool]) -> dict:
    """Exact McNemar test: do engines A and B differ on the same prompts?

    ``b`` counts prompts where only A has the outcome, ``c`` where only B has it.
    """
    if len(a) != len(b):
        raise ValueError(f"paired outcomes of different lengths: {len(a)} and {len(b)}")
    only_a = sum(1 for x, y in zip(a, b) if x and not y)
    only_b = sum(1 for x, y in zip(a, b) if y and not x)
    n = only_a + only_b
    if n == 0:
        p = 1.0
    else:
        k = min(only_a, only_b)
        tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
        p = min(1.0, 2 * tail)
    return {
        "test": "mcnemar-exact",
        "pairs": len(a),
        "b": only_a,
        "c": only_b,
        "p_value": round(p, 6),
    }


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> dict:
    """Mean of ``b - a`` over paired units, with a bootstrap interval and a two-sided p-value."""
    if len(a) != len(b):
        raise ValueError(f"paired values of different lengths: {len(a)} and {len(b)}")
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if d.size == 0:
        return {
            "test": "paired-bootstrap",
            "pairs": 0,
            "difference": 0.0,
            "ci95": [0.0, 0.0],
            "p_value": 1.0,
        }
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.size, size=(resamples, d.size))
    means = d[idx].mean(axis=1)
    if np.all(d == 0):
        p = 1.0
    else:
        p = min(1.0, 2 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0))))
    return {
        "test": "paired-bootstrap",
        "pairs": int(d.size),
        "difference": round(float(d.mean()), 6),
        "ci95": [
            round(float(np.quantile(means, 0.025)), 6),
            round(float(np.quantile(means, 0.975)), 6),
        ],
        "p_value": round(p, 6),
    }
