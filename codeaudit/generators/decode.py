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
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError, UsageError
from .base import Engine
from .postprocess import first_stop
from .sampling import choose, sample_seed


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


#: What to do with a prompt longer than the context window minus the new tokens.
LONG_PROMPTS = ("cut", "skip", "fail")


@dataclass(frozen=True, kw_only=True)
class FittedPrompt:
    """A prompt's token ids as the model sees them, and whether (and how) it was shortened."""

    #: Token ids given to the model; ``None`` for a skipped prompt.
    ids: list[int] | None
    #: Tokens of the whole prompt.
    prompt_tokens: int
    #: ``None`` (the prompt fits), ``cut`` or ``skip``.
    action: str | None = None
    #: Whole lines dropped from the start (``cut``).
    dropped_lines: int = 0
    #: ``line`` when cut at a line boundary; ``token`` when even the last line alone was too long.
    boundary: str | None = None
    #: Tokens the model may see: the context window minus the requested new tokens.
    room: int = 0

    def meta(self) -> dict | None:
        """What goes into a suggestion's ``meta.prompt_fit`` (``None`` when the prompt fits)."""
        if self.action is None:
            return None
        out = {"action": self.action, "prompt_tokens": self.prompt_tokens, "room": self.room}
        if self.ids is not None:
            out |= {
                "model_prompt_tokens": len(self.ids),
                "dropped_lines": self.dropped_lines,
                "boundary": self.boundary,
            }
        return out

    def describe(self, name: str, context_length: int, max_new_tokens: int) -> str:
        """One line for standard error."""
        head = (
            f"{name}: {self.prompt_tokens} prompt tokens do not fit the {self.room} the model has "
            f"room for (context window {context_length} - {max_new_tokens} new tokens)"
        )
        if self.ids is None:
            return f"{head}; skipped"
        where = (
            f"its first {self.dropped_lines} line(s) dropped"
            if self.boundary == "line"
            else "cut inside its last line (no line boundary fits)"
        )
        return f"{head}; cut from the left to {len(self.ids)} tokens, {where}"


def fit_prompts(
    tokenizer: Tokenizer,
    prompts: Sequence[str],
    *,
    context_length: int,
    max_new_tokens: int,
    long_prompts: str = "cut",
    names: Sequence[str] | None = None,
) -> list[FittedPrompt]:
    """Token ids of every prompt, each fitted into ``context_length - max_new_tokens`` tokens.

    A longer prompt is cut from the left at a line boundary — the latest lines, which the
    completion continues, are kept — or skipped (``long_prompts="skip"``), or the run fails
    before any generation (``"fail"``). An empty prompt always fails.
    """
    if long_prompts not in LONG_PROMPTS:
        raise UsageError(
            f"--long-prompts must be one of {', '.join(LONG_PROMPTS)}, not {long_prompts!r}"
        )
    room = context_length - max_new_tokens
    out = []
    for i, text in enumerate(prompts):
        name = names[i] if names else f"prompt {i + 1}"
        ids = tokenizer.encode(text)
        if not ids:
            raise InputError(f"{name}: the prompt is empty (no tokens)")
        if len(ids) <= room:
            out.append(FittedPrompt(ids=ids, prompt_tokens=len(ids), room=room))
            continue
        if room < 1:
            raise UsageError(
                f"--max-new-tokens {max_new_tokens} leaves no room for a prompt in the "
                f"model's context window of {context_length} tokens"
            )
        if long_prompts == "fail":
            why = (
                f"the model's context window of {context_length} tokens"
                if len(ids) >= context_length
                else f"the {room} tokens the context window of {context_length} leaves beside "
                f"--max-new-tokens {max_new_tokens}"
            )
            raise InputError(f"{name}: {len(ids)} prompt tokens do not fit {why}")
        if long_prompts == "skip":
            out.append(FittedPrompt(ids=None, prompt_tokens=len(ids), action="skip", room=room))
            continue
        cut_ids, dropped, boundary = _cut_left(tokenizer, text, ids, room)
        out.append(
            FittedPrompt(
                ids=cut_ids,
                prompt_tokens=len(ids),
                action="cut",
                dropped_lines=dropped,
                boundary=boundary,
                room=room,
            )
        )
    return out


def _cut_left(
    tokenizer: Tokenizer, text: str, ids: list[int], room: int
) -> tuple[list[int], int, str]:
    """The longest suffix of ``text`` starting at a line that fits ``room`` tokens."""
    starts = [i + 1 for i, c in enumerate(text) if c == "\n" and i + 1 < len(text)]
    encoded: dict[int, list[int]] = {}

    def tokens_from(k: int) -> list[int]:
        if k not in encoded:
            encoded[k] = tokenizer.encode(text[starts[k] :])
        return encoded[k]

    # Fewer lines, fewer tokens: binary search for the first line start whose suffix fits.
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(tokens_from(mid)) <= room:
            hi = mid
        else:
            lo = mid + 1
    for k in range(lo, len(starts)):  # the count is not strictly monotone in every tokenizer
        if tokens_from(k) and len(tokens_from(k)) <= room:
            return tokens_from(k), k + 1, "line"
    return ids[-room:], text.count("\n"), "token"


