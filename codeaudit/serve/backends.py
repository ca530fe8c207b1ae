"""Where completions come from: one model in memory behind a batching scheduler, or a replay file.

Requests become :class:`Job` objects. A single scheduler thread takes every job waiting when the
engine is free (up to ``max_batch`` sequences) and decodes them together as one batch
(:func:`codeaudit.generators.decode_rows`); the engine is therefore only ever used from that
thread. At most ``queue_size`` jobs may wait; :meth:`Backend.submit` refuses more with
:class:`QueueFull`. A job that is cancelled (its client went away, its time ran out, or the
auditor blocked it) stops being decoded at the next token.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError


class QueueFull(Exception):
    """More jobs wait than the queue admits."""


class PromptTooLong(Exception):
    """The prompt does not fit the context and the server is set to refuse such prompts."""


@dataclass
class Job:
    """One request's work: ``n`` choices of one prompt."""

    prompt: str
    suffix: str
    n: int
    max_tokens: int
    temperature: float
    top_p: float
    seed: int
    stop: tuple[str, ...]
    #: Called from the scheduler thread with (choice index, new text); False cancels the choice.
    on_delta: Callable[[int, str], bool] | None = None
    #: Called from the scheduler thread once, with the choices' (text, finish_reason, tokens) or
    #: an error.
    on_done: Callable[[list[tuple[str, str, int]] | None, BaseException | None], None] | None = None
    prompt_ids: list[int] | None = None
    prompt_tokens: int = 0
    cut_tokens: int = 0
    cancelled: bool = False
    choice_cancelled: list[bool] = field(default_factory=list)
    queued_at: float = field(default_factory=time.monotonic)

    def cancel(self) -> None:
        self.cancelled = True


class Backend:
    """The scheduler: a thread that runs waiting jobs in batches."""

    name = "backend"
    model_name = "model"
    context_length = 2048

    def __init__(self, *, queue_size: int = 32, max_batch: int = 16) -> None:
        self.queue_size = queue_size
        self.max_batch = max_batch
        self._waiting: deque[Job] = deque()
        self._cond = threading.Condition()
        self._running = 0
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="codeaudit-decode", daemon=True)
        self._thread.start()

    # -- admission ----------------------------------------------------------------------------
    def prepare(self, job: Job, *, cut: bool = True) -> None:
        """Check and tokenize the prompt before the job is queued (raises PromptTooLong)."""

    def submit(self, job: Job) -> None:
        with self._cond:
            if len(self._waiting) >= self.queue_size:
                raise QueueFull
            job.choice_cancelled = [False] * job.n
            self._waiting.append(job)
            self._cond.notify()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def running(self) -> int:
        return self._running

    def close(self) -> None:
        with self._cond:
            self._stop = True
            for job in self._waiting:
                job.cancel()
            self._cond.notify_all()
        self._thread.join(timeout=5)

    # -- the scheduler thread -----------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                batch: list[Job] = []
                rows = 0
                while self._waiting:
                    job = self._waiting[0]
                    if job.cancelled:
                        self._waiting.popleft()
                        _done(job, None, None)
                        continue
                    if batch and rows + job.n > self.max_batch:
                        break
                    batch.append(self._waiting.popleft())
                    rows += job.n
                self._running = len(batch)
            if batch:
                try:
                    self._run(batch)
                except BaseException as exc:  # noqa: BLE001 - reported to each job, never lost
                    for job in batch:
                        _done(job, None, exc)
            self._running = 0

    def _run(self, jobs: list[Job]) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "model": self.model_name}


def _done(job: Job, results, error) -> None:
    if job.on_done is not None:
        job.on_done(results, error)


def _emit(job: Job, index: int, text: str) -> bool:
    if job.cancelled or job.choice_cancelled[index]:
        return False
    if job.on_delta is None:
        return True
    keep = job.on_delta(index, text)
    if keep is False:
        job.choice_cancelled[index] = True
        return False
    return True


