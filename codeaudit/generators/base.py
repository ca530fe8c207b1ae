"""The engine interface, its registry, and the records that flow through generation.

An engine is a causal language model loaded for decoding. It has two methods:

* :meth:`Engine.start` runs a batch of prompts (token ids) and returns the logits of the next
  token of each, and
* :meth:`Engine.step` appends one token per sequence and returns the next logits.

Everything else — tokenizing, sampling with a seed, stop sequences, timing, batching — lives
outside the engines (:mod:`codeaudit.generators.decode`), so every backend samples the same way
from the same logits and a new backend is two methods plus a ``load`` constructor.

Backends are found by name in :data:`ENGINES` (built-ins) and the ``codeaudit.engines`` entry-point
group (plug-ins). torch, transformers, optimum and onnxruntime are imported only inside the
engine modules, never here.

>>> sorted(ENGINES)
['ctranslate2', 'ctranslate2-int8', 'onnx', 'onnx-int4', 'onnx-int8', 'torch', 'torch-int8']
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import UsageError
from .errors import MissingExtraError, ModelError  # noqa: F401 - re-exported

if TYPE_CHECKING:
    import numpy as np

    from .source import ModelSource

#: Built-in engines: name -> "module:Class" (imported only when used).
ENGINES: dict[str, str] = {
    "torch": "codeaudit.generators.torch_engine:TorchEngine",
    "torch-int8": "codeaudit.generators.torch_engine:TorchInt8Engine",
    "onnx": "codeaudit.generators.onnx_engine:OnnxEngine",
    "onnx-int8": "codeaudit.generators.onnx_engine:OnnxInt8Engine",
    "onnx-int4": "codeaudit.generators.onnx_engine:OnnxInt4Engine",
    "ctranslate2": "codeaudit.generators.ct2_engine:CTranslate2Engine",
    "ctranslate2-int8": "codeaudit.generators.ct2_engine:CTranslate2Int8Engine",
}
ENTRY_POINT_GROUP = "codeaudit.engines"


#: The libraries each family of engines imports (plug-in engines: the torch family's).
_NEEDS = {
    "torch": ("torch", "transformers"),
    "onnx": ("torch", "transformers", "onnxruntime", "optimum"),
    "ctranslate2": ("torch", "transformers", "ctranslate2"),
}


def require_extra(engine: str | None = None) -> None:
    """Fail with one clear line when the ``generate`` extra's libraries for ``engine`` are missing.

    ``None`` asks for the libraries every built-in engine needs but CTranslate2 (a machine with
    PyTorch and transformers only — a GPU box, say — runs the ``torch`` engine).
    """
    from importlib.util import find_spec

    family = (
        "all"
        if engine is None
        else next((f for f in ("onnx", "ctranslate2") if engine.startswith(f)), "torch")
    )
    wanted = _NEEDS.get(family, ("torch", "transformers", "onnxruntime", "optimum"))
    missing = [m for m in wanted if find_spec(m) is None]
    if missing:
        raise MissingExtraError(
            f"generation needs the 'generate' extra ({', '.join(missing)} not installed): "
            "pip install 'codeaudit[generate]'"
        )


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """How to load an engine. ``None`` means "the engine decides"."""

    #: Intra-op threads. Decoding one sequence is bound by memory bandwidth, so more threads help
    #: only as far as one core cannot saturate the memory bus.
    threads: int | None = None
    #: ``auto`` (CUDA when available for the torch engine), ``cpu`` or ``cuda``.
    device: str = "auto"
    #: ONNX graph: ``auto`` (the fused CodeGen graph for CodeGen checkpoints, else Optimum's
    #: export), ``optimum`` or ``codegen``.
    graph: str = "auto"
    #: Where exported ONNX models are kept (default: the user cache folder).
    cache_dir: Path | None = None
    #: Called with one-line status messages during slow steps (export, quantisation).
    status: Callable[[str], None] | None = None


@dataclass(frozen=True, kw_only=True)
class EngineInfo:
    """What was loaded and how; recorded in every suggestion's ``meta.engine``."""

    engine: str
    model: str
    device: str
    precision: str
    threads: int | None
    load_s: float
    #: Bytes of the weight files the engine runs from (the ONNX file for ONNX engines).
    model_bytes: int
    #: Bytes of weights read to decode one token (every matrix once, one embedding row): the
    #: numerator of the memory-bandwidth bound.
    weight_bytes_per_token: int
    context_length: int
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.engine,
            "device": self.device,
            "precision": self.precision,
            "threads": self.threads,
            "load_s": round(self.load_s, 3),
            "model_bytes": self.model_bytes,
            **dict(self.details),
        }


