"""Finding copies: LSH candidates, then exact verification of aligned token runs.

For a query text (a suggestion's completion) :func:`find_matches`:

1. tokenizes it (normal form) and computes the MinHash of the window starting at *every* shingle
   (a corpus window has a query window with exactly its shingles wherever the copy covers it);
2. looks each band key up in the index's sorted bands and collects the corpus windows that share
   one, skipping buckets bigger than ``max_bucket`` (boilerplate shared by many files);
3. turns each (query window, corpus window) hit into a *diagonal*: the offset between the query
   token and the corpus token it would be a copy of;
4. **verifies** each candidate diagonal exactly: compares the normal-form tokens of the query and
   the corpus file along it and keeps the runs of at least ``min_run`` equal tokens;
5. chains runs of one file that follow each other with small gaps (an inserted or deleted line)
   into a match, picks the longest matches that do not overlap in the query, and measures them:
   matched tokens, characters and lines, the share of tokens whose exact text is equal
   (``similarity``: 1.0 for a verbatim or whitespace/comment-edited copy) and, for the others,
   whether the identifiers were renamed consistently (one name always becomes the same other
   name), which is what separates a renamed copy from code that merely has the same shape.

Nothing is reported on the strength of a MinHash estimate alone: every reported token was
compared with the corpus token it copies.

Reporting thresholds live in :class:`~codeaudit.corpus.thresholds.Thresholds`, defined once;
the auditor's ``[tool.codeaudit.memorization]`` options are its fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import minhash
from .index import POPULAR, CorpusIndex
from .thresholds import Thresholds
from .tokens import (
    FAMILY_LANGUAGE,
    NORM_IDENT,
    TokenStream,
    family_of,
    normalize_newlines,
    tokenize,
)


@dataclass(frozen=True, slots=True)
class Match:
    """A verified copy of corpus code in the query text."""

    corpus: str
    repo: str
    path: str
    license: str
    source_start_line: int
    source_end_line: int
    #: Span of the match in the query text: token indexes, character offsets and 1-based lines.
    first_token: int
    last_token: int
    start_offset: int
    end_offset: int
    line: int
    end_line: int
    tokens: int
    #: Distinct normal-form shingles among the matched tokens: the match's size without its
    #: repetitions (six lines of ``self.x = x`` have many tokens but few distinct shingles).
    distinct: int
    chars: int
    lines: int
    similarity: float
    consistency: float
    kind: str  # "verbatim" | "renamed"

    def source(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "path": self.path,
            "start_line": self.source_start_line,
            "end_line": self.source_end_line,
            "license": self.license,
        }


@dataclass(slots=True)
class _Chain:
    """Runs of one file that follow each other in the query and in the file."""

    index: CorpusIndex
    view: View
    file: int
    tiles: list[tuple[int, int, int]]  # (query start, query end, file-local start)

    @property
    def q0(self) -> int:
        return self.tiles[0][0]

    @property
    def q1(self) -> int:
        return self.tiles[-1][1]

    @property
    def size(self) -> int:
        return sum(b - a for a, b, _ in self.tiles)


@dataclass(frozen=True, slots=True)
class View:
    """One way of lexing the query: its tokens (offsets in the query text), the first token
    that may be reported (earlier ones are context), and the lexer family used."""

    stream: TokenStream
    first: int
    family: str = "plain"


def _sub_stream(ts: TokenStream, keep: np.ndarray, shift: int) -> TokenStream:
    assert ts.start is not None and ts.end is not None
    return TokenStream(
        ts.norm[keep], ts.raw[keep], ts.line[keep], ts.start[keep] - shift, ts.end[keep] - shift
    )


#: Characters of a query lexed as the inside of an open string or comment (see query_views).
OPEN_VIEW_CHARS = 100_000
#: Query windows looked up per view at the index's ``query_stride``; a longer view (a huge
#: one-line file) steps by more shingles, up to the corpus ``stride``, so lookups stay bounded.
MAX_QUERY_WINDOWS = 40_000
#: Query windows looked up in one vectorised pass (bounds the memory of a long query).
_LOOKUP_CHUNK = 8192


def query_stride(index_params: Any, n_windows: int) -> int:
    """The step between the query windows looked up for a view of ``n_windows`` windows."""
    step = max(index_params.query_stride, -(-n_windows // MAX_QUERY_WINDOWS))
    return min(step, max(index_params.stride, index_params.query_stride))


def query_views(text: str, language: str | None, *, start: int = 0) -> list[View]:
    """The lexings of ``text`` to search: as written, and, when the text may begin inside a
    multi-line string or comment (a suggestion cut from the middle of a docstring), as if one
    were open at its start. Offsets refer to ``normalize_newlines(text)``; tokens before
    ``start`` (context) are not reported.

    >>> text = "end of a docstring.\\n" + '"' * 3 + "\\nx = 1\\n"
    >>> [len(v.stream) for v in query_views(text, "python")]
    [9, 8]
    """
    text = normalize_newlines(text)
    family = family_of(language)
    base = tokenize(text, language, offsets=True)
    views = [View(base, int(np.searchsorted(base.start, start)), family)]  # type: ignore[arg-type]
    # Read as the inside of an open string or comment, a very long text is read only in its
    # first OPEN_VIEW_CHARS: a completion starts inside a docstring, it is not one megabyte of it.
    head = text if len(text) <= OPEN_VIEW_CHARS else text[:OPEN_VIEW_CHARS]
    for prefix in _open_prefixes(text, family):
        ts = tokenize(prefix + head, language, offsets=True)
        assert ts.start is not None
        sub = _sub_stream(ts, ts.start >= len(prefix), len(prefix))
        views.append(View(sub, int(np.searchsorted(sub.start, start)), family))  # type: ignore[arg-type]
    return views


def views_for(
    indexes: list[CorpusIndex], text: str, language: str | None, *, start: int = 0
) -> list[View]:
    """:func:`query_views` in each lexer family the query must be read in: its language's, or,
    when that language is unknown or not code, each family the indexes hold (a suggestion cut
    from the middle of a docstring may be detected as prose or YAML). None for a programming
    language no index holds."""
    from .. import languages

    own = family_of(language)
    held = frozenset().union(*(index.families for index in indexes)) if indexes else frozenset()
    code = (
        language is not None
        and language in languages.LANGUAGES
        and languages.LANGUAGES[language].code
    )
    if code and held and own not in held:
        return []  # C against a Python-only corpus: nothing can match, nothing to lex
    families = [own] if code or not held else sorted(held)
    out: list[View] = []
    for fam in families:
        out.extend(query_views(text, language if fam == own else FAMILY_LANGUAGE[fam], start=start))
    return out


def _open_prefixes(text: str, family: str) -> list[str]:
    """Openers to put before ``text`` when it may begin inside a multi-line string or comment."""
    if family == "python":
        # Even without a quote in sight, the whole text may be the inside of a docstring (prose,
        # a table, a regular expression): cheaper tests of that missed too many copies.
        m = _TRIPLE.search(text)
        return [m.group() if m else '"' * 3]
    if family in ("clike", "php", "dash"):
        close = text.find("*/")
        if close >= 0 and not 0 <= text.find("/*") < close:
            return ["/*"]
    return []


_TRIPLE = re.compile("\"\"\"|'''")


_NONE = np.empty(0, dtype=np.int64)


def _pack(view: np.ndarray, file: np.ndarray, diag: np.ndarray) -> np.ndarray:
    """(view, file, diagonal) in one sortable int64: 2 bits, 30 bits, 32 bits (offset)."""
    return ((view.astype(np.int64) << 30) + file) << 32 | (diag + (1 << 31))


def _unpack(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return packed >> 62, (packed >> 32) & ((1 << 30) - 1), (packed & 0xFFFFFFFF) - (1 << 31)


def candidates(
    index: CorpusIndex, views: list[View | None], limit: int, min_votes: int = 1
) -> np.ndarray:
    """Up to ``limit`` (view, file, diagonal) candidates with at least ``min_votes`` LSH votes,
    each packed in one int64 by :func:`_pack` (see :func:`_unpack`).

    Query windows start every ``query_stride`` shingles; a vote is one (query window, band)
    whose bucket holds a window of the file. A diagonal is ``file token - query token`` of the
    two windows, exact to within the query stride.
    """
    p = index.params
    perms = index.perms()
    key_parts, pos_parts, view_parts = [], [], []
    for v, view in enumerate(views):
        if view is None:  # lexed as a family this index does not hold
            continue
        hashes = minhash.shingle_hashes(view.stream.norm, p.shingle)
        if hashes.shape[0] == 0:
            continue
        # Every query_stride shingles, and the last window too: a copy may end there.
        step = query_stride(p, max(hashes.shape[0] - p.window + 1, 1))
        pos, sig = minhash.query_signatures(hashes, p, step, perms)
        key_parts.append(minhash.band_keys(sig, p))
        pos_parts.append(pos)
        view_parts.append(np.full(pos.shape[0], v))
    if not key_parts or index.windows == 0:
        return _NONE
    keys = np.concatenate(key_parts)
    qpos = np.concatenate(pos_parts)
    qview = np.concatenate(view_parts)
    packed = [
        _votes(
            index,
            keys[a : a + _LOOKUP_CHUNK],
            qpos[a : a + _LOOKUP_CHUNK],
            qview[a : a + _LOOKUP_CHUNK],
        )
        for a in range(0, keys.shape[0], _LOOKUP_CHUNK)
    ]
    if len(packed) == 1:
        pair, votes = packed[0]
    else:
        pair, inverse = np.unique(np.concatenate([pk for pk, _ in packed]), return_inverse=True)
        votes = np.bincount(inverse.ravel(), weights=np.concatenate([v for _, v in packed]))
        votes = votes.astype(np.int64)
    if pair.shape[0] == 0:
        return _NONE
    if min_votes > 1:
        keep = votes >= min_votes
        pair, votes = pair[keep], votes[keep]
    if pair.shape[0] > limit:
        pair = pair[np.argpartition(-votes, limit - 1)[:limit]]
    return pair


def _votes(
    index: CorpusIndex, keys: np.ndarray, qpos: np.ndarray, qview: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The packed (view, file, diagonal) candidates of some query windows and their votes."""
    lo, hi = _lookup(index, keys)
    nq = keys.shape[0]
    size = (hi - lo).T.reshape(-1)
    lo = lo.T.reshape(-1)
    sel = np.flatnonzero(size > 0)
    if sel.shape[0] == 0:
        return _NONE, _NONE
    counts = size[sel]
    total = int(counts.sum())
    starts = np.repeat(lo[sel] - np.cumsum(counts) + counts, counts) + np.arange(total)
    wid = index.ids[starts].astype(np.int64)
    q = np.repeat(sel % nq, counts)
    real = wid != POPULAR  # boilerplate buckets point at no source
    wid, q = wid[real], q[real]
    if wid.shape[0] == 0:
        return _NONE, _NONE
    files = index.file_of_windows(wid)
    diag = index.window_token(wid, files) - index.file_tok[files].astype(np.int64) - qpos[q]
    return np.unique(_pack(qview[q], files, diag), return_counts=True)


