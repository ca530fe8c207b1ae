"""Generation layer, the parts that need no model: quantisation, sampling, stops, prompts, shapes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeaudit.errors import InputError, UsageError
from codeaudit.generators.decode import GenerationParams
from codeaudit.generators.postprocess import HUMANEVAL_STOPS, truncate_at_stops
from codeaudit.generators.prompts import humaneval_prompts, read_prompts
from codeaudit.generators.sampling import _nucleus, choose, sequence_rng

# ----------------------------------------------------------------------------- quantisation


@pytest.mark.parametrize("isa", ["avx512_vnni", "avx512", "avx2", "arm64"])
def test_weight_quantisation_equals_onnxruntime_reference(isa):
    """Our vectorised per-channel quantiser gives bit-identical weights, scales and zero points to
    onnxruntime's own quantize_data applied column by column, for Optimum's preset of each ISA."""
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto
    from onnxruntime.quantization.quant_utils import quantize_data

    from codeaudit.generators.quantize import quantization_for_cpu, quantize_weight

    spec = quantization_for_cpu(isa)
    rng = np.random.default_rng(3)
    w = rng.standard_normal((96, 50)).astype(np.float32) * rng.uniform(0.01, 3, size=50).astype(
        np.float32
    )
    w[:, 0] = 0.0  # an all-zero column (scale falls back to 1)
    w[:, 1] = 0.25  # a constant, positive column
    w[:, 2] = np.abs(w[:, 2])  # one-signed
    q, scale, zp = quantize_weight(w, spec)
    qtype = TensorProto.INT8 if spec.weights_dtype == "int8" else TensorProto.UINT8
    for c in range(w.shape[1]):
        ref_zp, ref_scale, ref_q = quantize_data(
            w[:, c].copy(), qtype, spec.symmetric, spec.reduce_range
        )
        assert np.array_equal(ref_q, q[:, c]), c
        assert ref_scale == scale[c] and ref_zp == zp[c], c
    dequantised = (q.astype(np.float32) - zp.astype(np.float32)) * scale
    assert np.abs(dequantised - w).max() <= scale.max() / 2 + 1e-6


def test_instruction_set_is_chosen_from_cpu_flags():
    from codeaudit.generators.quantize import cpu_isa

    assert cpu_isa({"avx2", "avx512f", "avx512bw", "avx512_vnni"}) == "avx512_vnni"
    assert cpu_isa({"avx2", "avx512f", "avx512bw"}) == "avx512"
    assert cpu_isa({"avx2", "fma"}) == "avx2"


# ----------------------------------------------------------------------------- sampling


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    size=st.integers(2, 3000),
    top_p=st.floats(0.05, 0.999),
    sharpness=st.floats(0.1, 8.0),
)
def test_nucleus_equals_full_sort(seed, size, top_p, sharpness):
    """The partition-based nucleus is exactly the prefix a full sort gives."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(size) * sharpness
    p = np.exp(logits - logits.max())
    p /= p.sum()
    order = np.lexsort((np.arange(size), -p))
    cumulative = np.cumsum(p[order])
    cut = int(np.searchsorted(cumulative, top_p, side="left")) + 1
    assert _nucleus(p, top_p).tolist() == order[: min(cut, size)].tolist()


def test_greedy_is_argmax_and_sampling_is_seeded():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 500)).astype(np.float32)
    assert (
        choose(logits, temperature=0.0, top_p=1.0, rngs=[None] * 3).tolist()
        == logits.argmax(-1).tolist()
    )

    def draw(seed):
        rngs = [sequence_rng(seed=seed, prompt_index=i, sample_index=0) for i in range(3)]
        return [choose(logits, temperature=1.0, top_p=0.9, rngs=rngs).tolist() for _ in range(20)]

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)


