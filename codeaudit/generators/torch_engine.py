"""The ``torch`` and ``torch-int8`` engines: transformers models in PyTorch.

``torch`` runs on CUDA in float16 when a GPU is visible (``--device auto``), else on the CPU in
float32. ``torch-int8`` is the CPU model with every ``nn.Linear`` replaced by PyTorch's dynamic
INT8 linear (``torch.ao.quantization.quantize_dynamic``): INT8 weights, activations quantised per
call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from inspect import signature

import numpy as np

from .base import (
    Engine,
    EngineInfo,
    EngineOptions,
    ModelError,
    chosen_threads,
    file_bytes,
    quiet_transformers,
)
from .source import ModelSource, check_causal_lm, check_weights

#: Model types whose logits are exactly ``lm_head(last hidden state)``: the prompt pass computes
#: the head on the last position only instead of on every prompt position.
_PLAIN_HEAD = {"codegen", "gptj", "gpt2", "gpt_neo"}


class TorchEngine(Engine):
    """A transformers causal LM in PyTorch (CUDA float16, else CPU float32)."""

    name = "torch"
    int8 = False

    def __init__(self, info: EngineInfo, model, device) -> None:
        super().__init__(info)
        self._model = model
        self._device = device
        self._keep = "logits_to_keep" in signature(model.forward).parameters
        self._plain_head = getattr(model.config, "model_type", "") in _PLAIN_HEAD and hasattr(
            model, "lm_head"
        )
        self._cache = None
        self._mask = None

    @classmethod
    def load(cls, model: ModelSource, options: EngineOptions) -> TorchEngine:
        import torch
        from transformers import AutoModelForCausalLM

        check_causal_lm(model)
        files = check_weights(model)
        started = time.perf_counter()
        device = _device(options.device, cpu_only=cls.int8, engine=cls.name)
        threads = None
        if device.type == "cpu":
            threads = chosen_threads(options.threads)
            torch.set_num_threads(threads)
        dtype = torch.float16 if device.type == "cuda" else torch.float32
        try:
            with quiet_transformers():
                lm, loading = AutoModelForCausalLM.from_pretrained(
                    model.path, dtype=dtype, low_cpu_mem_usage=True, output_loading_info=True
                )
        except Exception as exc:  # noqa: BLE001 - a bad checkpoint surfaces as many exception types
            text = (
                str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            )
            raise ModelError(f"model {model.spec}: cannot load: {text}") from None
        # transformers fills weights missing from the checkpoint with random values and only
        # logs it; generating from such a model would be silently meaningless.
        missing = loading.get("missing_keys") or []
        mismatched = loading.get("mismatched_keys") or []
        if missing or mismatched:
            names = [str(m[0] if isinstance(m, tuple) else m) for m in [*missing, *mismatched]]
            raise ModelError(
                f"model {model.spec}: checkpoint does not fit the architecture in config.json: "
                f"{len(names)} weight(s) missing or misshapen, e.g. {names[0]}"
            )
        lm = lm.eval().to(device)
        if cls.int8:
            with quiet_transformers():  # and the torch.ao deprecation notice
                # In place: a copy would hold two float32 models at once (22 GB for the 2B shape).
                lm = torch.ao.quantization.quantize_dynamic(
                    lm, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
                )
        info = EngineInfo(
            engine=cls.name,
            model=model.spec,
            device=str(device),
            precision="int8" if cls.int8 else ("fp16" if dtype == torch.float16 else "fp32"),
            threads=threads,
            load_s=time.perf_counter() - started,
            model_bytes=file_bytes(files),
            weight_bytes_per_token=_bytes_per_token(lm),
            context_length=model.context_length,
            details={"quantized": "torch.ao dynamic qint8 (nn.Linear)"} if cls.int8 else {},
        )
        return cls(info, lm, device)

    def _forward(self, ids: np.ndarray, positions: np.ndarray):
        import torch

        kwargs = {
            "attention_mask": torch.from_numpy(self._mask).to(self._device),
            "position_ids": torch.from_numpy(positions).to(self._device),
            "past_key_values": self._cache,
            "use_cache": True,
        }
        input_ids = torch.from_numpy(ids).to(self._device)
        with torch.inference_mode():
            if self._plain_head and not self._keep:
                base = self._model.base_model(input_ids=input_ids, **kwargs)
                logits = self._model.lm_head(base.last_hidden_state[:, -1:, :])
                self._cache = base.past_key_values
            else:
                if self._keep:
                    kwargs["logits_to_keep"] = 1
                out = self._model(input_ids=input_ids, **kwargs)
                logits = out.logits[:, -1:, :]
                self._cache = out.past_key_values
        return logits[:, -1, :].float().cpu().numpy()

    def start(self, prompts: Sequence[Sequence[int]], max_new_tokens: int) -> np.ndarray:
        from transformers.cache_utils import DynamicCache

        width = max(len(p) for p in prompts)
        ids = np.zeros((len(prompts), width), dtype=np.int64)
        self._mask = np.zeros((len(prompts), width), dtype=np.int64)
        for b, p in enumerate(prompts):  # left padding: every sequence ends at the last column
            ids[b, width - len(p) :] = p
            self._mask[b, width - len(p) :] = 1
        self._cache = DynamicCache()
        positions = np.maximum(np.cumsum(self._mask, axis=1) - 1, 0)
        return self._forward(ids, positions)

    def step(self, tokens: np.ndarray) -> np.ndarray:
        if self._mask is None:
            raise RuntimeError("step() before start()")
        self._mask = np.concatenate([self._mask, np.ones((len(tokens), 1), dtype=np.int64)], axis=1)
        positions = self._mask.sum(axis=1, keepdims=True) - 1
        return self._forward(np.asarray(tokens, dtype=np.int64).reshape(-1, 1), positions)

    def keep(self, rows: Sequence[int]) -> bool:
        import torch

        if self._mask is None or self._cache is None:
            return False
        select = getattr(self._cache, "batch_select_indices", None)
        if select is None:
            return False
        select(torch.tensor(list(rows), dtype=torch.long, device=self._device))
        self._mask = self._mask[list(rows)]
        return True


class TorchInt8Engine(TorchEngine):
    """PyTorch on the CPU with dynamic INT8 ``nn.Linear`` layers."""

    name = "torch-int8"
    int8 = True


def _device(requested: str, *, cpu_only: bool, engine: str):
    import torch

    if requested not in ("auto", "cpu", "cuda"):
        raise ModelError(f"unknown device '{requested}' (auto, cpu or cuda)")
    if cpu_only:
        if requested == "cuda":
            raise ModelError(
                f"engine {engine} runs on the CPU (PyTorch's dynamic INT8 kernels are CPU kernels)"
            )
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda: no CUDA device is visible to PyTorch")
    if requested == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def _bytes_per_token(model) -> int:
    """Weight bytes one decoding step reads: every matrix once, one row of each embedding."""
    import torch

    total = 0
    for module in model.modules():
        if isinstance(module, torch.nn.Embedding):
            total += module.weight.shape[1] * module.weight.element_size()
            continue
        packed = getattr(module, "_packed_params", None)
        if packed is not None and hasattr(module, "weight"):
            w = module.weight()
            total += w.numel() * w.element_size()
            bias = module.bias()
            if bias is not None:
                total += bias.numel() * bias.element_size()
            continue
        for p in module.parameters(recurse=False):
            total += p.numel() * p.element_size()
    return int(total)
