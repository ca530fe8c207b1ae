"""Engines on the tiny trained CodeGen model: fidelity between engines, batching, seeds, caching.

The tiny model is built once per recipe into the user cache (about half a minute on a fresh
machine); ONNX exports of it are cached beside it.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("optimum")

from codeaudit.generators.base import EngineOptions, load_engine
from codeaudit.generators.decode import (
    GenerationParams,
    Tokenizer,
    encode_prompts,
    generate,
    teacher_forced_agreement,
)
from codeaudit.generators.prompts import humaneval_prompts
from codeaudit.generators.source import resolve_model
from codeaudit.generators.tiny import tiny_model

NEW_TOKENS = 48


@pytest.fixture(scope="session")
def tiny():
    return resolve_model(str(tiny_model()))


@pytest.fixture(scope="session")
def tokenizer(tiny):
    return Tokenizer.load(tiny)


@pytest.fixture(scope="session")
def prompt_ids(tiny, tokenizer):
    """The first 24 HumanEval prompts: real prompts, of many lengths."""
    texts = [p.text for p in humaneval_prompts()[:24]]
    return encode_prompts(tokenizer, texts, context_length=tiny.context_length)


@pytest.fixture(scope="session")
def engines(tiny):
    opts = EngineOptions(threads=1)
    loaded = {
        name: load_engine(name, tiny, opts) for name in ("torch", "torch-int8", "onnx", "onnx-int8")
    }
    optimum = EngineOptions(threads=1, graph="optimum")
    loaded["onnx/optimum"] = load_engine("onnx", tiny, optimum)
    loaded["onnx-int8/optimum"] = load_engine("onnx-int8", tiny, optimum)
    return loaded


def _greedy(engine, tokenizer, ids, batch_size=6):
    return [
        g.token_ids
        for g in generate(
            engine,
            tokenizer,
            ids,
            GenerationParams(max_new_tokens=NEW_TOKENS, batch_size=batch_size),
        )
    ]


def test_engines_report_what_they_are(engines):
    assert engines["onnx"].info.details["graph"] == "codegen"
    assert engines["onnx/optimum"].info.details["graph"] == "optimum"
    assert (
        engines["onnx-int8"].info.precision == "int8" and engines["torch"].info.precision == "fp32"
    )
    q = engines["onnx-int8"].info.details["quantization"]
    assert q["per_channel"] and q["isa"] in ("avx512_vnni", "avx512", "avx2", "arm64")
    # INT8 weights are about a quarter of the float32 ones.
    ratio = (
        engines["onnx-int8"].info.weight_bytes_per_token
        / engines["onnx"].info.weight_bytes_per_token
    )
    assert 0.2 < ratio < 0.4


@pytest.mark.parametrize("onnx_engine", ["onnx", "onnx/optimum"])
def test_onnx_fp32_greedy_output_is_identical_to_torch(engines, tokenizer, prompt_ids, onnx_engine):
    reference = _greedy(engines["torch"], tokenizer, prompt_ids)
    assert _greedy(engines[onnx_engine], tokenizer, prompt_ids) == reference
    assert (
        sum(len(r) for r in reference) >= len(prompt_ids) * NEW_TOKENS // 2
    )  # real output, not empty


@pytest.mark.parametrize(
    "reference, candidate",
    [("onnx", "onnx-int8"), ("onnx/optimum", "onnx-int8/optimum"), ("torch", "torch-int8")],
)
def test_int8_greedy_tokens_agree_with_fp32(engines, prompt_ids, reference, candidate):
    """Teacher-forced agreement (see decode.teacher_forced_agreement): >= 90 % of tokens."""
    result = teacher_forced_agreement(
        engines[reference], engines[candidate], prompt_ids, NEW_TOKENS
    )
    assert result["tokens"] == len(prompt_ids) * NEW_TOKENS
    assert result["agreement"] >= 0.90, result


@pytest.mark.parametrize("name", ["torch", "onnx", "onnx/optimum"])
def test_batching_and_padding_do_not_change_greedy_output(engines, tokenizer, prompt_ids, name):
    """Prompts of different lengths share a batch (left or right padded) with identical results."""
    ids = prompt_ids[:8]
    assert _greedy(engines[name], tokenizer, ids, batch_size=8) == _greedy(
        engines[name], tokenizer, ids, batch_size=1
    )


def test_sampling_is_reproducible_and_independent_of_batching(engines, tokenizer, prompt_ids):
    engine = engines["onnx"]
    ids = prompt_ids[:4]

    def sample(seed, batch_size):
        params = GenerationParams(
            n=3, temperature=0.8, top_p=0.95, seed=seed, max_new_tokens=24, batch_size=batch_size
        )
        return [
            (g.prompt_index, g.sample_index, g.token_ids)
            for g in generate(engine, tokenizer, ids, params)
        ]

    first = sample(5, 4)
    assert first == sample(5, 4)
    assert first == sample(5, 12)
    assert first != sample(6, 4)
    # Samples of one prompt differ from each other.
    assert len({t for p, _, t in first if p == 0}) > 1


def test_stop_sequences_end_generation_and_raw_output_is_kept(engines, tokenizer, prompt_ids):
    params = GenerationParams(max_new_tokens=NEW_TOKENS, stop=("\n",), batch_size=4)
    free = generate(
        engines["onnx"],
        tokenizer,
        prompt_ids[:6],
        GenerationParams(max_new_tokens=NEW_TOKENS, batch_size=4),
    )
    stopped = generate(engines["onnx"], tokenizer, prompt_ids[:6], params)
    for a, b in zip(free, stopped):
        if b.stop_reason == "stop":
            assert "\n" in b.text and a.token_ids[: len(b.token_ids)] == b.token_ids
        else:
            assert b.token_ids == a.token_ids
    assert any(g.stop_reason == "stop" for g in stopped)


def test_generation_stops_at_the_context_window(tiny, tokenizer, engines):
    """A prompt close to the window generates until the window is full, and says so."""
    text = "x = 1\n" * 400
    ids = tokenizer.encode(text)[: tiny.context_length - 5]
    out = generate(engines["onnx-int8"], tokenizer, [ids], GenerationParams(max_new_tokens=40))
    assert out[0].stop_reason in ("context", "eos") and len(out[0].token_ids) <= 5


def test_onnx_exports_are_cached_once(tiny, tmp_path):
    from codeaudit.generators.onnx_export import onnx_model
    from codeaudit.generators.quantize import quantization_for_cpu

    q = quantization_for_cpu()
    messages = []
    path, manifest = onnx_model(
        tiny, graph="optimum", quantization=q, cache_dir=tmp_path, status=messages.append
    )
    assert any("Optimum" in m for m in messages) and any("quantising" in m for m in messages)
    stamp = path.stat().st_mtime_ns
    messages.clear()
    again, manifest2 = onnx_model(
        tiny, graph="optimum", quantization=q, cache_dir=tmp_path, status=messages.append
    )
    assert (
        again == path
        and path.stat().st_mtime_ns == stamp
        and messages == []
        and manifest2 == manifest
    )
    # The float32 export it started from is cached too; no half-built folders are left.
    folders = sorted(p.name for p in path.parent.parent.iterdir() if p.is_dir())
    assert len(folders) == 2 and all(not f.startswith(".") for f in folders)
    assert json.loads((path.parent / "codeaudit-onnx.json").read_text())["precision"] == "int8"


def test_pytorch_bin_checkpoints_stream_too(tiny, tokenizer, prompt_ids, engines, tmp_path):
    """A sharded PyTorch .bin checkpoint builds the same fused graph as the safetensors one."""
    import shutil

    from transformers import AutoModelForCausalLM

    from codeaudit.generators.source import Checkpoint

    folder = tmp_path / "bin-model"
    AutoModelForCausalLM.from_pretrained(tiny.path).save_pretrained(
        folder, safe_serialization=False, max_shard_size="300KB"
    )
    for f in tiny.path.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens")):
            shutil.copy(f, folder / f.name)
    source = resolve_model(str(folder))
    assert len(source.weight_files()) > 1 and all(f.suffix == ".bin" for f in source.weight_files())
    assert set(Checkpoint(source).names()) >= {"lm_head.weight", "transformer.h.1.mlp.fc_in.bias"}
    engine = load_engine("onnx", source, EngineOptions(threads=1, cache_dir=tmp_path / "cache"))
    assert engine.info.details["graph"] == "codegen"
    assert _greedy(engine, tokenizer, prompt_ids[:6]) == _greedy(
        engines["onnx"], tokenizer, prompt_ids[:6]
    )


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_other_causal_lms_go_through_optimum(arch, tiny, tokenizer, prompt_ids, tmp_path):
    """Not only CodeGen: small random GPT-2 and Llama models (built here) export with Optimum and
    give the same greedy tokens in ONNX float32 as in PyTorch; their INT8 graph runs."""
    import shutil

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    vocab = tokenizer.vocab_size
    if arch == "gpt2":
        config = AutoConfig.for_model(
            "gpt2", vocab_size=vocab, n_positions=256, n_embd=64, n_layer=2, n_head=4
        )
    else:
        config = AutoConfig.for_model(
            "llama",
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=256,
        )
    folder = tmp_path / arch
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    for f in tiny.path.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens")):
            shutil.copy(f, folder / f.name)
    source = resolve_model(str(folder))
    opts = EngineOptions(threads=1, cache_dir=tmp_path / "cache")
    ids = [p[-40:] for p in prompt_ids[:6]]
    reference = _greedy(load_engine("torch", source, opts), tokenizer, ids)
    onnx_engine = load_engine("onnx", source, opts)
    assert onnx_engine.info.details["graph"] == "optimum"
    assert _greedy(onnx_engine, tokenizer, ids) == reference
    int8 = _greedy(load_engine("onnx-int8", source, opts), tokenizer, ids)
    assert all(len(t) > 0 for t in int8)


def test_optimum_int8_graph_quantises_every_weight_matmul(engines):
    """Each MatMul with a constant weight became DynamicQuantizeMatMul; activation x activation
    products (attention) and the embedding lookup stayed float32; biases were folded in."""
    import onnx

    fp32 = onnx.load(engines["onnx/optimum"].info.details["onnx_path"], load_external_data=False)
    int8 = onnx.load(
        engines["onnx-int8/optimum"].info.details["onnx_path"], load_external_data=False
    )
    inits = {t.name for t in fp32.graph.initializer}
    weight_matmuls = [n for n in fp32.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    other_matmuls = [
        n for n in fp32.graph.node if n.op_type == "MatMul" and n.input[1] not in inits
    ]
    q_nodes = [n for n in int8.graph.node if n.op_type == "DynamicQuantizeMatMul"]
    assert len(q_nodes) == len(weight_matmuls) > 0
    assert len([n for n in int8.graph.node if n.op_type == "MatMul"]) == len(other_matmuls) > 0
    assert sum(len(n.input) == 5 for n in q_nodes) > 0  # a fused bias
    assert any(n.op_type == "Gather" for n in int8.graph.node)


# ----------------------------------------------------------------------------- decode_rows


def _rows(prompt_ids):
    """Rows of different lengths, each with its own settings: greedy and sampled, stops, budgets."""
    from codeaudit.generators import Row

    settings = [
        {"max_new_tokens": 30},
        {"max_new_tokens": 12, "temperature": 0.9, "top_p": 0.9, "seed": 11},
        {"max_new_tokens": 40, "temperature": 0.6, "seed": 12, "stop": ("\n\n",)},
        {"max_new_tokens": 25, "stop": ("\n",)},
        {"max_new_tokens": 35, "temperature": 1.3, "top_p": 0.5, "seed": 13},
        {"max_new_tokens": 5},
    ]
    picks = [0, 5, 9, 14, 3, 21]  # prompts of many lengths
    return [Row(prompt_ids=tuple(prompt_ids[p]), **s) for p, s in zip(picks, settings)]


@pytest.mark.parametrize("name", ["torch", "onnx", "onnx/optimum"])
def test_rows_decode_as_one_batch_as_each_would_alone(engines, tokenizer, prompt_ids, name):
    from codeaudit.generators import decode_rows

    rows = _rows(prompt_ids)
    together = decode_rows(engines[name], tokenizer, rows)
    alone = [decode_rows(engines[name], tokenizer, [row])[0] for row in rows]
    assert [(g.token_ids, g.stop_reason) for g in together] == [
        (g.token_ids, g.stop_reason) for g in alone
    ]
    assert {g.stop_reason for g in together} >= {"length", "stop"}
    assert len(together[5].token_ids) <= 5 and together[0].batch_size == len(rows)
    # A different seed changes a sampled row, and only that row.
    from dataclasses import replace

    reseeded = decode_rows(engines[name], tokenizer, [replace(rows[4], seed=99), *rows[:4]])
    assert reseeded[0].token_ids != together[4].token_ids
    assert [g.token_ids for g in reseeded[1:]] == [g.token_ids for g in together[:4]]


class _Spy:
    """A real engine, wrapped to record the batch size of every step (not a mock: it delegates)."""

    def __init__(self, engine):
        self.engine, self.info, self.sizes = engine, engine.info, []

    def start(self, prompts, max_new_tokens):
        self.sizes.append(len(prompts))
        return self.engine.start(prompts, max_new_tokens)

    def step(self, tokens):
        self.sizes.append(len(tokens))
        return self.engine.step(tokens)

    def keep(self, rows):
        return self.engine.keep(rows)


@pytest.mark.parametrize("name", ["torch", "onnx", "onnx/optimum"])
def test_deltas_stream_and_cancelled_or_ended_rows_leave_the_batch(
    engines, tokenizer, prompt_ids, name
):
    from codeaudit.generators import decode_rows

    rows = _rows(prompt_ids)
    plain = decode_rows(engines[name], tokenizer, rows)
    spy = _Spy(engines[name])
    deltas: dict[int, list[str]] = {}

    def on_delta(i, text):
        deltas.setdefault(i, []).append(text)
        return not (i == 0 and len(deltas[0]) == 3)  # cancel row 0 after its third delta

    streamed = decode_rows(spy, tokenizer, rows, on_delta=on_delta)
    assert streamed[0].stop_reason == "cancel" and len(deltas[0]) == 3
    assert "".join(deltas[0]) == streamed[0].text and plain[0].text.startswith(streamed[0].text)
    for i in range(1, len(rows)):
        assert all(deltas[i]) and "".join(deltas[i]) == streamed[i].text == plain[i].text
        assert streamed[i].token_ids == plain[i].token_ids
    # The batch shrinks as rows end: the last steps decode only the longest-running row.
    assert spy.sizes[0] == len(rows) and spy.sizes[-1] == 1
    assert spy.sizes == sorted(spy.sizes, reverse=True)


# ----------------------------------------------------------------------------- onnx-int4, CTranslate2


@pytest.fixture(scope="session")
def he40(tiny, tokenizer):
    """The first 40 HumanEval prompts: the fidelity set of docs/generation.md."""
    texts = [p.text for p in humaneval_prompts()[:40]]
    return encode_prompts(tokenizer, texts, context_length=tiny.context_length)


def test_int4_greedy_tokens_agree_with_fp32(tiny, engines, he40):
    """onnx-int4 (4-bit MatMulNBits layers, INT8 head): >= 97 % teacher-forced agreement with
    float32 on 40 HumanEval prompts x 64 tokens, at the settings the engine uses at any size."""
    int4 = load_engine("onnx-int4", tiny, EngineOptions(threads=1))
    q = int4.info.details["quantization"]
    assert int4.info.precision == "int4" and q["kernel"] == "MatMulNBits"
    assert q["block_size"] == 32 and q["head_int8"]
    ratio = int4.info.weight_bytes_per_token / engines["onnx-int8"].info.weight_bytes_per_token
    assert ratio < 0.8  # fewer bytes per token than INT8
    result = teacher_forced_agreement(engines["onnx"], int4, he40, 64)
    assert result["tokens"] == 40 * 64 and result["agreement"] >= 0.97, result


@pytest.fixture(scope="session")
def ct2(tiny):
    pytest.importorskip("ctranslate2")
    opts = EngineOptions(threads=1)
    return {n: load_engine(n, tiny, opts) for n in ("ctranslate2", "ctranslate2-int8")}


def test_ctranslate2_fp32_greedy_output_is_identical_to_torch(engines, ct2, tokenizer, he40):
    params = GenerationParams(max_new_tokens=64, batch_size=8)
    reference = generate(engines["torch"], tokenizer, he40, params)
    assert [g.token_ids for g in generate(ct2["ctranslate2"], tokenizer, he40, params)] == [
        g.token_ids for g in reference
    ]
    assert ct2["ctranslate2"].info.precision == "float32"
    assert ct2["ctranslate2-int8"].info.precision == "int8"
    # Its start/step path (no cache, for teacher forcing) gives the same logits' choices.
    forced = teacher_forced_agreement(engines["torch"], ct2["ctranslate2"], he40[:6], 16)
    assert forced["agreement"] == 1.0
    int8 = teacher_forced_agreement(engines["torch"], ct2["ctranslate2-int8"], he40[:10], 32)
    assert int8["agreement"] >= 0.9, int8


def test_ctranslate2_rows_contract(ct2, tokenizer, prompt_ids):
    """Same Row contract: greedy rows as alone, seeded samples reproducible and independent of
    their neighbours, stops, budgets, deltas and cancelling."""
    from codeaudit.generators import decode_rows

    engine = ct2["ctranslate2"]
    rows = _rows(prompt_ids)
    together = decode_rows(engine, tokenizer, rows)
    alone = [decode_rows(engine, tokenizer, [row])[0] for row in rows]
    assert [g.token_ids for g in together] == [g.token_ids for g in alone]
    assert {g.stop_reason for g in together} >= {"length", "stop"}
    assert all(len(g.token_ids) <= r.max_new_tokens for g, r in zip(together, rows))
    from dataclasses import replace

    reseeded = decode_rows(engine, tokenizer, [replace(rows[4], seed=99)])[0]
    assert reseeded.token_ids != together[4].token_ids
    deltas: dict[int, list[str]] = {}

    def on_delta(i, text):
        deltas.setdefault(i, []).append(text)
        return not (i == 0 and len(deltas[0]) == 2)

    streamed = decode_rows(engine, tokenizer, rows, on_delta=on_delta)
    assert streamed[0].stop_reason == "cancel" and len(deltas[0]) == 2
    for i in range(1, len(rows)):
        assert "".join(deltas[i]) == streamed[i].text == together[i].text