def test_sampling_follows_the_distribution():
    """With temperature 1 and no nucleus cut, draw frequencies match softmax(logits)."""
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], dtype=np.float32))
    rng = sequence_rng(seed=11, prompt_index=0, sample_index=0)
    draws = [int(choose(logits, temperature=1.0, top_p=1.0, rngs=[rng])[0]) for _ in range(20000)]
    freq = np.bincount(draws, minlength=4) / len(draws)
    assert np.allclose(freq, [0.5, 0.3, 0.15, 0.05], atol=0.015)
    # A nucleus of 0.6 keeps {0, 1} only.
    rng = sequence_rng(seed=11, prompt_index=0, sample_index=0)
    assert {
        int(choose(logits, temperature=1.0, top_p=0.6, rngs=[rng])[0]) for _ in range(2000)
    } == {0, 1}


def test_generation_params_are_checked():
    with pytest.raises(UsageError, match="--top-p"):
        GenerationParams(top_p=0.0)
    with pytest.raises(UsageError, match="--temperature"):
        GenerationParams(temperature=-1)
    with pytest.raises(UsageError, match="greedy"):
        GenerationParams(n=3, temperature=0.0)
    with pytest.raises(UsageError, match="--max-new-tokens"):
        GenerationParams(max_new_tokens=0)


# ----------------------------------------------------------------------------- post-processing


def test_humaneval_stops_cut_at_the_next_top_level_statement():
    raw = "    return sorted(set(l))\n\n\ndef check(candidate):\n    pass\n"
    assert truncate_at_stops(raw, HUMANEVAL_STOPS) == "    return sorted(set(l))\n\n"
    assert truncate_at_stops("    x = 1\n# done\n", HUMANEVAL_STOPS) == "    x = 1"
    assert (
        truncate_at_stops("    if x:\n        y()\nif __name__", HUMANEVAL_STOPS)
        == "    if x:\n        y()"
    )
    assert truncate_at_stops("    return 1\n", HUMANEVAL_STOPS) == "    return 1\n"
    # Indented statements are part of the completion, not stops.
    assert truncate_at_stops(
        "    def inner():\n        pass\n    print(1)\n", HUMANEVAL_STOPS
    ).endswith("print(1)\n")


# ----------------------------------------------------------------------------- prompts


def _write(tmp_path, text, name="p.jsonl"):
    f = tmp_path / name
    f.write_text(text)
    return f


def test_prompt_file_fields_are_carried(tmp_path):
    f = _write(
        tmp_path,
        json.dumps(
            {"id": 7, "prompt": "def f():\n", "language": "python", "task_id": 3, "meta": {"k": 1}}
        )
        + "\n\n"
        + json.dumps({"prompt": "x = "})
        + "\n",
    )
    a, b = read_prompts(f)
    assert (a.id, a.language, a.task_id, a.meta) == ("7", "python", "3", {"k": 1})
    assert b.id == "line-3"


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "no prompts"),
        ("\n  \n", "no prompts"),
        ('{"prompt": "a"}\n{"prompt": \n', r"p.jsonl:2: malformed JSON"),
        ('{"id": "x"}\n', r"p.jsonl:1: field 'prompt': missing"),
        ('{"prompt": "   "}\n', r"p.jsonl:1: field 'prompt': is empty"),
        ('{"prompt": 3}\n', "must be a string"),
        ("[1, 2]\n", "expected a JSON object"),
        (
            '{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n',
            "duplicate id 'a' \\(first on line 1\\)",
        ),
        ('{"prompt": "x", "tests": 5}\n', "field 'tests'"),
        (  # a secret-shaped id is not echoed (issue 16)
            '{"id": "ghp_a1B2c3D4e5F6g7H8i9J0k1", "prompt": "x"}\n'
            '{"id": "ghp_a1B2c3D4e5F6g7H8i9J0k1", "prompt": "y"}\n',
            r"field 'id': duplicate id \(not shown: [^;]*\(first on line 1\)$",
        ),
    ],
)
def test_bad_prompt_files_fail_with_the_line(tmp_path, content, message):
    f = _write(tmp_path, content)
    with pytest.raises(InputError, match=message):
        read_prompts(f)


