"""MinHash signatures of token-shingle windows, vectorised, and bit-identical to datasketch's.

A *shingle* is ``k`` consecutive normal-form tokens; its 32-bit hash is :func:`shingle_hash`
(a polynomial over the token codes, folded to 32 bits: much faster than SHA-1 and computed for a
whole file at once with numpy). A *window* is ``w`` consecutive shingles; its signature is the
MinHash of that set of shingles, exactly as ``datasketch.MinHash(num_perm, seed,
hashfunc=shingle_hash)`` computes it with its default ``affine32`` scheme (fmix32 pre-mix, then
``a * h + b mod 2**32``). :func:`window_signatures` computes all windows of a file in one pass
(per-stride block minima, then a minimum over the blocks a window spans), and
``tests/test_corpus_minhash.py`` checks it value for value against datasketch itself.

The signature is cut into ``bands`` bands of ``rows`` values; each band is folded into a 32-bit
*band key*. Two windows are LSH candidates when they share a band key in some band.

>>> import numpy as np
>>> from codeaudit.corpus.params import IndexParams
>>> p = IndexParams()
>>> norm = np.arange(100, dtype=np.uint16) % 7
>>> sig = window_signatures(shingle_hashes(norm, p.shingle), p)
>>> sig.shape == (window_count(100 - p.shingle + 1, p), p.num_perm)
True
"""

from __future__ import annotations

import struct

import numpy as np

from .params import IndexParams

_MASK64 = (1 << 64) - 1
#: Odd multipliers of the shingle and band-key polynomials (fixed forever for an index format).
_SHINGLE_MULT = 0x9E3779B97F4A7C15
_BAND_MULT = 0xC2B2AE3D27D4EB4F


def shingle_hashes(norm: np.ndarray, k: int) -> np.ndarray:
    """32-bit hashes of all ``k``-token shingles of a normal-form stream (``len(norm) - k + 1``)."""
    n = int(norm.shape[0]) - k + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint32)
    v = norm.astype(np.uint64) + np.uint64(1)
    h = v[:n].copy()
    m = np.uint64(_SHINGLE_MULT)
    for j in range(1, k):
        h *= m
        h += v[j : j + n]
    return _fold32(h)


def _fold32(h: np.ndarray) -> np.ndarray:
    return ((h >> np.uint64(32)) ^ h).astype(np.uint32)


def shingle_hash(data: bytes) -> int:
    """The same hash for one shingle given as bytes (``k`` little-endian uint16 token codes).

    This is the ``hashfunc`` to give ``datasketch.MinHash`` for signatures equal to ours:

    >>> import numpy as np
    >>> toks = np.array([5, 9, 1, 1, 300], dtype=np.uint16)
    >>> shingle_hash(toks.tobytes()) == int(shingle_hashes(toks, 5)[0])
    True
    """
    values = struct.unpack(f"<{len(data) // 2}H", data)
    h = values[0] + 1
    for v in values[1:]:
        h = (h * _SHINGLE_MULT + v + 1) & _MASK64
    return ((h >> 32) ^ h) & 0xFFFFFFFF


