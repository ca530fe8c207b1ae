"""A fused ONNX decoder graph for CodeGen checkpoints, built tensor by tensor from the checkpoint.

Optimum's export of CodeGen is correct, but it needs the float32 PyTorch model and copies of its
weights in memory (about 4x the weights: more than this machine has for the 2B model), and its
graph has about 5,000 nodes, most of them shape arithmetic, with a key/value cache copied into a
new, longer tensor at every step (INT8 decoding of the 350M shape is about 15 % slower on it).
This graph computes the same function with ONNX Runtime's fused kernels:

* ``GroupQueryAttention`` with the rotary embedding inside, reading and appending to a
  preallocated key/value buffer in place (``past`` and ``present`` bound to the same memory);
* ``DynamicQuantizeMatMul`` (INT8 weights, activations quantised on the fly) or ``MatMul``;
* ``SkipLayerNormalization`` (residual add + LayerNorm) and ``FastGelu`` (CodeGen's ``gelu_new``);
* the language-model head runs only on the position whose logits are wanted.

About 12 nodes per layer. Weights are read one tensor at a time from the (memory-mapped)
checkpoint, converted, and appended to the external data file, so building the INT8 graph of the
2B model needs one tensor of memory, not the model.

CodeGen specifics, from ``transformers.models.codegen``: the fused ``qkv_proj`` interleaves
query, value and key in four blocks (``mp_num = 4``), which we permute into the packed
``[Q | K | V]`` layout ``GroupQueryAttention`` takes; the rotary embedding rotates pairs of
dimensions (interleaved) on the first ``rotary_dim`` dimensions of each head; attention output,
MLP output and residual are summed in parallel (GPT-J style).

Inputs: ``input_ids`` (batch, seq), ``seqlens_k`` (batch,) int32 = tokens in the cache after this
call minus one, ``total_sequence_length`` () int32 = max of ``seqlens_k + 1``, ``logits_index``
(batch,) int64 = flat position in ``batch * seq`` whose logits to return, and the per-layer
buffers ``past_key_values.{i}.key|value`` (batch, heads, capacity, head_dim). Outputs:
``logits`` (batch, vocab) and ``present.{i}.key|value`` (the same buffers). Prompts in a batch
are right-padded; each sequence appends at its own length.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import ModelError
from .onnx_io import ExternalData, save_model
from .quantize import Int4Quantization, WeightQuantization, quantize_int4, quantize_weight
from .source import Checkpoint, ModelSource

#: Bump when the graph changes: cached builds of older recipes are rebuilt.
RECIPE = "codegen-fused-1"  # int4 builds add their settings to the cache key
MP_NUM = 4  # CodeGen's qkv_proj layout: four model-parallel blocks of (query, value, key)


def supports(source: ModelSource) -> str | None:
    """``None`` when this builder handles ``source``, else why not."""
    cfg = source.config
    if source.model_type != "codegen":
        return f"model type is '{source.model_type}', not codegen"
    if cfg.get("activation_function", "gelu_new") != "gelu_new":
        return f"activation '{cfg.get('activation_function')}' (only gelu_new is fused)"
    heads = int(cfg.get("n_head", 0))
    if heads <= 0 or heads % MP_NUM or int(cfg.get("n_embd", 0)) % heads:
        return f"{heads} heads do not split into CodeGen's {MP_NUM} blocks"
    return None


def qkv_permutation(n_embd: int, n_head: int) -> np.ndarray:
    """Row order turning CodeGen's ``qkv_proj`` output into packed ``[Q | K | V]``, heads in order.

    CodeGen reshapes the projection to ``(mp_num, 3 * local)`` and splits each block into query,
    value, key (in that order); head ``h`` lives in block ``h // (n_head / mp_num)``.

    >>> qkv_permutation(8, 4).tolist()  # 4 heads of 2 dims, one head per block
    [0, 1, 6, 7, 12, 13, 18, 19, 4, 5, 10, 11, 16, 17, 22, 23, 2, 3, 8, 9, 14, 15, 20, 21]
    """
    head_dim = n_embd // n_head
    local = n_embd // MP_NUM
    heads_per_block = n_head // MP_NUM
    perm = np.empty(3 * n_embd, dtype=np.int64)
    part_of = {"q": 0, "v": 1, "k": 2}  # position inside each block
    for target_block, part in enumerate(("q", "k", "v")):
        for head in range(n_head):
            block, j = divmod(head, heads_per_block)
            src = block * 3 * local + part_of[part] * local + j * head_dim
            dst = target_block * n_embd + head * head_dim
            perm[dst : dst + head_dim] = np.arange(src, src + head_dim)
    return perm


def rotary_tables(positions: int, rotary_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """CodeGen's sin/cos tables (computed by transformers itself, so they are bit-identical)."""
    from transformers.models.codegen.modeling_codegen import create_sinusoidal_positions

    table = create_sinusoidal_positions(positions, rotary_dim).numpy().astype(np.float32)
    half = rotary_dim // 2
    return np.ascontiguousarray(table[:, half:]), np.ascontiguousarray(table[:, :half])  # cos, sin