def test_invalid_utf8_and_missing_file(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_bytes(b'{"prompt": "\xff"}\n')
    with pytest.raises(InputError, match="p.jsonl:1: invalid UTF-8"):
        read_prompts(f)
    with pytest.raises(InputError, match="no such file"):
        read_prompts(tmp_path / "missing.jsonl")


def test_humaneval_prompts_come_from_the_installed_package():
    problems = humaneval_prompts()
    assert len(problems) == 164
    assert problems[0].task_id == "HumanEval/0" and problems[0].entry_point == "has_close_elements"
    assert all(
        p.tests and "def check(candidate)" in p.tests and p.language == "python" for p in problems
    )


# ----------------------------------------------------------------------------- model shapes


def test_random_shapes_are_transformers_codegen_shapes():
    """Our tensor list matches the state dict transformers builds for the published configs."""
    torch = pytest.importorskip("torch")
    from transformers import CodeGenConfig, CodeGenForCausalLM

    from codeaudit.generators.random_model import SHAPES, config, parameter_count, tensors

    for size in SHAPES:
        cfg = config(size, eos_token_id=0)
        with torch.device("meta"):
            model = CodeGenForCausalLM(
                CodeGenConfig(
                    **{k: v for k, v in cfg.items() if k not in ("architectures", "model_type")}
                )
            )
        state = {
            k: tuple(v.shape)
            for k, v in model.state_dict().items()
            if not k.endswith((".masked_bias", ".attn.bias"))
        }
        assert state == dict(tensors(size)), size
        assert parameter_count(size) == sum(
            v.numel() for k, v in model.state_dict().items() if k in state
        )


def test_random_weights_stream_into_a_loadable_safetensors_file(tmp_path):
    pytest.importorskip("torch")
    from safetensors.numpy import load_file

    from codeaudit.generators import random_model

    shape = {"n_layer": 2, "n_embd": 64, "n_head": 4, "rotary_dim": 16}
    path = tmp_path / "model.safetensors"
    old = random_model.BLOCK_ELEMENTS
    random_model.BLOCK_ELEMENTS = 4096  # force many row blocks per tensor
    try:
        size = random_model.write_weights(path, shape, seed=5)
    finally:
        random_model.BLOCK_ELEMENTS = old
    assert size == path.stat().st_size
    weights = load_file(path)
    assert {k: v.shape for k, v in weights.items()} == dict(random_model.tensors(shape))
    wte = weights["transformer.wte.weight"]
    assert abs(float(wte.std()) - 0.02) < 0.001 and abs(float(wte.mean())) < 0.001
    assert np.all(weights["transformer.h.1.ln_1.weight"] == 1) and np.all(
        weights["lm_head.bias"] == 0
    )


def test_codegen_qkv_permutation_matches_transformers_split():
    """Permuting qkv_proj's rows gives [Q|K|V] with heads in the order CodeGen's attention uses."""
    torch = pytest.importorskip("torch")
    from transformers import CodeGenConfig
    from transformers.models.codegen.modeling_codegen import CodeGenAttention

    from codeaudit.generators.codegen_graph import qkv_permutation

    cfg = CodeGenConfig(n_embd=64, n_head=8, rotary_dim=4, n_positions=16)
    attn = CodeGenAttention(cfg, layer_idx=0)
    x = torch.randn(1, 1, 64)
    qkv = attn.qkv_proj(x)
    split = qkv.reshape(qkv.shape[:-1] + (4, -1))
    query, value, key = torch.split(split, 64 // 4, dim=-1)
    heads = [attn._split_heads(t, 8, 8, mp_num=4).reshape(1, 1, 64) for t in (query, key, value)]
    packed = torch.nn.functional.linear(
        x, attn.qkv_proj.weight[torch.from_numpy(qkv_permutation(64, 8))]
    )
    assert torch.equal(packed, torch.cat(heads, dim=-1))


# ----------------------------------------------------------------------------- import hygiene


def test_generation_commands_import_no_heavy_library_until_run():
    """`--help` and argument parsing of the generation commands stay free of torch & co."""
    code = (
        "import sys\n"
        "from codeaudit.cli import build_parser\n"
        "import codeaudit.generators, codeaudit.generators.base, codeaudit.generators.decode\n"
        "for cmd in ('generate', 'run', 'bench', 'model'):\n"
        "    build_parser(cmd)\n"
        "heavy = [m for m in ('torch', 'transformers', 'onnxruntime', 'optimum', 'onnx') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_extra_is_one_clear_line(monkeypatch, capsys, tmp_path):
    """Boundary stand-in: find_spec reports torch missing (uninstalling it is not an option here)."""
    import importlib.util

    from codeaudit.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    prompts = _write(tmp_path, '{"prompt": "def f():\\n"}\n')
    out = tmp_path / "out.jsonl"
    assert main(["generate", str(prompts), "--model", "tiny", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "generate' extra" in err and "torch" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "module",
    [
        "base",
        "source",
        "sampling",
        "postprocess",
        "quantize",
        "codegen_graph",
        "random_model",
        "tiny",
        "prompts",
        "decode",
    ],
)
def test_docstring_examples(module):
    import doctest
    import importlib

    if module in ("quantize", "codegen_graph", "random_model", "tiny"):
        pytest.importorskip("torch")
    result = doctest.testmod(
        importlib.import_module(f"codeaudit.generators.{module}"), optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0 and result.attempted > 0


def test_hub_id_without_network_is_one_clear_error(monkeypatch, tmp_path):
    """HF_HUB_OFFLINE (set for every test) and an empty hub cache: no network is tried."""
    pytest.importorskip("huggingface_hub")
    from codeaudit.generators.base import ModelError
    from codeaudit.generators.source import resolve_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ModelError,
        match=r"model Salesforce/codegen-350M-mono: no such folder, and the model hub is offline",
    ):
        resolve_model("Salesforce/codegen-350M-mono")
    with pytest.raises(ModelError, match="no such folder$"):
        resolve_model("./not-here")


@pytest.mark.parametrize(
    "k, n, block, symmetric", [(128, 96, 32, False), (200, 64, 64, False), (256, 48, 16, True)]
)
def test_int4_blocks_are_what_onnxruntime_multiplies_by(k, n, block, symmetric):
    """Our 4-bit packing (two values per byte, blocks along K, packed zero points) is read by
    ONNX Runtime's MatMulNBits kernel as the weights we dequantise, and they are close to W."""
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from codeaudit.generators.quantize import Int4Quantization, quantize_int4

    rng = np.random.default_rng(k)
    w = rng.standard_normal((k, n)).astype(np.float32)
    spec = Int4Quantization(block_size=block, symmetric=symmetric, accuracy_level=0)
    packed, scales, zps = quantize_int4(w, spec)
    blocks = scales.shape[1]
    values = np.stack([packed & 15, packed >> 4], -1).reshape(n, blocks * block)[:, :k]
    zero = np.stack([zps & 15, zps >> 4], -1).reshape(n, -1)[:, :blocks]
    deq = (
        (values.astype(np.float32) - np.repeat(zero, block, axis=1)[:, :k])
        * np.repeat(scales, block, axis=1)[:, :k]
    ).T
    # Round to nearest: every weight within half a step of its block's scale.
    assert np.all(np.abs(deq - w) <= np.repeat(scales, block, axis=1)[:, :k].T * 0.5 + 1e-6)
    names = ["x", "w", "s"] + ([] if symmetric else ["z"])
    inits = [numpy_helper.from_array(packed, "w"), numpy_helper.from_array(scales, "s")]
    if not symmetric:
        inits.append(numpy_helper.from_array(zps, "z"))
    node = helper.make_node(
        "MatMulNBits", names, ["y"], domain="com.microsoft", K=k, N=n, bits=4, block_size=block
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = rng.standard_normal((3, k)).astype(np.float32)
    assert np.allclose(session.run(None, {"x": x})[0], x @ deq, atol=1e-4)