def generate(
    engine: Engine,
    tokenizer: Tokenizer,
    prompt_ids: Sequence[Sequence[int]],
    params: GenerationParams,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Generation]:
    """Sample ``params.n`` continuations of every prompt; results in (prompt, sample) order.

    Work is sorted by prompt length so that batches hold prompts of similar length (less padding)
    and each batch is one :func:`decode_rows` call; every sample has its own seed, derived from
    ``(params.seed, prompt index, sample index)``, so the samples do not depend on that grouping.
    """
    work = [(p, s) for p in range(len(prompt_ids)) for s in range(params.n)]
    work.sort(key=lambda ps: -len(prompt_ids[ps[0]]))
    results: dict[tuple[int, int], Generation] = {}
    total_tokens = len(work) * params.max_new_tokens
    done_tokens = 0
    for start in range(0, len(work), params.batch_size):
        batch = work[start : start + params.batch_size]
        rows = [
            Row(
                prompt_ids=tuple(prompt_ids[p]),
                max_new_tokens=params.max_new_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                seed=sample_seed(seed=params.seed, prompt_index=p, sample_index=s),
                stop=params.stop,
            )
            for p, s in batch
        ]
        for (p, s), g in zip(batch, decode_rows(engine, tokenizer, rows)):
            results[(p, s)] = replace(g, prompt_index=p, sample_index=s, seed=params.seed)
        done_tokens += len(batch) * params.max_new_tokens
        if progress:
            progress(min(done_tokens, total_tokens), total_tokens)
    return [results[key] for key in sorted(results)]


@dataclass(frozen=True, kw_only=True)
class Row:
    """One request row of :func:`decode_rows`: a tokenised prompt and how to continue it."""

    prompt_ids: tuple[int, ...]
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    #: Seed of this row's own random generator (used when ``temperature > 0``).
    seed: int = 0
    #: The row ends once its text contains one of these.
    stop: tuple[str, ...] = ()


class _RowState:
    """Bookkeeping of one row while it decodes: its tokens, text, deltas and why it ended."""

    def __init__(self, index: int, row: Row, budget: int, tokenizer: Tokenizer, on_delta) -> None:
        self.index = index
        self.row = row
        self.budget = budget
        self.tokenizer = tokenizer
        self.on_delta = on_delta
        self.rng = (
            np.random.default_rng(row.seed & 0xFFFFFFFFFFFFFFFF) if row.temperature > 0 else None
        )
        self.ids: list[int] = []
        self.text = ""
        self.emitted = 0
        self.reason: str | None = None
        self.max_stop = max((len(s) for s in row.stop), default=0)

    def choose(self, logits: np.ndarray) -> int:
        if self.row.temperature <= 0:
            return int(np.argmax(logits))
        return int(
            choose(
                logits[None, :],
                temperature=self.row.temperature,
                top_p=self.row.top_p,
                rngs=[self.rng],
            )[0]
        )

    def push(self, token: int) -> bool:
        """Record ``token``; True when the row has ended (eos, stop, length, context, cancel)."""
        eos = self.tokenizer.eos_token_id
        if eos is not None and token == eos:
            return self._end("eos")
        self.ids.append(token)
        if self.row.stop or self.on_delta is not None:
            previous = len(self.text)
            self.text = self.tokenizer.decode(self.ids)
            if (
                self.row.stop
                and first_stop(self.text[max(0, previous - self.max_stop) :], self.row.stop)
                is not None
            ):
                return self._end("stop")
            if self.on_delta is not None:
                # An incomplete UTF-8 sequence decodes to U+FFFD: hold it back until it completes.
                ready = len(self.text.rstrip("\ufffd"))
                if ready > self.emitted:
                    delta = self.text[self.emitted : ready]
                    self.emitted = ready
                    if self.on_delta(self.index, delta) is False:
                        self.reason = "cancel"
                        return True
        if len(self.ids) >= self.budget:
            return self._end("context" if self.budget < self.row.max_new_tokens else "length")
        return False

    def _end(self, reason: str) -> bool:
        self.reason = reason
        if self.on_delta is not None:
            text = self.tokenizer.decode(self.ids)
            if len(text) > self.emitted:
                delta = text[self.emitted :]
                self.emitted = len(text)
                self.on_delta(self.index, delta)
        return True