class ModelBackend(Backend):
    """A model loaded once, decoded in batches with ``decode_rows``."""

    def __init__(
        self,
        model: str,
        engine: str,
        *,
        threads: int | None = None,
        queue_size: int = 32,
        max_batch: int = 16,
        status: Callable[[str], None] | None = None,
    ) -> None:
        from ..generators.base import (
            EngineOptions,
            chosen_engine,
            engine_names,
            load_engine,
            require_extra,
        )
        from ..generators.batch import resolve
        from ..generators.decode import Tokenizer

        require_extra()
        name = chosen_engine(engine)
        if name not in engine_names():
            raise UsageError(
                f"--engine: unknown engine '{name}' (one of: auto, replay:FILE, "
                f"{', '.join(engine_names())})"
            )
        options = EngineOptions(threads=threads, status=status)
        source = resolve(model, options)
        self.tokenizer = Tokenizer.load(source)
        # Requests are tokenized on the server's event loop while the scheduler thread decodes:
        # each thread gets its own tokenizer (a fast tokenizer is not safe to share across them).
        self.request_tokenizer = Tokenizer.load(source)
        self.engine = load_engine(name, source, options)
        self.name = name
        self.model_name = model
        self.context_length = self.engine.info.context_length
        super().__init__(queue_size=queue_size, max_batch=max_batch)

    def prepare(self, job: Job, *, cut: bool = True) -> None:
        from ..generators.decode import fit_prompts

        tok = self.request_tokenizer
        ids = tok.encode(job.prompt) if job.prompt else []
        if not ids:
            eos = tok.eos_token_id
            ids = [eos if eos is not None else 0]
        job.prompt_tokens = len(ids)
        room = self.context_length - job.max_tokens
        if len(ids) > room:
            if not cut:
                raise PromptTooLong(
                    f"the prompt has {len(ids)} tokens; with max_tokens {job.max_tokens} the "
                    f"model's context of {self.context_length} tokens leaves room for {max(room, 0)}"
                )
            # Cut from the left at a line boundary, exactly as ``codeaudit generate`` does.
            (fitted,) = fit_prompts(
                tok, [job.prompt], context_length=self.context_length, max_new_tokens=job.max_tokens
            )
            job.cut_tokens = len(ids) - len(fitted.ids)
            ids = list(fitted.ids)
        job.prompt_ids = ids

    def _run(self, jobs: list[Job]) -> None:
        from ..generators import Row, decode_rows

        rows = []
        owners: list[tuple[Job, int]] = []
        for job in jobs:
            for i in range(job.n):
                rows.append(
                    Row(
                        prompt_ids=tuple(job.prompt_ids or ()),
                        max_new_tokens=job.max_tokens,
                        temperature=job.temperature,
                        top_p=job.top_p,
                        # The choices of a request with seed s draw with seeds s, s + 1, ...
                        seed=job.seed + i,
                        stop=job.stop,
                    )
                )
                owners.append((job, i))

        def on_delta(row: int, text: str) -> bool:
            job, i = owners[row]
            return _emit(job, i, text)

        generations = decode_rows(self.engine, self.tokenizer, rows, on_delta=on_delta)
        by_job: dict[int, list[tuple[str, str, int]]] = {}
        for (job, _i), g in zip(owners, generations):
            reason = "stop" if g.stop_reason in ("eos", "stop") else g.stop_reason
            by_job.setdefault(id(job), []).append((g.text, reason, len(g.token_ids)))
        for job in jobs:
            _done(job, by_job.get(id(job), []), None)

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "model": self.model_name, **self.engine.info.to_dict()}


class ReplayBackend(Backend):
    """Answers from recorded suggestions (the batch contract), matched by exact prompt and suffix.

    A prompt that was recorded several times answers its recordings in order, one per choice,
    cycling. Other prompts get an empty completion. Streaming sends the recorded text in small
    pieces, as a model would. ``max_tokens`` is not applied (the recording is the answer).
    """

    name = "replay"

    def __init__(self, path: str | Path, *, queue_size: int = 32, max_batch: int = 16) -> None:
        self.path = Path(path)
        self.model_name = f"replay:{self.path.name}"
        self.answers: dict[tuple[str, str], list[str]] = {}
        self._read()
        super().__init__(queue_size=queue_size, max_batch=max_batch)

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise InputError(f"--engine replay:{self.path}: cannot read: {exc.strerror}") from None
        for number, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            where = f"{self.path}:{number}"
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise InputError(f"{where}: not a JSON object (malformed JSON)") from None
            if not isinstance(record, dict):
                raise InputError(f"{where}: not a JSON object")
            for key in ("completion", "prompt", "suffix"):
                value = record.get(key, "" if key != "completion" else None)
                if not isinstance(value, str):
                    raise InputError(f"{where}: field '{key}': must be a string")
            key = (record.get("prompt", ""), record.get("suffix", ""))
            self.answers.setdefault(key, []).append(record["completion"])
        if not self.answers:
            raise InputError(f"--engine replay:{self.path}: no recorded suggestions")

    def _run(self, jobs: list[Job]) -> None:
        from ..generators.postprocess import first_stop

        for job in jobs:
            recorded = self.answers.get((job.prompt, job.suffix), [""])
            results = []
            for i in range(job.n):
                text = recorded[i % len(recorded)]
                reason = "stop"
                cut = first_stop(text, job.stop) if job.stop else None
                if cut is not None:
                    text = text[:cut]
                for piece in _pieces(text):
                    if not _emit(job, i, piece):
                        reason = "cancelled"
                        break
                results.append((text, reason, 0))
            _done(job, results, None)


def _pieces(text: str, size: int = 12) -> Sequence[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]
