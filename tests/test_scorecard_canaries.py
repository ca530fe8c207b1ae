"""Canaries: making and reading them, planting them, and exposure on a real model.

The exposure check enumerates a small secret space completely with the tiny model (an exact rank
count, no extrapolation) and compares the estimate from 10,000 random candidates with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from codeaudit.errors import InputError
from codeaudit.scorecard import canaries as C
from codeaudit.scorecard.exposure import exact_exposure, exposure


def test_formats_have_at_least_2_to_the_40_secrets():
    for prefix, alphabet, length, suffix in C.FORMATS.values():
        assert length * math.log2(len(alphabet)) >= C.MIN_SPACE_BITS


def test_make_canaries_plans_counts_controls_and_distinct_prefixes():
    cs = C.make_canaries(3, [1, 4, 16, 64], seed=7)
    assert [c.repeats for c in cs].count(0) == 3
    for r in (1, 4, 16, 64):
        assert {c.format for c in cs if c.repeats == r} == set(C.FORMATS)
    assert len({c.prefix for c in cs}) == len(cs)
    texts = C.training_texts(cs)
    assert len(texts) == 3 * (1 + 4 + 16 + 64)
    for c in cs:
        assert texts.count(c.text) == c.repeats
    assert C.make_canaries(3, [1, 4], seed=7) != C.make_canaries(3, [1, 4], seed=8)


def test_canaries_file_round_trip_and_errors(tmp_path):
    cs = C.make_canaries(1, [1, 2], seed=0)
    f = tmp_path / "canaries.json"
    C.write_canaries(f, cs, seed=0)
    assert C.read_canaries(f) == cs
    doc = json.loads(f.read_text())
    doc["canaries"][1]["secret"] = "NOT-IN-ALPHABET"
    f.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"canaries\[1\]: field 'secret'"):
        C.read_canaries(f)
    f.write_text("{")
    with pytest.raises(InputError, match="malformed JSON"):
        C.read_canaries(f)
    f.write_text(json.dumps({"format": "codeaudit.canaries/1", "canaries": []}))
    with pytest.raises(InputError, match="non-empty list"):
        C.read_canaries(f)


@pytest.mark.parametrize(
    "args,message",
    [(["--canaries", "0"], "at least 1"), (["--canaries", "2", "--repeats", "1,x"], "--repeats")],
)
def test_model_tiny_rejects_bad_canary_options_before_training(run_cli, tmp_path, args, message):
    proc = run_cli("model", "tiny", *args, "-o", str(tmp_path / "m"))
    err = proc.stderr.decode().strip()
    assert proc.returncode == 2 and message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "m").exists()


def test_mix_in_keeps_every_text_and_order_of_the_corpus():
    pytest.importorskip("numpy")
    from codeaudit.generators.tiny import mix_in

    corpus = [f"doc{i}" for i in range(50)]
    extra = [f"canary{i}" for i in range(20)]
    mixed = mix_in(corpus, extra, seed=0)
    assert sorted(mixed) == sorted(corpus + extra)
    assert [t for t in mixed if t.startswith("doc")] == corpus
    assert mixed != corpus + extra  # spread out, not appended


# --------------------------------------------------------------------------- with a real model

torch_needed = pytest.mark.generate


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from codeaudit.generators.base import EngineOptions, load_engine
    from codeaudit.generators.decode import Tokenizer
    from codeaudit.generators.source import resolve_model
    from codeaudit.generators.tiny import tiny_model

    source = resolve_model(str(tiny_model()))
    tok = Tokenizer.load(source)
    return source, tok, load_engine("onnx-int8", source, EngineOptions(threads=1))


@torch_needed
def test_continuation_ids_follow_the_prefix_ids(tiny):
    _, tok, _ = tiny
    for c in C.make_canaries(2, [1, 4], seed=1):
        for secret in [c.secret, *C.candidate_secrets(c, 20, 0)]:
            whole = tok.encode(c.prefix + secret + c.suffix)
            assert whole == tok.encode(c.prefix) + C.continuation_ids(tok, c, secret)


@torch_needed
def test_log_perplexity_matches_a_full_forward_pass_of_the_transformers_model(tiny):
    import torch
    from transformers import AutoModelForCausalLM

    source, tok, _ = tiny
    from codeaudit.generators.base import EngineOptions, load_engine

    engine = load_engine("torch", source, EngineOptions(threads=1))
    c = C.make_canaries(1, [1], seed=2)[0]
    prefix = tok.encode(c.prefix)
    conts = [C.continuation_ids(tok, c, s) for s in [c.secret, *C.candidate_secrets(c, 6, 1)]]
    got = C.log_perplexities(engine, tok, prefix, conts, batch=4)  # two batches, padded
    model = AutoModelForCausalLM.from_pretrained(source.path).eval()
    for cont, value in zip(conts, got):
        ids = torch.tensor([prefix + cont])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
        want = -sum(float(logp[len(prefix) + i - 1, t]) for i, t in enumerate(cont)) / math.log(2)
        assert value == pytest.approx(want, abs=1e-3)


@torch_needed
@pytest.mark.slow
def test_exposure_matches_a_direct_rank_count_on_a_small_space(tiny):
    """Secret space 4^7 = 16,384, scored completely: the exact exposure of a secret at rank r is
    log2(16384 / r). The estimate from 10,000 random candidates must agree to ±0.5 bit for every
    secret ranked inside the sample."""
    _, tok, engine = tiny
    base = C.Canary(
        id="small", format="dna", prefix='probe_seq = "', secret="acgtacg", suffix='"\n',
        alphabet="acgt", length=7, repeats=0,
    )  # fmt: skip
    space = ["".join(p) for p in np.array(np.meshgrid(*[list("acgt")] * 7)).reshape(7, -1).T]
    assert len(set(space)) == 4**7
    prefix = tok.encode(base.prefix)
    scores = C.log_perplexities(
        engine, tok, prefix, [C.continuation_ids(tok, base, s) for s in space]
    )
    table = dict(zip(space, scores))
    order = np.argsort(scores, kind="stable")
    checked = 0
    for rank in (50, 200, 1000, 5000, 12000):
        secret = space[order[rank - 1]]
        canary = replace(base, id=f"r{rank}", secret=secret)
        sample = C.candidate_secrets(canary, 10_000, seed=rank)
        est = exposure(table[secret], [table[s] for s in sample], space_bits=14)
        exact = exact_exposure(table[secret], scores)
        assert est["method"] == "rank"
        assert abs(est["exposure"] - exact) <= 0.5, (rank, est, exact)
        checked += 1
    assert checked == 5
    # End to end through score_canaries for one of them (its own scoring, its own sample).
    secret = space[order[199]]
    card = C.score_canaries(engine, tok, [replace(base, secret=secret)], candidates=10_000)
    (row,) = card["canaries"]
    assert row["method"] == "rank" and row["candidates"] == 10_000
    assert abs(row["exposure"] - exact_exposure(table[secret], scores)) <= 0.5
    assert secret not in json.dumps(card)  # the secret never appears in a scorecard


def test_a_duplicate_canary_id_is_quoted_only_when_id_shaped(tmp_path):
    cs = C.make_canaries(1, [1, 2], seed=0)
    f = tmp_path / "canaries.json"
    C.write_canaries(f, cs, seed=0)
    doc = json.loads(f.read_text())
    for sid, expected in [
        ("dup", "duplicate id 'dup'"),
        ("AKIA" + "Q3EGRWZ7JXK2LM5N", "(not shown)"),
    ]:
        doc["canaries"][0]["id"] = doc["canaries"][1]["id"] = sid
        f.write_text(json.dumps(doc))
        with pytest.raises(InputError) as caught:
            C.read_canaries(f)
        assert expected in str(caught.value) and ("AKIA" not in str(caught.value))
