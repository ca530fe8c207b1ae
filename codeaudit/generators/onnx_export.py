"""ONNX models for the ``onnx`` and ``onnx-int8`` engines: export, quantise, cache.

Two ways to get a graph (``graph=``):

``optimum``
    Any causal LM Optimum exports. The model goes through Optimum's ONNX exporter
    (``text-generation-with-past``: inputs and outputs for the key/value cache), then a streaming
    pass moves every weight into one external data file and, for INT8, replaces each
    ``MatMul`` by a constant weight with ``DynamicQuantizeMatMul`` (per-channel weights from
    :mod:`~codeaudit.generators.quantize`, the following bias ``Add`` folded in). Matrix products of
    two activations (attention scores) stay float32, and so does the embedding lookup.
``codegen``
    The fused CodeGen graph of :mod:`~codeaudit.generators.codegen_graph`, built straight from the
    checkpoint.

Results are cached under ``<cache>/onnx/<model fingerprint>/<graph>-<precision>-<settings>/``
(``model.onnx``, ``model.onnx.data``, ``codeaudit-onnx.json``), built in a temporary folder and
renamed into place, under a file lock, so concurrent runs export once and never see half a model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from codeaudit.cache import locked

from .base import ModelError, quiet_transformers
from .onnx_io import ExternalData, read_manifest, save_model, write_manifest
from .quantize import Int4Quantization, WeightQuantization, quantize_weight
from .source import ModelSource, check_causal_lm, check_weights

#: Bump when the Optimum pass changes.
OPTIMUM_RECIPE = "optimum-stream-1"


def cache_root(cache_dir: Path | None = None) -> Path:
    """``cache_dir``, else ``$CODEAUDIT_CACHE_DIR``, else the user cache folder."""
    if cache_dir is not None:
        return Path(cache_dir)
    from codeaudit.cache import cache_dir as default_cache_dir

    return default_cache_dir()


def choose_graph(source: ModelSource, graph: str) -> str:
    from . import codegen_graph

    if graph not in ("auto", "optimum", "codegen"):
        raise ModelError(f"unknown ONNX graph '{graph}' (auto, optimum or codegen)")
    if graph == "auto":
        return "codegen" if codegen_graph.supports(source) is None else "optimum"
    if graph == "codegen":
        why = codegen_graph.supports(source)
        if why:
            raise ModelError(f"model {source.spec}: --graph codegen does not apply: {why}")
    return graph


def _versions(graph: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = ["onnx"] + (
        ["torch", "transformers", "optimum", "optimum-onnx"]
        if graph == "optimum"
        else ["transformers"]
    )
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "none"
    return out


def onnx_model(
    source: ModelSource,
    *,
    graph: str,
    quantization: WeightQuantization | Int4Quantization | None,
    cache_dir: Path | None = None,
    status: Callable[[str], None] | None = None,
) -> tuple[Path, dict]:
    """The cached ONNX model for ``source`` (built on first use); returns (model.onnx, manifest)."""
    from . import codegen_graph

    graph = choose_graph(source, graph)
    if isinstance(quantization, Int4Quantization) and graph != "codegen":
        raise ModelError(
            f"model {source.spec}: onnx-int4 is built on the fused CodeGen graph only "
            f"(this model: {codegen_graph.supports(source) or 'graph ' + graph})"
        )
    # Refuse a model that cannot be exported before anything is written to the cache.
    if graph == "optimum":
        check_causal_lm(source)
    check_weights(source)
    recipe = codegen_graph.RECIPE if graph == "codegen" else OPTIMUM_RECIPE
    settings = {
        "graph": graph,
        "recipe": recipe,
        "precision": quantization.precision if quantization else "fp32",
        "quantization": quantization.to_dict() if quantization else None,
        "versions": _versions(graph),
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    folder = (
        cache_root(cache_dir)
        / "onnx"
        / source.fingerprint()
        / f"{graph}-{settings['precision']}-{digest}"
    )
    manifest = read_manifest(folder)
    if manifest is not None and (folder / "model.onnx").is_file():
        return folder / "model.onnx", manifest
    folder.parent.mkdir(parents=True, exist_ok=True)
    with locked(folder.parent / (folder.name + ".lock")):
        manifest = read_manifest(folder)  # another process may have built it meanwhile
        if manifest is not None and (folder / "model.onnx").is_file():
            return folder / "model.onnx", manifest
        tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        built = False
        try:
            started = time.perf_counter()
            if graph == "codegen":
                facts = codegen_graph.build(source, tmp, quantization=quantization, status=status)
            else:
                facts = _build_optimum(
                    source, tmp, quantization=quantization, cache_dir=cache_dir, status=status
                )
            manifest = {
                **settings,
                **facts,
                "model": source.spec,
                "export_s": round(time.perf_counter() - started, 3),
            }
            write_manifest(tmp, manifest)
            os.replace(tmp, folder)
            built = True
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if not built:  # leave no trace of a failed build: its lock, an empty model folder
                with contextlib.suppress(OSError):
                    (folder.parent / (folder.name + ".lock")).unlink()
                with contextlib.suppress(OSError):
                    folder.parent.rmdir()
    return folder / "model.onnx", manifest


# --------------------------------------------------------------------------- Optimum path


def _build_optimum(
    source: ModelSource,
    out_dir: Path,
    *,
    quantization: WeightQuantization | None,
    cache_dir: Path | None,
    status: Callable[[str], None] | None,
) -> dict:
    if quantization is None:
        raw = out_dir.parent / f".{out_dir.name}.export"
        shutil.rmtree(raw, ignore_errors=True)
        try:
            _export_with_optimum(source, raw, status=status)
            return _rewrite(raw / "model.onnx", out_dir, quantization=None, status=status)
        finally:
            shutil.rmtree(raw, ignore_errors=True)
    # INT8 starts from the (cached) float32 export, so asking for both engines exports once.
    fp32_path, _ = onnx_model(
        source, graph="optimum", quantization=None, cache_dir=cache_dir, status=status
    )
    return _rewrite(fp32_path, out_dir, quantization=quantization, status=status)


def _export_with_optimum(
    source: ModelSource, out_dir: Path, *, status: Callable[[str], None] | None
) -> None:
    import torch
    from optimum.exporters.onnx.convert import export_pytorch
    from optimum.exporters.tasks import TasksManager
    from optimum.exporters.utils import get_decoder_models_for_export
    from transformers import AutoModelForCausalLM

    check_causal_lm(source)
    check_weights(source)
    if status:
        status("exporting with Optimum (text-generation-with-past)")
    try:
        constructor = TasksManager.get_exporter_config_constructor(
            "onnx",
            model_type=source.model_type,
            task="text-generation-with-past",
            library_name="transformers",
        )
    except (KeyError, ValueError) as exc:
        raise ModelError(
            f"model {source.spec}: architecture '{source.model_type}' is not supported by Optimum's ONNX exporter ({_one_line(exc)})"
        ) from None
    try:
        with quiet_transformers():
            model, loading = AutoModelForCausalLM.from_pretrained(
                source.path, dtype=torch.float32, low_cpu_mem_usage=True, output_loading_info=True
            )
    except Exception as exc:  # noqa: BLE001 - transformers raises many kinds for a bad checkpoint
        raise ModelError(f"model {source.spec}: cannot load: {_one_line(exc)}") from None
    missing = sorted(loading.get("missing_keys") or [])
    if missing:
        raise ModelError(
            f"model {source.spec}: checkpoint does not fit the architecture in config.json: "
            f"{len(missing)} weight(s) missing, e.g. {missing[0]}"
        )
    # One decoder graph that takes the cache as input and returns it extended (Optimum's
    # "decoder with past" configuration; an empty past serves the prompt pass).
    _, config = get_decoder_models_for_export(model, constructor(model.config))["model"]
    out_dir.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():  # tracer warnings about Python control flow fixed at export
        export_pytorch(
            model, config, config.DEFAULT_ONNX_OPSET, out_dir / "model.onnx", device="cpu"
        )
    del model


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def _rewrite(
    src: Path,
    out_dir: Path,
    *,
    quantization: WeightQuantization | None,
    status: Callable[[str], None] | None,
) -> dict:
    """Copy ``src`` into ``out_dir`` with all weights in one external file; quantise if asked.

    Streams: one initializer is held in memory at a time (its raw bytes are dropped from the
    graph as soon as they are written).
    """
    import onnx
    from onnx import helper, numpy_helper

    if status:
        status(
            "quantising weights (dynamic INT8, " + quantization.isa + ")"
            if quantization
            else "consolidating weights"
        )
    model = onnx.load(str(src), load_external_data=False)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    producers_outputs = {o.name for o in g.output}
    consumers: dict[str, list] = {}
    for node in g.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    targets: dict[str, onnx.NodeProto] = {}  # MatMul name -> node, with a constant 2-D float weight
    if quantization is not None:
        for node in g.node:
            if node.op_type == "MatMul" and node.input[1] in inits:
                t = inits[node.input[1]]
                if len(t.dims) == 2 and t.data_type == onnx.TensorProto.FLOAT:
                    targets[node.name] = node
    # Bias folding: MatMul -> Add(bias initializer) becomes DynamicQuantizeMatMul(..., bias).
    fused_add: dict[str, onnx.NodeProto] = {}
    for node in targets.values():
        out = node.output[0]
        users = consumers.get(out, [])
        if out in producers_outputs or len(users) != 1 or users[0].op_type != "Add":
            continue
        add = users[0]
        other = add.input[1] if add.input[0] == out else add.input[0]
        bias = inits.get(other)
        if (
            bias is not None
            and list(bias.dims) == [inits[node.input[1]].dims[1]]
            and bias.data_type == onnx.TensorProto.FLOAT
        ):
            fused_add[node.name] = add

    quantized_weights = {n.input[1] for n in targets.values()}
    still_float = {
        name
        for name in quantized_weights
        if any(c.op_type != "MatMul" or c.name not in targets for c in consumers.get(name, []))
    }
    biases_folded = {
        (a.input[1] if a.input[0] == targets[k].output[0] else a.input[0])
        for k, a in fused_add.items()
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.onnx"
    data = ExternalData(model_path)
    new_inits: list = []
    q_names: dict[str, tuple[str, str, str | None]] = {}
    gather_tables = {n.input[0] for n in g.node if n.op_type == "Gather"}
    per_token = 0
    for t in list(g.initializer):
        array = numpy_helper.to_array(t, base_dir=str(src.parent))
        t.ClearField("raw_data")
        if t.name in quantized_weights:
            q, scale, zp = quantize_weight(array, quantization)  # type: ignore[arg-type]
            zp_name = None
            new_inits.append(data.add(t.name + "_quantized", q))
            new_inits.append(data.add(t.name + "_scale", scale))
            per_token += q.nbytes + scale.nbytes
            if zp.any() or quantization.weights_dtype == "uint8":  # type: ignore[union-attr]
                zp_name = t.name + "_zero_point"
                new_inits.append(data.add(zp_name, zp))
            q_names[t.name] = (t.name + "_quantized", t.name + "_scale", zp_name)
            if t.name not in still_float:
                continue
        new_inits.append(data.add(t.name, array))
        if t.name in gather_tables and array.ndim == 2:
            per_token += array.shape[1] * array.itemsize  # a lookup reads one row
        elif array.nbytes >= 1024:
            per_token += array.nbytes
    data.close()

    new_nodes = []
    dropped_adds = {id(a) for a in fused_add.values()}
    for node in g.node:
        if id(node) in dropped_adds:
            continue
        if node.name in targets:
            qw, scale, zp = q_names[node.input[1]]
            args = [node.input[0], qw, scale, zp or ""]
            output = node.output[0]
            add = fused_add.get(node.name)
            if add is not None:
                args.append(add.input[1] if add.input[0] == node.output[0] else add.input[0])
                output = add.output[0]
            while args[-1] == "":
                args.pop()
            new_nodes.append(
                helper.make_node(
                    "DynamicQuantizeMatMul",
                    args,
                    [output],
                    name=node.name + "_int8",
                    domain="com.microsoft",
                )
            )
            continue
        new_nodes.append(node)
    del g.node[:]
    g.node.extend(new_nodes)
    # Folded biases that nothing else reads would be dead weight; keep the rest.
    used = {i for n in new_nodes for i in n.input}
    del g.initializer[:]
    g.initializer.extend(t for t in new_inits if t.name in used or t.name not in biases_folded)
    if quantization is not None and not any(
        o.domain == "com.microsoft" for o in model.opset_import
    ):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    save_model(model, model_path)
    return {
        "graph": "optimum",
        "weight_bytes_per_token": int(per_token),
        "quantized_matmuls": len(targets),
        "fused_bias": len(fused_add),
    }