#: Keys read per directory entry in one vectorised pass: entries hold 2 to 4 keys on average
#: (a popular bucket is one entry), so few need the bisection fallback.
_RUN = 8


def _bisect(
    keys: np.ndarray, lo: np.ndarray, hi: np.ndarray, k: np.ndarray, right: bool
) -> np.ndarray:
    """Vectorised bisection of each ``k`` in the sorted run ``keys[lo:hi]``."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        v = keys[np.where(active, mid, 0)]
        go = active & ((v <= k) if right else (v < k))
        lo = np.where(go, mid + 1, lo)
        hi = np.where(active & ~go, mid, hi)


def _scan(
    index: CorpusIndex, keys: np.ndarray, a: np.ndarray, width: np.ndarray, run: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of each key among the ``width`` (at most ``run``) sorted keys from ``a``."""
    j = np.arange(run)
    inside = j < np.minimum(width, run)[..., None]
    vals = index.keys[np.where(inside, a[..., None] + j, 0)]
    k = keys[..., None]
    return a + ((vals < k) & inside).sum(axis=-1), a + ((vals <= k) & inside).sum(axis=-1)


def _lookup(index: CorpusIndex, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[lo, hi)`` in the flat LSH arrays of each key's bucket, for a ``(queries, bands)``
    array of keys: the directory gives each key's short run of candidates, read in one gather
    (a binary search per key costs about 20 cache misses; this costs one or two)."""
    band = np.broadcast_to(np.arange(keys.shape[1])[None, :], keys.shape)
    prefix = (keys >> np.uint32(index.directory_shift)).astype(np.int64)
    a = index.directory[band, prefix].astype(np.int64) + index.band_start[band]
    width = index.directory[band, prefix + 1].astype(np.int64) + index.band_start[band] - a
    lo, hi = _scan(index, keys, a, width, _RUN)
    wide = np.flatnonzero((width > _RUN).ravel())
    if wide.shape[0]:  # an entry crowded by chance: bisect it
        starts, k = a.ravel()[wide], keys.ravel()[wide]
        ends = starts + width.ravel()[wide]
        lo.ravel()[wide] = _bisect(index.keys, starts, ends, k, right=False)
        hi.ravel()[wide] = _bisect(index.keys, starts, ends, k, right=True)
    return lo, hi


def _tiles(
    index: CorpusIndex, view: View, files: np.ndarray, diags: np.ndarray, min_run: int
) -> dict[int, list[tuple[int, int, int]]]:
    """Per file, the runs of >= ``min_run`` equal normal-form tokens between the query (from
    ``view.first`` on) and the file along each (file, diagonal) pair, found in one pass."""
    q = view.stream.norm
    diags = diags.astype(np.int64)
    start = index.file_tok[files].astype(np.int64)
    length = index.files["ntok"][files].astype(np.int64)
    if files.shape[0] * (q.shape[0] - view.first) <= _DENSE_CELLS:
        rows, cols_s, cols_e = _runs_dense(index, q, view.first, start, length, diags, min_run)
        return _tiles_of(view, files, diags, rows, cols_s, cols_e)
    # Each diagonal is compared only where it lies inside its file: work and memory grow with
    # the files' lengths, not with candidates x query length (a 1 MB one-line query).
    lo = np.maximum(view.first, -diags)
    hi = np.minimum(q.shape[0], length - diags)
    width = np.maximum(hi - lo, 0)
    total = int(width.sum())
    rows_n = files.shape[0]
    off = np.cumsum(width) - width
    row = np.repeat(np.arange(rows_n), width)
    i = np.arange(total) - off[row] + lo[row]
    eq = index.norm[i + diags[row] + start[row]] == q[i]
    # Rows laid end to end with one zero between them, so a run never crosses into the next row.
    padded = np.zeros(total + rows_n + 1, dtype=np.int8)
    padded[np.arange(total) + row + 1] = eq
    step = np.diff(padded)
    run_s, run_e = np.flatnonzero(step == 1), np.flatnonzero(step == -1)
    keep = (run_e - run_s) >= min_run
    run_s, run_e = run_s[keep], run_e[keep]
    first_p = off + np.arange(rows_n)  # padded index (step coordinates) of each row's start
    rows = np.searchsorted(first_p, run_s, side="right") - 1
    cols_s = run_s - first_p[rows] + lo[rows] - view.first
    cols_e = cols_s + (run_e - run_s)
    return _tiles_of(view, files, diags, rows, cols_s, cols_e)


#: Candidates x query tokens compared as one dense matrix (a short query); beyond, per file.
_DENSE_CELLS = 1 << 21


def _runs_dense(
    index: CorpusIndex,
    q: np.ndarray,
    first: int,
    start: np.ndarray,
    length: np.ndarray,
    diags: np.ndarray,
    min_run: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, first, end) of the runs of >= ``min_run`` equal tokens from query token ``first``
    on, all diagonals at once (columns count from ``first``)."""
    i = np.arange(first, q.shape[0])
    local = i[None, :] + diags[:, None]
    valid = (local >= 0) & (local < length[:, None])
    j = np.where(valid, local + start[:, None], 0)
    eq = valid & (index.norm[j] == q[first:][None, :])
    padded = np.zeros((eq.shape[0], eq.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = eq
    step = np.diff(padded, axis=1)
    rows, cols_s = np.nonzero(step == 1)
    _, cols_e = np.nonzero(step == -1)  # starts and ends alternate within each row
    keep = (cols_e - cols_s) >= min_run
    return rows[keep], cols_s[keep], cols_e[keep]


def _tiles_of(
    view: View,
    files: np.ndarray,
    diags: np.ndarray,
    rows: np.ndarray,
    cols_s: np.ndarray,
    cols_e: np.ndarray,
) -> dict[int, list[tuple[int, int, int]]]:
    out: dict[int, dict[tuple[int, int], tuple[int, int, int]]] = {}
    for row, a, b in zip(rows.tolist(), cols_s.tolist(), cols_e.tolist()):
        qa, qb = view.first + a, view.first + b
        out.setdefault(int(files[row]), {})[(qa, qb)] = (qa, qb, qa + int(diags[row]))
    return {f: _prune(list(t.values())) for f, t in out.items()}


#: Tiles kept per file for chaining: repetitive text (tables, lists) aligns along many diagonals.
MAX_TILES = 64


def _prune(tiles: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The longest tiles whose query span is not inside a longer one's, at most MAX_TILES."""
    kept: list[tuple[int, int, int]] = []
    for t in sorted(tiles, key=lambda t: (t[0] - t[1], t[0], t[2])):
        if not any(k[0] <= t[0] and t[1] <= k[1] for k in kept):
            kept.append(t)
            if len(kept) == MAX_TILES:
                break
    return kept


def _chains(
    index: CorpusIndex, view: View, f: int, tiles: list[tuple[int, int, int]], max_gap: int
) -> list[_Chain]:
    """Best chains of non-overlapping tiles that follow each other in query and file."""
    tiles = sorted(tiles, key=lambda t: (t[0], -t[1]))
    n = len(tiles)
    score = [b - a for a, b, _ in tiles]
    prev = [-1] * n
    for j in range(n):
        qa, qb, ra = tiles[j]
        for i in range(j):
            pa, pb, pr = tiles[i]
            pr_end = pr + pb - pa
            if pb <= qa and pr_end <= ra and qa - pb <= max_gap and ra - pr_end <= max_gap:
                s = score[i] + qb - qa
                if s > score[j]:
                    score[j], prev[j] = s, i
    out = []
    used: set[int] = set()
    for j in sorted(range(n), key=lambda x: -score[x]):
        if j in used:
            continue
        chain = []
        k = j
        while k >= 0 and k not in used:
            chain.append(tiles[k])
            used.add(k)
            k = prev[k]
        out.append(_Chain(index, view, f, chain[::-1]))
    return out


def find_matches(
    indexes: list[CorpusIndex],
    views: list[View],
    text: str,
    thresholds: Thresholds,
    *,
    report_all: bool = False,
) -> list[Match]:
    """Verified copies of corpus code in ``text``, searched through each lexing in ``views``
    (see :func:`query_views`); matches do not overlap in the text.

    ``report_all`` returns every verified match, below the reporting thresholds too (for
    ``corpus query`` and the benchmark's threshold study).
    """
    t = thresholds
    text = normalize_newlines(text)
    views = [v for v in views if len(v.stream) - v.first >= t.min_run]
    chains: list[_Chain] = []
    for index in indexes:
        held = index.families
        usable = [v if v.family in held or not held else None for v in views]
        step = max((query_stride(index.params, len(v.stream)) for v in views), default=1)
        reach = np.arange(1 - step, step)
        found = candidates(index, usable, t.max_candidates, t.min_votes)
        if found.shape[0] == 0:
            continue
        # A hit aligns windows to within the query stride; try each diagonal near it.
        near = np.unique((found[:, None] + reach[None, :]).ravel())
        view_of, file_of, diag_of = _unpack(near)
        for v in np.unique(view_of).tolist():
            mine = view_of == v
            for f, tiles in _tiles(
                index, views[v], file_of[mine], diag_of[mine], t.min_run
            ).items():
                chains.extend(_chains(index, views[v], f, tiles, t.max_gap))
    chains = [c for c in map(_trim, chains) if c is not None]
    chains.sort(key=lambda c: (-c.size, c.q0, c.index.name, c.file))
    taken: list[tuple[int, int]] = []
    out: list[Match] = []
    for c in chains:
        stream = c.view.stream
        assert stream.start is not None and stream.end is not None
        a, b = int(stream.start[c.q0]), int(stream.end[c.q1 - 1])
        if any(a < y and x < b for x, y in taken):
            continue
        if not report_all and not _big_enough(c, t):
            continue
        m = _measure(c, text, t)
        if report_all or _reportable(m, t):
            taken.append((a, b))
            out.append(m)
    out.sort(key=lambda m: m.start_offset)
    return out


def _trim(c: _Chain) -> _Chain | None:
    """Drop tokens at either end of a chain that agree only in normal form (an unrelated name
    just before a copy is an identifier like the one before the original)."""
    s, _ = c.index.file_span(c.file)
    qraw, rraw = c.view.stream.raw, c.index.raw
    tiles = list(c.tiles)
    a, b, r = tiles[0]
    while a < b and qraw[a] != rraw[s + r]:
        a, r = a + 1, r + 1
    tiles[0] = (a, b, r)
    a, b, r = tiles[-1]
    while b > a and qraw[b - 1] != rraw[s + r + b - 1 - a]:
        b -= 1
    tiles[-1] = (a, b, r)
    tiles = [t for t in tiles if t[1] > t[0]]
    return _Chain(c.index, c.view, c.file, tiles) if tiles else None


def _code_chars(stream: TokenStream, tiles: list[tuple[int, int, int]]) -> int:
    """Characters of the matched code without comments, each run of whitespace counted once."""
    assert stream.start is not None and stream.end is not None
    total = 0
    for a, b, _ in tiles:
        st, en = stream.start[a:b], stream.end[a:b]
        total += int((en - st).sum()) + int((st[1:] > en[:-1]).sum())
    return total


def _big_enough(c: _Chain, t: Thresholds) -> bool:
    """The size test of :func:`_reportable`, cheap enough to run before measuring a chain."""
    stream = c.view.stream
    chars = _code_chars(stream, c.tiles)
    if chars >= t.min_chars:
        return True
    if c.size < t.min_tokens:
        return False
    lines = np.unique(np.concatenate([stream.line[a:b] for a, b, _ in c.tiles])).shape[0]
    return lines >= t.min_lines


def _reportable(m: Match, t: Thresholds) -> bool:
    big_enough = m.chars >= t.min_chars or (m.lines >= t.min_lines and m.tokens >= t.min_tokens)
    if not big_enough:
        return False
    if m.similarity >= t.verbatim_similarity:
        return True
    return m.consistency >= t.rename_consistency and m.distinct >= t.renamed_min_distinct


def _measure(c: _Chain, text: str, t: Thresholds) -> Match:
    index, f, stream = c.index, c.file, c.view.stream
    assert stream.start is not None and stream.end is not None
    s, _ = index.file_span(f)
    q_idx = np.concatenate([np.arange(a, b) for a, b, _ in c.tiles])
    r_idx = np.concatenate([np.arange(r, r + b - a) for a, b, r in c.tiles]) + s
    rraw = index.raw[r_idx]
    similarity = float((stream.raw[q_idx] == rraw).mean())
    # Renaming consistency: each name of the query stands for one name of the source. (Not
    # necessarily back: a renamed variable passed as ``f(size=n2)`` keeps its keyword ``size``.)
    ident = stream.norm[q_idx] == NORM_IDENT
    consistency = 1.0
    if ident.any():
        qi = q_idx[ident]
        names = [text[a:b] for a, b in zip(stream.start[qi].tolist(), stream.end[qi].tolist())]
        seen: dict[str, dict[int, int]] = {}
        for q, r in zip(names, rraw[ident].tolist()):
            targets = seen.setdefault(q, {})
            targets[r] = targets.get(r, 0) + 1
        consistency = sum(max(v.values()) for v in seen.values()) / len(names)
    chars = _code_chars(stream, c.tiles)
    qlines = stream.line[q_idx]
    distinct = np.unique(
        np.concatenate(
            [minhash.shingle_hashes(stream.norm[a:b], index.params.shingle) for a, b, _ in c.tiles]
        )
    ).shape[0]
    first, last = c.tiles[0], c.tiles[-1]
    rlines = index.lines(s + first[2], s + last[2] + last[1] - last[0])
    sf = index.source_file(f)
    return Match(
        corpus=index.name,
        repo=sf.repo,
        path=sf.path,
        license=sf.license,
        source_start_line=int(rlines[0]),
        source_end_line=int(rlines[-1]),
        first_token=c.q0,
        last_token=c.q1 - 1,
        start_offset=int(stream.start[c.q0]),
        end_offset=int(stream.end[c.q1 - 1]),
        line=int(qlines.min()),
        end_line=int(qlines.max()),
        tokens=int(q_idx.shape[0]),
        distinct=int(distinct),
        chars=chars,
        lines=int(np.unique(qlines).shape[0]),
        similarity=round(similarity, 4),
        consistency=round(consistency, 4),
        kind="verbatim" if similarity >= t.verbatim_similarity else "renamed",
    )
