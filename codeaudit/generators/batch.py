"""From prompts to a suggestion batch (the contract ``codeaudit audit`` and ``codeaudit eval`` read).

Each suggestion carries the post-processed ``completion`` (cut at the stop sequences) and, in
``meta``, everything needed to reproduce and judge it: the raw model output untouched, the
engine and its settings, the sampling parameters with the seed, and the timings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .base import EngineOptions, load_engine, require_extra
from .decode import GenerationParams, Tokenizer, fit_prompts, generate
from .postprocess import truncate_at_stops
from .prompts import Prompt

#: ``--model tiny``: the offline tiny model (trained on first use, then cached).
TINY = "tiny"


def resolve(model: str, options: EngineOptions):
    """A ModelSource for ``model``: a folder, a hub id, or ``tiny``."""
    from pathlib import Path

    from .source import resolve_model

    if model == TINY and not Path(model).exists():
        from .tiny import tiny_model

        if options.status:
            options.status("preparing the tiny model (trained once, then cached)")
        return resolve_model(str(tiny_model(options.cache_dir, status=options.status)))
    return resolve_model(model)


def generate_suggestions(
    prompts: Sequence[Prompt],
    *,
    model: str,
    engine: str,
    params: GenerationParams,
    options: EngineOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    long_prompts: str = "cut",
    notice: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Generate ``params.n`` suggestions per prompt; returns batch-contract records.

    Every prompt is tokenised and fitted to the context window before the engine loads: a prompt
    longer than the window minus ``params.max_new_tokens`` is cut from the left at a line
    boundary (``long_prompts="cut"``), skipped (``"skip"``: no suggestion for it) or fails the
    run (``"fail"``); each cut or skipped prompt is named once through ``notice`` and marked in
    its suggestions' ``meta.prompt_fit``. The suggestion's ``prompt`` is always the whole
    original prompt.
    """
    require_extra(engine)
    options = options or EngineOptions()
    source = resolve(model, options)
    tokenizer = Tokenizer.load(source)
    names = [f"prompt '{p.id}'" for p in prompts]
    fitted = fit_prompts(
        tokenizer,
        [p.text for p in prompts],
        context_length=source.context_length,
        max_new_tokens=params.max_new_tokens,
        long_prompts=long_prompts,
        names=names,
    )
    if notice:
        for name, f in zip(names, fitted):
            if f.action:
                notice(f.describe(name, source.context_length, params.max_new_tokens))
    kept = [i for i, f in enumerate(fitted) if f.ids is not None]
    loaded = load_engine(engine, source, options)
    generations = generate(
        loaded, tokenizer, [fitted[i].ids for i in kept], params, progress=progress
    )
    engine_meta = loaded.info.to_dict()
    sampling = {
        "seed": params.seed,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "max_new_tokens": params.max_new_tokens,
        "n": params.n,
        "stop": list(params.stop),
    }
    out = []
    for g in generations:
        index = kept[g.prompt_index]
        prompt = prompts[index]
        sid = prompt.id if params.n == 1 else f"{prompt.id}/sample-{g.sample_index}"
        record: dict[str, Any] = {
            "id": sid,
            "prompt": prompt.text,
            "completion": truncate_at_stops(g.text, params.stop),
        }
        for name in ("language", "path", "task_id", "tests", "entry_point"):
            value = getattr(prompt, name)
            if value is not None:
                record[name] = value
        record["model"] = model
        meta: dict[str, Any] = {
            "engine": engine_meta,
            "sampling": {**sampling, "sample_index": g.sample_index},
            "timings": g.timings(),
            "stop_reason": g.stop_reason,
            "raw": g.text,
        }
        fit = fitted[index].meta()
        if fit:
            meta["prompt_fit"] = fit
        if prompt.meta:
            meta["prompt_meta"] = prompt.meta
        record["meta"] = meta
        out.append(record)
    return out
