"""The ``ctranslate2`` and ``ctranslate2-int8`` engines: CTranslate2, a peer to compare against.

CTranslate2 converts CodeGen directly (its converter descends from the one FauxPilot used) and is
what a team self-hosting CodeGen on a CPU would reach for. The model is converted once with its
Python converter (``ctranslate2.converters.TransformersConverter``: float32, or INT8 weights for
``ctranslate2-int8``) and cached like the ONNX exports, under
``<cache>/ctranslate2/<model fingerprint>/<precision>-<settings>/``. On a visible CUDA GPU
(``--device auto|cuda``) it runs in ``float16`` (``ctranslate2``) or ``int8_float16``
(``ctranslate2-int8``); on the CPU in ``float32`` or ``int8``.

CTranslate2 owns its decoding loop and exposes no per-step logits with a key/value cache, so
:func:`~codeaudit.generators.decode.decode_rows` lets it decode greedy rows natively
(:meth:`decode_rows_natively`: one ``generate_batch`` call, each new token passed through the
same per-row bookkeeping — stop sequences, end-of-text, budgets, deltas, cancelling — and a row
ended through the per-token callback). Rows that sample do not: CTranslate2's sampler keeps its
random state in its worker threads (``set_random_seed`` does not make a call reproducible), so
they go through :meth:`start` / :meth:`step` and the shared sampler with the row's seed — the
same samples as every engine from the same logits — where each step recomputes the whole
sequence with ``forward_batch`` (no cache: exact, but slow).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from codeaudit.cache import locked

from .base import (
    Engine,
    EngineInfo,
    EngineOptions,
    ModelError,
    chosen_threads,
    quiet_transformers,
)
from .source import ModelSource, check_causal_lm, check_weights

#: Bump when the conversion changes.
RECIPE = "ct2-1"
MANIFEST = "codeaudit-ct2.json"


def converted_model(
    source: ModelSource,
    *,
    quantization: str | None,
    cache_dir: Path | None = None,
    status: Callable[[str], None] | None = None,
) -> tuple[Path, dict]:
    """The cached CTranslate2 conversion of ``source`` (converted on first use)."""
    from importlib.metadata import version

    from .onnx_export import cache_root

    check_causal_lm(source)
    check_weights(source)
    settings = {
        "recipe": RECIPE,
        "quantization": quantization,
        "versions": {
            "ctranslate2": version("ctranslate2"),
            "transformers": version("transformers"),
        },
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    folder = (
        cache_root(cache_dir)
        / "ctranslate2"
        / source.fingerprint()
        / f"{quantization or 'float32'}-{digest}"
    )

    def cached() -> dict | None:
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        return manifest if (folder / "model.bin").is_file() else None

    manifest = cached()
    if manifest is not None:
        return folder, manifest
    folder.parent.mkdir(parents=True, exist_ok=True)
    with locked(folder.parent / (folder.name + ".lock")):
        manifest = cached()
        if manifest is not None:
            return folder, manifest
        tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            if status:
                status(f"converting with CTranslate2 ({quantization or 'float32'})")
            from ctranslate2.converters import TransformersConverter

            started = time.perf_counter()
            try:
                with quiet_transformers():
                    TransformersConverter(str(source.path), low_cpu_mem_usage=True).convert(
                        str(tmp), quantization=quantization, force=True
                    )
            except Exception as exc:  # noqa: BLE001 - unsupported architecture, bad checkpoint
                text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
                raise ModelError(
                    f"model {source.spec}: CTranslate2 cannot convert it: {type(exc).__name__}: {text}"
                ) from None
            manifest = {
                **settings,
                "model": source.spec,
                "convert_s": round(time.perf_counter() - started, 3),
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    with contextlib.suppress(OSError):
        (folder.parent / (folder.name + ".lock")).unlink()
    return folder, manifest


def _cuda_visible() -> bool:
    import ctranslate2

    try:
        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # noqa: BLE001 - a CPU-only build
        return False


class CTranslate2Engine(Engine):
    """CTranslate2 ``Generator`` (CPU float32, or CUDA float16)."""

    name = "ctranslate2"
    int8 = False

    def __init__(self, info: EngineInfo, generator, vocabulary: list[str]) -> None:
        super().__init__(info)
        self._generator = generator
        self._vocabulary = vocabulary
        self._sequences: list[list[int]] | None = None

    @classmethod
    def load(cls, model: ModelSource, options: EngineOptions) -> CTranslate2Engine:
        try:
            import ctranslate2
        except ImportError:
            raise ModelError(
                f"engine {cls.name} needs CTranslate2: pip install ctranslate2"
            ) from None
        if options.device not in ("auto", "cpu", "cuda"):
            raise ModelError(f"unknown device '{options.device}' (auto, cpu or cuda)")
        cuda = options.device != "cpu" and _cuda_visible()
        if options.device == "cuda" and not cuda:
            raise ModelError("--device cuda: no CUDA device is visible to CTranslate2")
        started = time.perf_counter()
        folder, manifest = converted_model(
            model,
            quantization="int8" if cls.int8 else None,
            cache_dir=options.cache_dir,
            status=options.status,
        )
        if cuda:
            device, compute_type, threads = (
                "cuda",
                ("int8_float16" if cls.int8 else "float16"),
                None,
            )
        else:
            device, compute_type = "cpu", ("int8" if cls.int8 else "float32")
            threads = chosen_threads(options.threads)
        try:
            generator = ctranslate2.Generator(
                str(folder),
                device=device,
                compute_type=compute_type,
                intra_threads=threads or 0,
                inter_threads=1,
            )
        except Exception as exc:  # noqa: BLE001 - a damaged cached model; say where it is
            raise ModelError(
                f"cannot load CTranslate2 model {folder}: {str(exc).splitlines()[0][:300]} "
                "(delete the folder to rebuild it)"
            ) from None
        vocabulary = _vocabulary(folder)
        model_bytes = (folder / "model.bin").stat().st_size
        cfg = model.config
        n_embd = int(cfg.get("n_embd") or cfg.get("hidden_size") or 0)
        element = 1 if cls.int8 else (2 if cuda else 4)
        embedding = len(vocabulary) * n_embd * element
        info = EngineInfo(
            engine=cls.name,
            model=model.spec,
            device=device,
            precision=compute_type,
            threads=threads,
            load_s=time.perf_counter() - started,
            model_bytes=model_bytes,
            # Every matrix once, one embedding row: the file less the embedding table (an
            # estimate: the file also holds scales and small vectors).
            weight_bytes_per_token=max(1, model_bytes - embedding + n_embd * element),
            context_length=model.context_length,
            details={
                "compute_type": compute_type,
                "convert_s": manifest.get("convert_s"),
                "ctranslate2": manifest["versions"]["ctranslate2"],
                "model_path": str(folder),
            },
        )
        return cls(info, generator, vocabulary)

    # ------------------------------------------------------------------ native decoding

    def decode_rows_natively(
        self,
        rows: Sequence,
        budgets: Sequence[int],
        on_token: Callable[[int, int], bool],
        eos_token_id: int | None,
    ) -> int:
        """Decode greedy ``rows`` (:class:`~codeaudit.generators.decode.Row`) in CTranslate2's loop.

        ``on_token(row, token_id)`` is called for every new token and returns True once the row
        has ended (CTranslate2 then drops it). Returns the decoding steps (for ms per token).
        """
        if any(r.temperature > 0 for r in rows):
            raise ValueError("CTranslate2 decodes greedy rows natively; sampled rows go by step()")
        self._generator.generate_batch(
            [[self._vocabulary[t] for t in r.prompt_ids] for r in rows],
            max_length=max(budgets),
            include_prompt_in_result=False,
            sampling_topk=1,
            callback=lambda step: on_token(step.batch_id, int(step.token_id)),
            **({} if eos_token_id is not None else {"end_token": []}),
        )
        return max(budgets)

    # ------------------------------------------------------------------ start/step (no cache)

    def _logits(self) -> np.ndarray:
        assert self._sequences is not None
        out = self._generator.forward_batch([list(s) for s in self._sequences])
        logits = np.asarray(out.to_device(_cpu()) if hasattr(out, "to_device") else out)
        last = [len(s) - 1 for s in self._sequences]
        return np.ascontiguousarray(logits[np.arange(len(last)), last], dtype=np.float32)

    def start(self, prompts: Sequence[Sequence[int]], max_new_tokens: int) -> np.ndarray:
        self._sequences = [list(p) for p in prompts]
        return self._logits()

    def step(self, tokens: np.ndarray) -> np.ndarray:
        if self._sequences is None:
            raise RuntimeError("step() before start()")
        for seq, token in zip(self._sequences, np.asarray(tokens).tolist()):
            seq.append(int(token))
        return self._logits()

    def keep(self, rows: Sequence[int]) -> bool:
        if self._sequences is None:
            return False
        self._sequences = [self._sequences[r] for r in rows]
        return True


class CTranslate2Int8Engine(CTranslate2Engine):
    """CTranslate2 with INT8 weights (CPU ``int8``, CUDA ``int8_float16``)."""

    name = "ctranslate2-int8"
    int8 = True


def _cpu():
    import ctranslate2

    return ctranslate2.Device.cpu


def _vocabulary(folder: Path) -> list[str]:
    for name in ("vocabulary.json", "vocabulary.txt"):
        path = folder / name
        if path.is_file():
            if name.endswith(".json"):
                return list(json.loads(path.read_text(encoding="utf-8")))
            return path.read_text(encoding="utf-8").split("\n")[:-1]
    raise ModelError(f"CTranslate2 model {folder}: no vocabulary file (delete it to rebuild)")
