"""The decoding loop every engine shares: batches, sampling, stopping, timing.

An engine only turns token ids into logits (:class:`~codeaudit.generators.base.Engine`); this
module tokenizes prompts, groups them into batches, samples with a per-sequence seed, stops a
sequence at the end-of-text token or a stop sequence, and records what happened. The text a model
produced is returned untouched in :attr:`Generation.text`; cutting it at stop sequences is
:mod:`~codeaudit.generators.postprocess`'s job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, UsageError
from .base import Engine
from .postprocess import first_stop
from .sampling import choose, sequence_rng


@dataclass(frozen=True, kw_only=True)
class GenerationParams:
    """How to sample. ``temperature == 0`` is greedy decoding.

    >>> GenerationParams(n=2, temperature=0.0)
    Traceback (most recent call last):
    ...
    codeaudit.errors.UsageError: -n 2 draws identical samples when --temperature is 0 (greedy); give a temperature > 0
    """

    n: int = 1
    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    #: Generation of a sequence ends once its text contains one of these.
    stop: tuple[str, ...] = ()
    batch_size: int = 8

    def __post_init__(self) -> None:
        if self.n < 1:
            raise UsageError(f"-n must be at least 1, not {self.n}")
        if self.max_new_tokens < 1:
            raise UsageError(f"--max-new-tokens must be at least 1, not {self.max_new_tokens}")
        if self.temperature < 0:
            raise UsageError(f"--temperature must be >= 0, not {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise UsageError(f"--top-p must be in (0, 1], not {self.top_p}")
        if self.batch_size < 1:
            raise UsageError(f"--batch-size must be at least 1, not {self.batch_size}")
        if self.n > 1 and self.temperature == 0:
            raise UsageError(
                f"-n {self.n} draws identical samples when --temperature is 0 (greedy); give a temperature > 0"
            )


@dataclass(frozen=True, kw_only=True)
class Generation:
    """What one sample of one prompt produced, untouched, and how long it took."""

    prompt_index: int
    sample_index: int
    #: Generated token ids, ending before the end-of-text token.
    token_ids: tuple[int, ...]
    #: The generated ids decoded, exactly as produced (no stop sequences applied).
    text: str
    #: ``eos``, ``stop`` (a stop sequence appeared), ``length`` (--max-new-tokens) or ``context``.
    stop_reason: str
    prompt_tokens: int
    seed: int
    batch_size: int
    #: Time from the start of the batch to its first new tokens (the prompt pass).
    first_token_ms: float
    #: Mean time of one decoding step of the batch (one new token per sequence).
    ms_per_token: float
    #: Wall time of the whole batch.
    batch_ms: float

    def timings(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "new_tokens": len(self.token_ids),
            "first_token_ms": round(self.first_token_ms, 2),
            "ms_per_token": round(self.ms_per_token, 2),
            "batch_ms": round(self.batch_ms, 1),
            "batch_size": self.batch_size,
        }


class Tokenizer:
    """The model's tokenizer (transformers), with the few things decoding needs."""

    def __init__(self, hf_tokenizer, eos_token_id: int | None) -> None:
        self.hf = hf_tokenizer
        self.eos_token_id = eos_token_id
        self.vocab_size = len(hf_tokenizer)

    @classmethod
    def load(cls, source) -> Tokenizer:
        from transformers import AutoTokenizer

        from .base import ModelError

        try:
            tok = AutoTokenizer.from_pretrained(source.path)
        except Exception as exc:  # noqa: BLE001 - missing or broken tokenizer files
            text = (
                str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            )
            raise ModelError(f"model {source.spec}: cannot load its tokenizer: {text}") from None
        eos = (
            tok.eos_token_id if tok.eos_token_id is not None else source.config.get("eos_token_id")
        )
        return cls(tok, eos if isinstance(eos, int) else None)

    def encode(self, text: str) -> list[int]:
        return list(self.hf(text)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        return self.hf.decode(
            list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False
        )


def encode_prompts(
    tokenizer: Tokenizer,
    prompts: Sequence[str],
    *,
    context_length: int,
    names: Sequence[str] | None = None,
) -> list[list[int]]:
    """Token ids of every prompt; fails before any generation on an empty or too long prompt."""
    out = []
    for i, text in enumerate(prompts):
        name = names[i] if names else f"prompt {i + 1}"
        ids = tokenizer.encode(text)
        if not ids:
            raise InputError(f"{name}: the prompt is empty (no tokens)")
        if len(ids) >= context_length:
            raise InputError(
                f"{name}: {len(ids)} prompt tokens do not fit the model's context window of {context_length} tokens"
            )
        out.append(ids)
    return out


def generate(
    engine: Engine,
    tokenizer: Tokenizer,
    prompt_ids: Sequence[Sequence[int]],
    params: GenerationParams,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Generation]:
    """Sample ``params.n`` continuations of every prompt; results in (prompt, sample) order.

    Work is sorted by prompt length so that batches hold prompts of similar length (less padding);
    the per-sequence seeds make the samples independent of that grouping.
    """
    context = engine.info.context_length
    work = [(p, s) for p in range(len(prompt_ids)) for s in range(params.n)]
    work.sort(key=lambda ps: -len(prompt_ids[ps[0]]))
    results: dict[tuple[int, int], Generation] = {}
    total_tokens = len(work) * params.max_new_tokens
    done_tokens = 0
    for start in range(0, len(work), params.batch_size):
        batch = work[start : start + params.batch_size]
        for g in _generate_batch(engine, tokenizer, prompt_ids, batch, params, context):
            results[(g.prompt_index, g.sample_index)] = g
        done_tokens += len(batch) * params.max_new_tokens
        if progress:
            progress(min(done_tokens, total_tokens), total_tokens)
    return [results[key] for key in sorted(results)]


def _generate_batch(
    engine: Engine,
    tokenizer: Tokenizer,
    prompt_ids: Sequence[Sequence[int]],
    batch: Sequence[tuple[int, int]],
    params: GenerationParams,
    context: int,
) -> list[Generation]:
    prompts = [list(prompt_ids[p]) for p, _ in batch]
    room = context - max(len(p) for p in prompts)
    steps = min(params.max_new_tokens, room)
    rngs = [
        sequence_rng(seed=params.seed, prompt_index=p, sample_index=s)
        if params.temperature > 0
        else None
        for p, s in batch
    ]
    eos = tokenizer.eos_token_id
    pad = eos if eos is not None else 0
    max_stop = max((len(s) for s in params.stop), default=0)

    generated: list[list[int]] = [[] for _ in batch]
    texts = [""] * len(batch)
    reasons: list[str | None] = [None] * len(batch)
    started = time.perf_counter()
    logits = engine.start(prompts, steps)
    first_token_ms = 0.0
    decode_s = 0.0
    decode_steps = 0
    for t in range(steps):
        if logits.shape[-1] > tokenizer.vocab_size:
            # Embedding tables are padded past the tokenizer (CodeGen: 51200 rows for 50295
            # tokens); ids with no text are never chosen.
            logits = logits.copy()
            logits[:, tokenizer.vocab_size :] = -np.inf
        tokens = choose(logits, temperature=params.temperature, top_p=params.top_p, rngs=rngs)
        if t == 0:
            first_token_ms = (time.perf_counter() - started) * 1000
        for b, token in enumerate(tokens.tolist()):
            if reasons[b] is not None:
                tokens[b] = pad
                continue
            if eos is not None and token == eos:
                reasons[b] = "eos"
                continue
            generated[b].append(token)
            if params.stop:
                previous = len(texts[b])
                texts[b] = tokenizer.decode(generated[b])
                if first_stop(texts[b][max(0, previous - max_stop) :], params.stop) is not None:
                    reasons[b] = "stop"
        if all(r is not None for r in reasons) or t == steps - 1:
            break
        step_started = time.perf_counter()
        logits = engine.step(tokens)
        decode_s += time.perf_counter() - step_started
        decode_steps += 1
    batch_ms = (time.perf_counter() - started) * 1000
    ran_out = "context" if steps < params.max_new_tokens else "length"
    ms_per_token = decode_s * 1000 / decode_steps if decode_steps else 0.0
    out = []
    for b, (p, s) in enumerate(batch):
        ids = generated[b]
        out.append(
            Generation(
                prompt_index=p,
                sample_index=s,
                token_ids=tuple(ids),
                text=tokenizer.decode(ids),
                stop_reason=reasons[b] or ran_out,
                prompt_tokens=len(prompts[b]),
                seed=params.seed,
                batch_size=len(batch),
                first_token_ms=first_token_ms,
                ms_per_token=ms_per_token,
                batch_ms=batch_ms,
            )
        )
    return out


def teacher_forced_agreement(
    reference: Engine, candidate: Engine, prompt_ids: Sequence[Sequence[int]], max_new_tokens: int
) -> dict:
    """How often ``candidate`` picks the same greedy token as ``reference`` on the reference's path.

    The reference decodes greedily; at every position the candidate is fed the *same* prefix
    (the reference's tokens so far) and its own greedy choice is compared with the reference's.
    Unlike comparing two free-running outputs position by position, one early disagreement does
    not make every later position disagree, so the figure measures per-token fidelity.

    Returns ``{"tokens": compared, "agree": matches, "agreement": matches / compared,
    "identical_sequences": prompts whose whole greedy output matched}``.
    """
    compared = agree = identical = 0
    for ids in prompt_ids:
        ref_logits = reference.start([ids], max_new_tokens)
        cand_logits = candidate.start([ids], max_new_tokens)
        same = True
        for t in range(max_new_tokens):
            ref_token = int(np.argmax(ref_logits[0]))
            cand_token = int(np.argmax(cand_logits[0]))
            compared += 1
            agree += ref_token == cand_token
            same &= ref_token == cand_token
            if t == max_new_tokens - 1:
                break
            forced = np.array([ref_token], dtype=np.int64)
            ref_logits = reference.step(forced)
            cand_logits = candidate.step(forced)
        identical += same
    return {
        "tokens": compared,
        "agree": agree,
        "agreement": agree / compared if compared else 1.0,
        "identical_sequences": identical,
        "prompts": len(prompt_ids),
    }


@dataclass(frozen=True, kw_only=True)
class Row:
    """One sequence to decode with its own sampling settings (see :func:`decode_rows`)."""

    prompt_ids: tuple[int, ...]
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()


def decode_rows(
    engine: Engine,
    tokenizer: Tokenizer,
    rows: Sequence[Row],
    *,
    on_delta: Callable[[int, str], bool] | None = None,
) -> list[Generation]:
    """Decode rows of different lengths and settings as one batch; each row samples as it would
    alone (its own generator, seeded with ``row.seed``).

    ``on_delta(row_index, new_text)`` receives each row's new text as it is decoded (never a
    partial UTF-8 character); returning False cancels that row (it ends with ``cancelled``).
    Rows finish independently: a finished row's slot is fed padding until the batch ends.

    A small, naive version (one engine batch for all rows; the batch ends when its longest row
    does) kept to this signature for ``codeaudit serve``.
    """
    if not rows:
        return []
    context = engine.info.context_length
    prompts = [list(r.prompt_ids) for r in rows]
    room = context - max(len(p) for p in prompts)
    steps = max(1, min(max(r.max_new_tokens for r in rows), room))
    rngs = [sequence_rng(seed=r.seed, prompt_index=0, sample_index=0) for r in rows]
    eos = tokenizer.eos_token_id
    pad = eos if eos is not None else 0
    generated: list[list[int]] = [[] for _ in rows]
    texts = [""] * len(rows)
    sent = [0] * len(rows)
    reasons: list[str | None] = [None] * len(rows)
    started = time.perf_counter()
    logits = engine.start(prompts, steps)
    first_token_ms = 0.0
    decode_s = 0.0
    decode_steps = 0
    for t in range(steps):
        if logits.shape[-1] > tokenizer.vocab_size:
            logits = logits.copy()
            logits[:, tokenizer.vocab_size :] = -np.inf
        tokens = np.empty(len(rows), dtype=np.int64)
        for b, row in enumerate(rows):
            tokens[b] = choose(
                logits[b : b + 1],
                temperature=row.temperature,
                top_p=row.top_p,
                rngs=[rngs[b] if row.temperature > 0 else None],
            )[0]
        if t == 0:
            first_token_ms = (time.perf_counter() - started) * 1000
        for b, token in enumerate(tokens.tolist()):
            if reasons[b] is not None:
                tokens[b] = pad
                continue
            if eos is not None and token == eos:
                reasons[b] = "eos"
                continue
            generated[b].append(token)
            texts[b] = tokenizer.decode(generated[b])
            row = rows[b]
            if row.stop and first_stop(texts[b], row.stop) is not None:
                reasons[b] = "stop"
            elif len(generated[b]) >= row.max_new_tokens:
                reasons[b] = "length"
            if on_delta is not None and not texts[b].endswith("\ufffd"):
                new = texts[b][sent[b] :]
                sent[b] = len(texts[b])
                if new and on_delta(b, new) is False:
                    reasons[b] = "cancelled"
        if all(r is not None for r in reasons) or t == steps - 1:
            break
        step_started = time.perf_counter()
        logits = engine.step(tokens)
        decode_s += time.perf_counter() - step_started
        decode_steps += 1
    batch_ms = (time.perf_counter() - started) * 1000
    ms_per_token = decode_s * 1000 / decode_steps if decode_steps else 0.0
    out = []
    for b, row in enumerate(rows):
        if on_delta is not None and reasons[b] != "cancelled" and len(texts[b]) > sent[b]:
            on_delta(b, texts[b][sent[b] :])
        out.append(
            Generation(
                prompt_index=b,
                sample_index=0,
                token_ids=tuple(generated[b]),
                text=texts[b],
                stop_reason=reasons[b] or ("context" if steps < row.max_new_tokens else "length"),
                prompt_tokens=len(prompts[b]),
                seed=row.seed,
                batch_size=len(rows),
                first_token_ms=first_token_ms,
                ms_per_token=ms_per_token,
                batch_ms=batch_ms,
            )
        )
    return out