def decode_rows(
    engine: Engine,
    tokenizer: Tokenizer,
    rows: Sequence[Row],
    *,
    on_delta: Callable[[int, str], bool] | None = None,
) -> list[Generation]:
    """Decode ``rows`` — prompts of any lengths, each with its own settings — as one batch.

    Each row samples from its own logits with its own temperature, top-p and random generator
    (seeded with ``row.seed``), so a row gives the same output as decoded alone (exactly so on
    the float32 engines; INT8 engines quantise activations per batch). ``on_delta(row, text)``
    is called with each row's new decoded text as it arrives (the deltas of a row concatenate to
    its :attr:`Generation.text`; an incomplete UTF-8 sequence is held back until complete);
    returning ``False`` cancels that row (``stop_reason`` ``cancel``). Rows end independently
    (``eos``, ``stop``, ``length``, ``context``, ``cancel``); an ended row is dropped from the
    engine's batch (:meth:`Engine.keep`) so it stops costing compute, or, on an engine that cannot
    drop rows, is fed padding until the batch ends. Results are in the order of ``rows``.
    """
    if not rows:
        return []
    context = engine.info.context_length
    states = []
    for i, row in enumerate(rows):
        if not row.prompt_ids:
            raise InputError(f"row {i}: the prompt is empty (no tokens)")
        if len(row.prompt_ids) >= context:
            raise InputError(
                f"row {i}: {len(row.prompt_ids)} prompt tokens do not fit the model's context window of {context} tokens"
            )
        GenerationParams(
            max_new_tokens=row.max_new_tokens, temperature=row.temperature, top_p=row.top_p
        )
        budget = min(row.max_new_tokens, context - len(row.prompt_ids))
        states.append(_RowState(i, row, budget, tokenizer, on_delta))
    prompts = [list(r.prompt_ids) for r in rows]
    started = time.perf_counter()
    clock = {"first_ms": 0.0, "decode_s": 0.0, "steps": 0}
    native = getattr(engine, "decode_rows_natively", None)
    # An engine that owns its decoding loop (CTranslate2) decodes the greedy rows itself; rows
    # that sample go through the logits, so that every engine samples alike from a row's seed.
    native_rows = (
        [i for i, r in enumerate(rows) if r.temperature <= 0] if native is not None else []
    )
    loop_rows = [i for i in range(len(rows)) if i not in set(native_rows)]
    if native_rows:

        def on_token(j: int, token: int) -> bool:
            if not clock["first_ms"]:
                clock["first_ms"] = (time.perf_counter() - started) * 1000
            return states[native_rows[j]].push(token)

        native_started = time.perf_counter()
        clock["steps"] += native(
            [rows[i] for i in native_rows],
            [states[i].budget for i in native_rows],
            on_token,
            tokenizer.eos_token_id,
        )
        clock["decode_s"] += max(
            0.0, time.perf_counter() - native_started - clock["first_ms"] / 1000
        )
        for i in native_rows:
            if states[i].reason is None:  # the engine ended the row (its end token or length)
                states[i]._end("length" if len(states[i].ids) >= states[i].budget else "eos")
    if loop_rows:
        _decode_loop(engine, tokenizer, [states[i] for i in loop_rows], started, clock)
    first_token_ms, decode_s, decode_steps = clock["first_ms"], clock["decode_s"], clock["steps"]
    batch_ms = (time.perf_counter() - started) * 1000
    ms_per_token = decode_s * 1000 / decode_steps if decode_steps else 0.0
    return [
        Generation(
            prompt_index=i,
            sample_index=0,
            token_ids=tuple(s.ids),
            text=tokenizer.decode(s.ids),
            stop_reason=s.reason or "length",
            prompt_tokens=len(prompts[i]),
            seed=s.row.seed,
            batch_size=len(rows),
            first_token_ms=first_token_ms,
            ms_per_token=ms_per_token,
            batch_ms=batch_ms,
        )
        for i, s in enumerate(states)
    ]


def _decode_loop(
    engine: Engine, tokenizer: Tokenizer, states: list[_RowState], started: float, clock: dict
) -> None:
    """Decode ``states`` as one batch through :meth:`Engine.start` / :meth:`Engine.step`."""
    prompts = [list(s.row.prompt_ids) for s in states]
    width = max(len(p) for p in prompts)
    extra = max(len(p) + s.budget for p, s in zip(prompts, states)) - width
    vocab = tokenizer.vocab_size
    pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    live = list(range(len(states)))  # engine batch position -> index into states
    can_drop = True
    logits = engine.start(prompts, extra)
    while True:
        tokens = np.full(len(live), pad, dtype=np.int64)
        for b, i in enumerate(live):
            s = states[i]
            if s.reason is not None:
                continue
            row_logits = logits[b]
            if row_logits.shape[-1] > vocab:
                # Embedding tables are padded past the tokenizer (CodeGen: 51200 rows for
                # 50295 tokens); ids with no text are never chosen.
                row_logits = row_logits[:vocab]
            tokens[b] = s.choose(row_logits)
        if not clock["first_ms"]:
            clock["first_ms"] = (time.perf_counter() - started) * 1000
        for b, i in enumerate(live):
            if states[i].reason is None:
                states[i].push(int(tokens[b]))
        still = [b for b, i in enumerate(live) if states[i].reason is None]
        if not still:
            return
        if can_drop and len(still) < len(live):
            if engine.keep(still):
                live = [live[b] for b in still]
                tokens = tokens[still]
            else:
                can_drop = False
        step_started = time.perf_counter()
        logits = engine.step(tokens)
        clock["decode_s"] += time.perf_counter() - step_started
        clock["steps"] += 1


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
