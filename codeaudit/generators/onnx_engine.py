"""The ``onnx`` (float32) and ``onnx-int8`` engines: ONNX Runtime on the CPU.

Decoding drives the session directly with I/O binding: the key/value cache never leaves ONNX
Runtime's memory between steps, and for the fused CodeGen graph it is one preallocated buffer per
layer that the attention kernel appends to in place. Only the token ids go in and the logits of
the last position come out at each step.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import Engine, EngineInfo, EngineOptions, ModelError, chosen_threads, file_bytes
from .quantize import Int4Quantization, quantization_for_cpu
from .source import ModelSource


class OnnxEngine(Engine):
    """ONNX Runtime, float32 weights (Optimum export, or the fused CodeGen graph)."""

    name = "onnx"
    int8 = False

    def __init__(self, info: EngineInfo, session, graph: str, manifest: dict) -> None:
        super().__init__(info)
        self._session = session
        self._graph = graph
        self._state: _FusedState | _OptimumState | None = None
        self._manifest = manifest

    @classmethod
    def load(cls, model: ModelSource, options: EngineOptions) -> OnnxEngine:
        from .onnx_export import onnx_model

        if options.device == "cuda":
            raise ModelError(f"engine {cls.name} runs on the CPU; use --engine torch for a GPU")
        started = time.perf_counter()
        quantization = cls.quantization()
        path, manifest = onnx_model(
            model,
            graph=options.graph,
            quantization=quantization,
            cache_dir=options.cache_dir,
            status=options.status,
        )
        threads = chosen_threads(options.threads)
        session = _session(path, threads)
        graph = manifest["graph"]
        info = EngineInfo(
            engine=cls.name,
            model=model.spec,
            device="cpu",
            precision=quantization.precision if quantization else "fp32",
            threads=threads,
            load_s=time.perf_counter() - started,
            model_bytes=file_bytes([path, path.with_name(path.name + ".data")]),
            weight_bytes_per_token=int(manifest["weight_bytes_per_token"]),
            context_length=model.context_length,
            details={
                "graph": graph,
                "quantization": manifest.get("quantization"),
                "export_s": manifest.get("export_s"),
                "onnx_path": str(path),
            },
        )
        return cls(info, session, graph, manifest)

    @classmethod
    def quantization(cls):
        """The weight quantisation of this engine (``None``: float32)."""
        return quantization_for_cpu() if cls.int8 else None

    def start(self, prompts: Sequence[Sequence[int]], max_new_tokens: int) -> np.ndarray:
        if self._graph == "codegen":
            self._state = _FusedState(self._session, self._manifest, prompts, max_new_tokens)
        else:
            self._state = _OptimumState(self._session, prompts)
        return self._state.logits

    def step(self, tokens: np.ndarray) -> np.ndarray:
        if self._state is None:
            raise RuntimeError("step() before start()")
        return self._state.advance(np.asarray(tokens, dtype=np.int64))

    def keep(self, rows: Sequence[int]) -> bool:
        if self._state is None:
            return False
        self._state.keep(list(rows))
        return True


class OnnxInt8Engine(OnnxEngine):
    """ONNX Runtime, INT8 weights quantised with Optimum's preset for this CPU's instruction set."""

    name = "onnx-int8"
    int8 = True


def _session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # warnings about unused initializers are noise here
    if threads == 1:
        # No worker threads to keep awake.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - a damaged cached model; say where it is
        raise ModelError(
            f"cannot load ONNX model {path}: {str(exc).splitlines()[0][:300]} (delete the folder to rebuild it)"
        ) from None


class _FusedState:
    """One batch on the fused CodeGen graph: right-padded prompts, in-place key/value buffers."""

    def __init__(
        self, session, manifest: dict, prompts: Sequence[Sequence[int]], max_new_tokens: int
    ) -> None:
        import onnxruntime as ort

        self.session = session
        batch = len(prompts)
        lengths = np.array([len(p) for p in prompts], dtype=np.int64)
        width = int(lengths.max())
        ids = np.zeros((batch, width), dtype=np.int64)
        for b, p in enumerate(prompts):
            ids[b, : len(p)] = p
        capacity = width + max_new_tokens
        shape = (batch, int(manifest["heads"]), capacity, int(manifest["head_dim"]))
        self.cache = {
            f"past_key_values.{i}.{kind}": ort.OrtValue.ortvalue_from_numpy(
                np.zeros(shape, dtype=np.float32)
            )
            for i in range(int(manifest["layers"]))
            for kind in ("key", "value")
        }
        vocab = session.get_outputs()[0].shape[-1]
        self.logits_buffer = ort.OrtValue.ortvalue_from_numpy(
            np.zeros((batch, vocab), dtype=np.float32)
        )
        self.lengths = lengths
        self.live: np.ndarray | None = None  # physical rows still decoding (None: all)
        self.logits = self._run(ids, np.arange(batch) * width + lengths - 1)

    def _run(self, ids: np.ndarray, index: np.ndarray) -> np.ndarray:
        binding = self.session.io_binding()
        binding.bind_cpu_input("input_ids", ids)
        binding.bind_cpu_input("seqlens_k", (self.lengths - 1).astype(np.int32))
        binding.bind_cpu_input(
            "total_sequence_length", np.array(self.lengths.max(), dtype=np.int32)
        )
        binding.bind_cpu_input("logits_index", index.astype(np.int64))
        binding.bind_ortvalue_output("logits", self.logits_buffer)
        for name, buffer in self.cache.items():
            binding.bind_ortvalue_input(name, buffer)
            binding.bind_ortvalue_output("present" + name[len("past_key_values") :], buffer)
        self.session.run_with_iobinding(binding)
        return self.logits_buffer.numpy()

    def advance(self, tokens: np.ndarray) -> np.ndarray:
        if self.live is None:
            self.lengths = self.lengths + 1
            return self._run(tokens.reshape(-1, 1), np.arange(len(tokens)))
        # Ended rows stay in the buffers until compacted: they rewrite their last cache slot
        # (their length does not grow) and their logits are not returned.
        full = np.zeros(len(self.lengths), dtype=np.int64)
        full[self.live] = tokens
        self.lengths[self.live] += 1
        logits = self._run(full.reshape(-1, 1), np.arange(len(full)))
        return logits[self.live]

    def keep(self, rows: list[int]) -> None:
        """Keep ``rows`` of the live batch; copy the buffers down once a quarter has ended."""
        import onnxruntime as ort

        physical = np.arange(len(self.lengths)) if self.live is None else self.live
        physical = physical[rows]
        if len(physical) > 0.75 * len(self.lengths):
            self.live = physical
            return
        self.cache = {
            name: ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(value.numpy()[physical]))
            for name, value in self.cache.items()
        }
        self.lengths = self.lengths[physical]
        self.logits_buffer = ort.OrtValue.ortvalue_from_numpy(
            np.zeros((len(physical), self.logits_buffer.shape()[1]), dtype=np.float32)
        )
        self.live = None


class _OptimumState:
    """One batch on an Optimum export: left-padded prompts, attention mask, growing cache."""

    def __init__(self, session, prompts: Sequence[Sequence[int]]) -> None:
        self.session = session
        inputs = {i.name: i for i in session.get_inputs()}
        self.cache_inputs = [n for n in inputs if n.startswith("past_key_values.")]
        if not self.cache_inputs:
            raise ModelError(
                "the ONNX model has no key/value cache inputs (past_key_values.*); re-export it"
            )
        self.has_positions = "position_ids" in inputs
        batch = len(prompts)
        width = max(len(p) for p in prompts)
        ids = np.zeros((batch, width), dtype=np.int64)
        mask = np.zeros((batch, width), dtype=np.int64)
        for b, p in enumerate(prompts):
            ids[b, width - len(p) :] = p
            mask[b, width - len(p) :] = 1
        self.mask = mask
        empty = {}
        for name in self.cache_inputs:
            dims = inputs[name].shape
            heads, head_dim = dims[1], dims[3]
            if not (isinstance(heads, int) and isinstance(head_dim, int)):
                raise ModelError(
                    f"ONNX input {name} has symbolic head dimensions {dims}; cannot size the cache"
                )
            empty[name] = np.zeros((batch, heads, 0, head_dim), dtype=np.float32)
        self.cache: dict = empty
        positions = np.maximum(np.cumsum(mask, axis=1) - 1, 0)
        self.logits = self._run(ids, positions)

    def _run(self, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        binding = self.session.io_binding()
        binding.bind_cpu_input("input_ids", ids)
        binding.bind_cpu_input("attention_mask", self.mask)
        if self.has_positions:
            binding.bind_cpu_input("position_ids", positions.astype(np.int64))
        for name, value in self.cache.items():
            if isinstance(value, np.ndarray):
                binding.bind_cpu_input(name, value)
            else:
                binding.bind_ortvalue_input(name, value)
        outputs = [o.name for o in self.session.get_outputs()]
        for name in outputs:
            binding.bind_output(name, "cpu")
        self.session.run_with_iobinding(binding)
        values = dict(zip(outputs, binding.get_outputs()))
        self.cache = {
            name: values["present" + name[len("past_key_values") :]] for name in self.cache_inputs
        }
        return np.ascontiguousarray(values["logits"].numpy()[:, -1, :], dtype=np.float32)

    def keep(self, rows: list[int]) -> None:
        self.mask = self.mask[rows]
        self.cache = {
            name: np.ascontiguousarray(
                (value if isinstance(value, np.ndarray) else value.numpy())[rows]
            )
            for name, value in self.cache.items()
        }

    def advance(self, tokens: np.ndarray) -> np.ndarray:
        self.mask = np.concatenate([self.mask, np.ones((len(tokens), 1), dtype=np.int64)], axis=1)
        positions = (self.mask.sum(axis=1, keepdims=True) - 1).astype(np.int64)
        return self._run(tokens.reshape(-1, 1), positions)


class OnnxInt4Engine(OnnxEngine):
    """ONNX Runtime on the fused CodeGen graph with block-wise 4-bit weights (``MatMulNBits``)."""

    name = "onnx-int4"

    @classmethod
    def quantization(cls):
        return Int4Quantization()
