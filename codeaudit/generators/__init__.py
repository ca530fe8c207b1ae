"""The generation layer (optional extra ``codeaudit[generate]``), installed as ``codeaudit.generators``.

Engines — ``torch`` (CUDA float16 or CPU float32), ``torch-int8``, ``onnx`` and ``onnx-int8`` —
sit behind one two-method interface (:class:`Engine`: ``start`` and ``step``) and come from a
registry (:data:`ENGINES`, plus the ``codeaudit.engines`` entry-point group). torch,
transformers, optimum and onnxruntime are imported only inside the engine modules, so importing
this package costs nothing.

>>> from codeaudit.generators import GenerationParams, generate_suggestions, read_prompts  # doctest: +SKIP
>>> batch = generate_suggestions(read_prompts("prompts.jsonl"), model="tiny", engine="onnx-int8",
...                              params=GenerationParams(max_new_tokens=64, seed=1))  # doctest: +SKIP
>>> batch[0]["meta"]["raw"] is not None  # doctest: +SKIP
True
"""

from __future__ import annotations

from ..lazy import lazy_names

__all__ = [
    "ENGINES",
    "Engine",
    "EngineInfo",
    "EngineOptions",
    "GenerationParams",
    "Generation",
    "ModelError",
    "Prompt",
    "Row",
    "decode_rows",
    "engine_names",
    "fit_prompts",
    "generate",
    "generate_suggestions",
    "humaneval_prompts",
    "load_engine",
    "read_prompts",
    "resolve_model",
    "teacher_forced_agreement",
    "tiny_model",
    "truncate_at_stops",
    "HUMANEVAL_STOPS",
]

_LAZY = {
    "ENGINES": "base",
    "Engine": "base",
    "EngineInfo": "base",
    "EngineOptions": "base",
    "ModelError": "base",
    "engine_names": "base",
    "load_engine": "base",
    "GenerationParams": "decode",
    "Generation": "decode",
    "generate": "decode",
    "Row": "decode",
    "decode_rows": "decode",
    "fit_prompts": "decode",
    "teacher_forced_agreement": "decode",
    "generate_suggestions": "batch",
    "Prompt": "prompts",
    "read_prompts": "prompts",
    "humaneval_prompts": "prompts",
    "resolve_model": "source",
    "tiny_model": "tiny",
    "truncate_at_stops": "postprocess",
    "HUMANEVAL_STOPS": "postprocess",
}


__getattr__, __dir__ = lazy_names(globals(), {k: f".{v}" for k, v in _LAZY.items()}, __all__)