def shingle_bytes(norm: np.ndarray, k: int) -> list[bytes]:
    """Each shingle as the bytes :func:`shingle_hash` takes (for datasketch; slow, tests only)."""
    raw = norm.astype("<u2")
    return [raw[i : i + k].tobytes() for i in range(int(norm.shape[0]) - k + 1)]


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``.

    Drawn from ``numpy.random.RandomState(seed)`` in datasketch's order, so signatures agree with
    ``datasketch.MinHash(num_perm=num_perm, seed=seed)`` (checked by the tests).
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def permuted(hashes: np.ndarray, perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``(n, num_perm)`` permuted values of ``n`` shingle hashes (datasketch's ``phv``)."""
    a, b = perms
    h = _fmix32(hashes.astype(np.uint32, copy=False))[:, None]
    out = h * a
    out += b
    return out


def window_count(n_shingles: int, p: IndexParams) -> int:
    """Windows of a file with ``n_shingles`` shingles: one every ``stride`` shingles, the last one
    ending at the file's end; a file shorter than a window is one window; no shingle, no window."""
    if n_shingles <= 0:
        return 0
    blocks = -(-n_shingles // p.stride)
    return max(1, blocks - p.window // p.stride + 1)


def window_signatures(
    hashes: np.ndarray, p: IndexParams, perms: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """MinHash signatures ``(windows, num_perm)`` of a file's corpus windows.

    Window ``j`` is the set of shingles ``j*stride … j*stride + window - 1`` (clipped to the file).
    """
    n = int(hashes.shape[0])
    count = window_count(n, p)
    if count == 0:
        return np.empty((0, p.num_perm), dtype=np.uint32)
    phv = permuted(hashes, perms or permutations(p.num_perm, p.seed))
    blocks = np.minimum.reduceat(phv, np.arange(0, n, p.stride), axis=0)
    per = p.window // p.stride
    if blocks.shape[0] < per:
        return blocks.min(axis=0, keepdims=True)
    out = blocks[:count].copy()
    for j in range(1, per):
        np.minimum(out, blocks[j : j + count], out=out)
    return out


def sliding_signatures(
    hashes: np.ndarray, p: IndexParams, perms: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Signatures of the windows starting at *every* shingle of a query (``window`` wide).

    A query window that starts where a corpus window starts has the same shingle set, so a copy
    at least one window and one stride long always meets a corpus window with similarity 1.
    """
    n = int(hashes.shape[0])
    if n == 0:
        return np.empty((0, p.num_perm), dtype=np.uint32)
    phv = permuted(hashes, perms or permutations(p.num_perm, p.seed))
    if n <= p.window:
        return phv.min(axis=0, keepdims=True)
    # Doubling: while out[i] = min(phv[i : i + width]), two overlapping halves double the width.
    out, width = phv, 1
    while width * 2 <= p.window:
        out = np.minimum(out[:-width], out[width:])
        width *= 2
    if width < p.window:
        rest = p.window - width
        out = np.minimum(out[:-rest], out[rest:])
    return out


def query_signatures(
    hashes: np.ndarray,
    p: IndexParams,
    step: int,
    perms: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and signatures of the query windows every ``step`` shingles, the last
    window included: :func:`sliding_signatures` at those positions, computed from blocks of
    ``step`` shingles when ``step`` divides the window (no signature of a skipped window).
    """
    n = int(hashes.shape[0])
    if step <= 2 or p.window % step or n <= p.window:  # short queries: slide over all
        sig = sliding_signatures(hashes, p, perms)
        pos = np.arange(0, sig.shape[0], max(step, 1))
        if sig.shape[0] and pos[-1] != sig.shape[0] - 1:
            pos = np.append(pos, sig.shape[0] - 1)
        return pos, sig[pos]
    phv = permuted(hashes, perms or permutations(p.num_perm, p.seed))
    count = n - p.window + 1  # sliding windows
    pos = np.arange(0, count, step)
    blocks = np.minimum.reduceat(phv, np.arange(0, n, step), axis=0)
    out = blocks[: pos.shape[0]].copy()
    for j in range(1, p.window // step):
        np.minimum(out, blocks[j : j + pos.shape[0]], out=out)
    if pos[-1] != count - 1:
        pos = np.append(pos, count - 1)
        out = np.concatenate([out, phv[count - 1 :].min(axis=0, keepdims=True)])
    return pos, out


def band_keys(signatures: np.ndarray, p: IndexParams) -> np.ndarray:
    """``(windows, bands)`` 32-bit keys: each band's ``rows`` values folded into one number."""
    if signatures.shape[0] == 0:
        return np.empty((0, p.bands), dtype=np.uint32)
    s = (
        signatures[:, : p.bands * p.rows]
        .reshape(signatures.shape[0], p.bands, p.rows)
        .astype(np.uint64)
    )
    h = s[:, :, 0] + np.uint64(p.seed)
    m = np.uint64(_BAND_MULT)
    for r in range(1, p.rows):
        h = h * m + s[:, :, r]
    return _fold32(h * m)