def build(
    source: ModelSource,
    out_dir: Path,
    *,
    quantization: WeightQuantization | Int4Quantization | None,
    status: Callable[[str], None] | None = None,
) -> dict:
    """Write ``out_dir/model.onnx`` (+ ``.data``); returns facts for the manifest.

    ``quantization=None`` keeps float32 weights (the ``onnx`` engine).
    """
    import onnx
    from onnx import TensorProto, helper

    why = supports(source)
    if why:
        raise ModelError(f"model {source.spec}: the fused CodeGen graph does not apply: {why}")
    cfg = source.config
    n_layer, n_embd, n_head = int(cfg["n_layer"]), int(cfg["n_embd"]), int(cfg["n_head"])
    head_dim = n_embd // n_head
    rotary_dim = int(cfg.get("rotary_dim") or head_dim)
    positions = source.context_length
    eps = float(cfg.get("layer_norm_epsilon", 1e-5))
    vocab = int(cfg["vocab_size"])
    tied = bool(cfg.get("tie_word_embeddings", False))

    ckpt = Checkpoint(source)
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.onnx"
    data = ExternalData(model_path)
    nodes: list = []
    inits: list = []
    per_token = 0  # bytes of weights read per decoded token

    def weight(name: str, array: np.ndarray, *, read_per_token: bool = True) -> str:
        nonlocal per_token
        inits.append(data.add(name, array))
        if read_per_token:
            per_token += array.nbytes
        return name

    inner = int(cfg.get("n_inner") or 4 * n_embd)

    def expected_shape(name: str) -> tuple[int, ...]:
        leaf = name.split(".", 3)[-1] if name.startswith("transformer.h.") else name
        return {
            "transformer.wte.weight": (vocab, n_embd),
            "attn.qkv_proj.weight": (3 * n_embd, n_embd),
            "attn.out_proj.weight": (n_embd, n_embd),
            "mlp.fc_in.weight": (inner, n_embd),
            "mlp.fc_in.bias": (inner,),
            "mlp.fc_out.weight": (n_embd, inner),
            "lm_head.weight": (vocab, n_embd),
            "lm_head.bias": (vocab,),
        }.get(leaf, (n_embd,))  # LayerNorm weights and biases, fc_out.bias

    def tensor(name: str) -> np.ndarray:
        array = ckpt.get(name)
        if array.shape != expected_shape(name):
            raise ModelError(
                f"model {source.spec}: checkpoint does not fit config.json: {name} has shape "
                f"{tuple(array.shape)}, the config implies {expected_shape(name)}"
            )
        return array

    def linear(
        x: str,
        w_name: str,
        out: str,
        *,
        rows: np.ndarray | None = None,
        bias: str | None = None,
        out_name: str | None = None,
    ) -> str:
        """x @ W^T (+ bias) with W read from the checkpoint; INT8 or float32."""
        w = tensor(w_name)
        w_name = out_name or w_name
        if rows is not None:
            w = w[rows]
        wt = np.ascontiguousarray(w.T)  # (in, out): MatMul's B
        del w
        b = weight(bias, tensor(bias)) if bias else None
        if quantization is None:
            mm = weight(w_name, wt)
            if b is None:
                nodes.append(helper.make_node("MatMul", [x, mm], [out], name=out))
                return out
            nodes.append(helper.make_node("MatMul", [x, mm], [out + "_mm"], name=out + "_mm"))
            nodes.append(helper.make_node("Add", [out + "_mm", b], [out], name=out))
            return out
        if isinstance(quantization, Int4Quantization) and not (
            quantization.head_int8 and w_name == "lm_head.weight"
        ):
            k, n = wt.shape
            packed, scales, zps = quantize_int4(wt, quantization)
            del wt
            args = [x, weight(w_name + "_q4", packed), weight(w_name + "_scales", scales)]
            args.append("" if quantization.symmetric else weight(w_name + "_zero_points", zps))
            if b is not None:
                args += ["", b]  # no g_idx; the bias is MatMulNBits' sixth input
            while args and args[-1] == "":
                args.pop()
            attrs = {"K": k, "N": n, "bits": 4, "block_size": quantization.block_size}
            if quantization.accuracy_level:
                attrs["accuracy_level"] = quantization.accuracy_level
            nodes.append(
                helper.make_node(
                    "MatMulNBits", args, [out], name=out, domain="com.microsoft", **attrs
                )
            )
            return out
        spec = (
            quantization.head_spec() if isinstance(quantization, Int4Quantization) else quantization
        )
        q, scale, zp = quantize_weight(wt, spec)
        del wt
        args = [x, weight(w_name + "_quantized", q), weight(w_name + "_scale", scale)]
        args.append(
            weight(w_name + "_zero_point", zp) if zp.any() or spec.weights_dtype == "uint8" else ""
        )
        if b is not None:
            args.append(b)
        while args and args[-1] == "":
            args.pop()
        nodes.append(
            helper.make_node("DynamicQuantizeMatMul", args, [out], name=out, domain="com.microsoft")
        )
        return out

    def say(message: str) -> None:
        if status:
            status(message)

    say(
        "building the fused CodeGen graph ("
        + (
            "fp32"
            if quantization is None
            else f"int4 block {quantization.block_size}"
            if isinstance(quantization, Int4Quantization)
            else "int8 " + quantization.isa
        )
        + ")"
    )
    wte = tensor("transformer.wte.weight")
    weight("transformer.wte.weight", wte, read_per_token=False)
    per_token += wte.shape[1] * 4  # one row per token
    del wte
    cos, sin = rotary_tables(positions, rotary_dim)
    weight("cos_cache", cos, read_per_token=False)
    weight("sin_cache", sin, read_per_token=False)
    nodes.append(
        helper.make_node("Gather", ["transformer.wte.weight", "input_ids"], ["h0"], name="embed")
    )
    perm = qkv_permutation(n_embd, n_head)

    residual, pending = "h0", None
    for i in range(n_layer):
        say(f"layer {i + 1}/{n_layer}")
        p = f"transformer.h.{i}."
        g = weight(p + "ln_1.weight", tensor(p + "ln_1.weight"))
        b = weight(p + "ln_1.bias", tensor(p + "ln_1.bias"))
        ln = f"l{i}_ln"
        if pending is None:
            nodes.append(
                helper.make_node(
                    "LayerNormalization", [residual, g, b], [ln], name=ln, axis=-1, epsilon=eps
                )
            )
        else:
            new_residual = f"l{i}_residual"
            nodes.append(
                helper.make_node(
                    "SkipLayerNormalization",
                    [pending, residual, g, b],
                    [ln, "", "", new_residual],
                    name=ln,
                    domain="com.microsoft",
                    epsilon=eps,
                )
            )
            residual = new_residual
        qkv = linear(ln, p + "attn.qkv_proj.weight", f"l{i}_qkv", rows=perm)
        attn = f"l{i}_attn"
        nodes.append(
            helper.make_node(
                "GroupQueryAttention",
                [
                    qkv,
                    "",
                    "",
                    f"past_key_values.{i}.key",
                    f"past_key_values.{i}.value",
                    "seqlens_k",
                    "total_sequence_length",
                    "cos_cache",
                    "sin_cache",
                ],
                [attn, f"present.{i}.key", f"present.{i}.value"],
                name=attn,
                domain="com.microsoft",
                num_heads=n_head,
                kv_num_heads=n_head,
                do_rotary=1,
                rotary_interleaved=1,
                scale=1.0 / math.sqrt(head_dim),
            )
        )
        attn_out = linear(attn, p + "attn.out_proj.weight", f"l{i}_attn_out")
        fc_in = linear(ln, p + "mlp.fc_in.weight", f"l{i}_fc_in", bias=p + "mlp.fc_in.bias")
        gelu = f"l{i}_gelu"
        nodes.append(
            helper.make_node("FastGelu", [fc_in], [gelu], name=gelu, domain="com.microsoft")
        )
        mlp_out = linear(gelu, p + "mlp.fc_out.weight", f"l{i}_mlp_out", bias=p + "mlp.fc_out.bias")
        pending = f"l{i}_sum"
        nodes.append(helper.make_node("Add", [attn_out, mlp_out], [pending], name=pending))

    g = weight("transformer.ln_f.weight", tensor("transformer.ln_f.weight"))
    b = weight("transformer.ln_f.bias", tensor("transformer.ln_f.bias"))
    nodes.append(
        helper.make_node(
            "SkipLayerNormalization",
            [pending, residual, g, b],
            ["final"],
            name="ln_f",
            domain="com.microsoft",
            epsilon=eps,
        )
    )
    weight("flat_shape", np.array([-1, n_embd], dtype=np.int64), read_per_token=False)
    nodes.append(
        helper.make_node("Reshape", ["final", "flat_shape"], ["final_flat"], name="flatten")
    )
    nodes.append(
        helper.make_node(
            "Gather", ["final_flat", "logits_index"], ["last"], name="pick_positions", axis=0
        )
    )
    say("language-model head")
    # A tied head (tie_word_embeddings) multiplies by the embedding matrix itself.
    head = "transformer.wte.weight" if tied else "lm_head.weight"
    linear(
        "last",
        head,
        "logits",
        out_name="lm_head.weight",
        bias="lm_head.bias" if "lm_head.bias" in ckpt else None,
    )
    data.close()

    dyn = ["batch", "sequence"]
    cache_shape = ["batch", n_head, "capacity", head_dim]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, dyn),
        helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, ["batch"]),
        helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, []),
        helper.make_tensor_value_info("logits_index", TensorProto.INT64, ["batch"]),
    ]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", vocab])]
    for i in range(n_layer):
        for kind in ("key", "value"):
            inputs.append(
                helper.make_tensor_value_info(
                    f"past_key_values.{i}.{kind}", TensorProto.FLOAT, cache_shape
                )
            )
            outputs.append(
                helper.make_tensor_value_info(f"present.{i}.{kind}", TensorProto.FLOAT, cache_shape)
            )
    graph = helper.make_graph(nodes, "codegen_fused", inputs, outputs, inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        producer_name="codeaudit",
    )
    model.ir_version = min(model.ir_version, onnx.IR_VERSION)
    save_model(model, model_path)
    return {
        "graph": "codegen",
        "recipe": RECIPE,
        "layers": n_layer,
        "heads": n_head,
        "head_dim": head_dim,
        "weight_bytes_per_token": int(per_token),
        "build_s": round(time.perf_counter() - started, 3),
    }
