"""Our vectorised MinHash equals datasketch's, value for value."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from codeaudit.corpus import minhash as mh
from codeaudit.corpus.params import IndexParams
from codeaudit.corpus.tokens import tokenize


@pytest.fixture(scope="module")
def stream():
    import json.decoder

    return tokenize(open(json.decoder.__file__, encoding="utf-8").read(), "python")


def _datasketch(shingles: list[bytes], p: IndexParams) -> np.ndarray:
    m = MinHash(num_perm=p.num_perm, seed=p.seed, hashfunc=mh.shingle_hash)
    m.update_batch(shingles)
    return m.hashvalues


def test_permutations_are_datasketchs():
    for num_perm, seed in ((32, 1), (64, 7)):
        a, b = mh.permutations(num_perm, seed)
        ref = MinHash(num_perm=num_perm, seed=seed).permutations
        assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])


def test_shingle_hash_matches_its_vectorised_form(stream):
    p = IndexParams()
    hashes = mh.shingle_hashes(stream.norm, p.shingle)
    shingles = mh.shingle_bytes(stream.norm, p.shingle)
    assert len(shingles) == hashes.shape[0] == len(stream) - p.shingle + 1
    assert [mh.shingle_hash(b) for b in shingles] == hashes.tolist()


@pytest.mark.parametrize(
    "params", [IndexParams(), IndexParams(window=8, stride=4, num_perm=16, bands=4, rows=4, seed=3)]
)
def test_corpus_and_query_windows_equal_datasketch(stream, params):
    norm = stream.norm[:700]
    hashes = mh.shingle_hashes(norm, params.shingle)
    shingles = mh.shingle_bytes(norm, params.shingle)
    sig = mh.window_signatures(hashes, params)
    assert sig.shape[0] == mh.window_count(hashes.shape[0], params)
    for j in range(sig.shape[0]):
        start = j * params.stride
        assert np.array_equal(
            sig[j], _datasketch(shingles[start : start + params.window], params)
        ), j
    assert (
        sig.shape[0] * params.stride >= hashes.shape[0] - params.window
    )  # the whole file is covered
    sliding = mh.sliding_signatures(hashes, params)
    assert sliding.shape[0] == hashes.shape[0] - params.window + 1
    for j in range(0, sliding.shape[0], 37):
        assert np.array_equal(sliding[j], _datasketch(shingles[j : j + params.window], params)), j


def test_short_inputs():
    p = IndexParams()
    few = np.array([5, 6, 7, 8, 9, 10, 11], dtype=np.uint16)
    h = mh.shingle_hashes(few, p.shingle)
    assert mh.window_count(h.shape[0], p) == 1
    assert np.array_equal(
        mh.window_signatures(h, p)[0], _datasketch(mh.shingle_bytes(few, p.shingle), p)
    )
    assert mh.window_signatures(mh.shingle_hashes(few[:3], p.shingle), p).shape == (0, p.num_perm)
    keys = mh.band_keys(mh.window_signatures(h, p), p)
    assert keys.shape == (1, p.bands) and keys.dtype == np.uint32


def test_params_are_checked():
    with pytest.raises(ValueError, match="bands"):
        IndexParams(num_perm=30)
    with pytest.raises(ValueError, match="multiple of stride"):
        IndexParams(window=12, stride=8)


def test_an_index_stores_datasketchs_permutations(tmp_path):
    import sysconfig
    from pathlib import Path

    from codeaudit.corpus.build import build_index
    from codeaudit.corpus.index import CorpusIndex
    from codeaudit.corpus.sources import FolderSource

    build_index(
        [FolderSource(str(Path(sysconfig.get_paths()["stdlib"]) / "json"))], tmp_path / "j.idx"
    )
    index = CorpusIndex.open(tmp_path / "j.idx")
    a, b = index.perms()
    ref = MinHash(num_perm=index.params.num_perm, seed=index.params.seed).permutations
    assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])