class Engine(ABC):
    """A causal LM loaded for decoding: token ids in, next-token logits out.

    Logits are float32 numpy arrays of shape ``(batch, vocab)``. An engine holds the state of
    one batch at a time: :meth:`start` begins a new batch and :meth:`step` extends it.
    """

    name: ClassVar[str]

    def __init__(self, info: EngineInfo) -> None:
        self.info = info

    @classmethod
    @abstractmethod
    def load(cls, model: ModelSource, options: EngineOptions) -> Engine:
        """Load ``model`` (exporting or quantising it first when the engine needs that)."""

    @abstractmethod
    def start(self, prompts: Sequence[Sequence[int]], max_new_tokens: int) -> np.ndarray:
        """Run a batch of prompts; return the logits of each prompt's next token."""

    @abstractmethod
    def step(self, tokens: np.ndarray) -> np.ndarray:
        """Append ``tokens`` (one id per sequence, shape ``(batch,)``); return the next logits."""

    def keep(self, rows: Sequence[int]) -> bool:
        """Keep only ``rows`` (ascending positions in the current batch) for the next steps.

        Later :meth:`step` calls take (and return) one row per kept sequence, in that order.
        Returns ``False`` when the engine cannot drop rows; the decoding loop then keeps feeding
        ended rows padding until the whole batch ends. Built-in engines drop rows.
        """
        return False


def engine_names() -> list[str]:
    """Built-in and plug-in engine names."""
    return sorted({*ENGINES, *_plugin_engines()})


def chosen_engine(name: str) -> str:
    """``name``, or for ``auto``: ``torch`` where PyTorch sees a CUDA GPU, else ``onnx-int8``."""
    if name != "auto":
        return name
    import torch

    return "torch" if torch.cuda.is_available() else "onnx-int8"


def _plugin_engines() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under ``name``."""
    from importlib import import_module

    target = ENGINES.get(name) or _plugin_engines().get(name)
    if target is None:
        raise UsageError(f"unknown engine '{name}' (one of: {', '.join(engine_names())})")
    module_name, _, attr = target.partition(":")
    cls = getattr(import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Engine)):
        raise UsageError(f"engine '{name}' ({target}) is not an Engine subclass")
    return cls


def load_engine(
    name: str, model: str | Path | ModelSource, options: EngineOptions | None = None
) -> Engine:
    """Load engine ``name`` on ``model`` (a local folder, a hub id, or a resolved source).

    >>> from codeaudit.generators import load_engine, tiny_model  # doctest: +SKIP
    >>> engine = load_engine("onnx-int8", tiny_model())  # doctest: +SKIP
    >>> engine.info.precision  # doctest: +SKIP
    'int8'
    """
    from .source import ModelSource, resolve_model

    require_extra(name)
    cls = engine_class(name)
    source = model if isinstance(model, ModelSource) else resolve_model(model)
    return cls.load(source, options or EngineOptions())


def chosen_threads(threads: int | None) -> int:
    """``threads`` or, when unset, every core this process may run on."""
    import os

    if threads is not None:
        if threads < 1:
            raise UsageError(f"--threads must be at least 1, not {threads}")
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' and PyTorch's chatter (we report problems ourselves, in one line)."""
    import warnings

    from transformers.utils import logging

    previous = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.set_verbosity(previous)


def file_bytes(paths: Sequence[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())
