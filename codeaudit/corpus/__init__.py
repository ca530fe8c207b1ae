"""Corpus indexes for the memorization auditor: which file, which lines and which licence a
suggestion copies.

A corpus (a folder, a git repository, JSONL or Parquet shards of code) is cut into overlapping
windows of normalised token shingles (:mod:`~codeaudit.corpus.tokens`); each window's MinHash
signature (datasketch's, computed vectorised: :mod:`~codeaudit.corpus.minhash`) is banded into an
LSH table stored as sorted, memory-mapped arrays (:mod:`~codeaudit.corpus.index`), next to the
token streams that let every candidate be verified exactly (:mod:`~codeaudit.corpus.match`).

>>> from codeaudit.corpus import build_index, CorpusIndex, parse_sources    # doctest: +SKIP
>>> build_index(parse_sources(["src/"]), "src.idx")                         # doctest: +SKIP
>>> index = CorpusIndex.open("src.idx")                                     # doctest: +SKIP
>>> [m.source() for m in search([index], open("suggestion.py").read(), "python")]  # doctest: +SKIP
[{'repo': 'src', 'path': 'util/io.py', 'start_line': 10, 'end_line': 31, 'license': 'MIT'}]

Submodules are imported on first use, so importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lazy import lazy_names

if TYPE_CHECKING:  # pragma: no cover
    from .build import build_index
    from .default import default_index_path, ensure_default_index
    from .index import CorpusIndex
    from .match import Match, find_matches, query_views
    from .params import IndexParams
    from .sources import FieldMap, FolderSource, GitSource, ShardSource, parse_sources
    from .thresholds import Thresholds

__all__ = [
    "search",
    "CorpusIndex",
    "FieldMap",
    "FolderSource",
    "GitSource",
    "IndexParams",
    "Match",
    "ShardSource",
    "Thresholds",
    "build_index",
    "default_index_path",
    "ensure_default_index",
    "find_matches",
    "parse_sources",
    "query_views",
]

_LAZY = {
    "build_index": "build",
    "CorpusIndex": "index",
    "Match": "match",
    "Thresholds": "thresholds",
    "find_matches": "match",
    "query_views": "match",
    "IndexParams": "params",
    "FieldMap": "sources",
    "FolderSource": "sources",
    "GitSource": "sources",
    "ShardSource": "sources",
    "parse_sources": "sources",
    "default_index_path": "default",
    "ensure_default_index": "default",
}


__getattr__, __dir__ = lazy_names(globals(), {k: f".{v}" for k, v in _LAZY.items()}, __all__)


def search(
    indexes: list[Any],
    text: str,
    language: str | None,
    thresholds: Any = None,
    *,
    report_all: bool = False,
) -> list[Any]:
    """Reported copies of corpus code in ``text`` (a convenience over :func:`find_matches`)."""
    from .match import find_matches, views_for
    from .thresholds import Thresholds

    return find_matches(
        indexes,
        views_for(indexes, text, language),
        text,
        thresholds or Thresholds(),
        report_all=report_all,
    )
