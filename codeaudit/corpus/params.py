"""Every number that shapes an index, defined once and stored in its manifest.

An index is only comparable with a query computed with exactly the same parameters, so
:class:`IndexParams` is written into ``manifest.json`` at build time and read back on load; the
query side always uses the parameters of the index it searches, never its own defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .tokens import TOKENIZER_VERSION

#: Version of the on-disk layout (files, dtypes, meaning of each array).
FORMAT_VERSION = 1
#: Name of the shingle hash function (:func:`codeaudit.corpus.minhash.shingle_hash`).
SHINGLE_HASH = "poly64-fold32"


@dataclass(frozen=True, slots=True)
class IndexParams:
    """Shingling, windowing, MinHash and LSH parameters of one index.

    >>> p = IndexParams()
    >>> p.bands * p.rows == p.num_perm
    True
    """

    tokenizer_version: int = TOKENIZER_VERSION
    #: Tokens per shingle.
    shingle: int = 5
    #: Shingles per window (a window spans ``window + shingle - 1`` tokens).
    window: int = 16
    #: Shingles between the starts of two corpus windows (queries use every start).
    stride: int = 8
    #: MinHash permutations (datasketch ``num_perm``), ``seed`` and permutation scheme.
    num_perm: int = 32
    seed: int = 1
    scheme: str = "affine32"
    #: Shingles between the starts of two query windows. A query window then lies within
    #: ``query_stride // 2`` shingles of any corpus window it copies, similar enough to share
    #: a band with near certainty; verification recovers the exact alignment.
    query_stride: int = 2
    #: LSH banding: ``bands * rows == num_perm``.
    bands: int = 8
    rows: int = 4
    shingle_hash: str = SHINGLE_HASH
    #: A band bucket holding more windows than this is boilerplate shared by many files; queries
    #: skip it (it cannot point at one source) instead of verifying all of its windows.
    max_bucket: int = 64

    def __post_init__(self) -> None:
        problems = []
        if self.bands * self.rows != self.num_perm:
            problems.append(
                f"bands ({self.bands}) x rows ({self.rows}) must equal num_perm ({self.num_perm})"
            )
        if self.window % self.stride:
            problems.append(f"window ({self.window}) must be a multiple of stride ({self.stride})")
        for f in (
            "shingle",
            "window",
            "stride",
            "query_stride",
            "num_perm",
            "bands",
            "rows",
            "max_bucket",
        ):
            if getattr(self, f) < 1:
                problems.append(f"{f} must be positive")
        if self.scheme != "affine32":
            problems.append(f"scheme {self.scheme!r} is not supported (affine32)")
        if problems:
            raise ValueError("index parameters: " + "; ".join(problems))

    @property
    def lsh_threshold(self) -> float:
        """The Jaccard similarity at which a window pair becomes a candidate with probability ~1/2
        (the steep point of the banding S-curve, about ``(1/bands) ** (1/rows)``)."""
        return round((1 / self.bands) ** (1 / self.rows), 4)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lsh_threshold": self.lsh_threshold}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexParams:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
