"""The auditing side of the server: one set of auditors for every request, and the streaming gate.

:class:`Auditing` owns the auditor instances (built once, reused; an audit runs on one dedicated
thread, so auditors never see two suggestions at once) and turns a choice into an
:class:`~codeaudit.model.AuditResult` plus the policy's :class:`~codeaudit.serve.policy.Decision`.

:class:`LineGate` is the streaming auditor of one choice. Text goes out line by line, only once
the line is complete and the text so far has been audited; while a memorization finding could
still block, the last ``hold_chars`` characters of complete lines (the corpus matcher's minimum
span) are held back; the incomplete last line is released only when the choice ends. A blocking
finding ends the choice: nothing more is released and it finishes with ``content_filter``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..config import Config
from ..model import AuditResult, Suggestion
from ..pipeline import audit
from ..registry import load_auditor_class
from .policy import Action, Decision, Policy

#: The auditors a server runs by default: the tests auditor needs tests, which requests lack.
SERVE_AUDITORS = ("privacy", "security", "memorization")
#: Prompt characters given to the auditors as context (the rest of the prompt is not read).
PROMPT_CONTEXT_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Audited:
    result: AuditResult | None
    decision: Decision
    seconds: float


class Auditing:
    """Auditor instances built once; ``check`` audits choices on the dedicated audit thread."""

    def __init__(
        self, config: Config, policy: Policy, auditors: Sequence[str] | None = None, *, on=True
    ) -> None:
        self.config = config
        self.policy = policy
        self.enabled = on
        names = [a for a in (auditors or config.auditors) if a != "tests"] if on else []
        if auditors is None and on:
            names = [a for a in names if a in SERVE_AUDITORS] or list(SERVE_AUDITORS)
        self.names = tuple(names)
        self.instances = [load_auditor_class(n)(config) for n in self.names]
        for instance in self.instances:
            # What an auditor describes (versions, corpora, thresholds) is fixed for its life;
            # the pipeline asks on every audit, and the privacy and security auditors read package
            # metadata to answer (half of a choice's audit time). Asked once here instead.
            described = instance.describe()
            instance.describe = lambda described=described: described  # type: ignore[method-assign]
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codeaudit-audit")
        self._pending: list[tuple[list, asyncio.Future, asyncio.AbstractEventLoop]] = []
        self._lock = threading.Lock()
        self._scheduled = False
        self.hold_chars = 0
        if "memorization" in self.names and policy.may_block_copies():
            from ..corpus.thresholds import Thresholds

            options = {
                k: v
                for k, v in config.auditor_options("memorization").items()
                if k in ("min_chars",)
            }
            self.hold_chars = int(options.get("min_chars", Thresholds().min_chars))

    def warm(self) -> None:
        """Load what the auditors load lazily (bandit, detect-secrets, the corpus index)."""
        self.check([("def f(path):\n    return open('/tmp/x').read()\n", "", "", None)])

    def check(self, choices: Sequence[tuple[str, str, str, str | None]]) -> list[Audited]:
        """Audit ``(completion, prompt, suffix, language)`` choices together; blocking call."""
        started = time.perf_counter()
        if not self.instances:
            return [
                Audited(None, Decision(action=Action.PASS, text=c, findings=()), 0.0)
                for c, *_ in choices
            ]
        suggestions = [
            Suggestion(
                id=f"choice-{i}",
                completion=text,
                prompt=prompt[-PROMPT_CONTEXT_CHARS:],
                suffix=suffix[:PROMPT_CONTEXT_CHARS],
                language=language,
            )
            for i, (text, prompt, suffix, language) in enumerate(choices)
        ]
        report = audit(suggestions, self.config, auditors=self.instances)
        by_id = {r.id: r for r in report.results}
        seconds = (time.perf_counter() - started) / max(1, len(choices))
        out = []
        for s in suggestions:
            result = by_id.get(s.id)
            if result is None:  # not auditable (NUL characters, over the size limit): withheld
                out.append(Audited(None, Decision(action=Action.BLOCK, text="", findings=()), 0.0))
                continue
            out.append(Audited(result, self.policy.decide(result), seconds))
        return out

    async def check_batched(
        self, choices: Sequence[tuple[str, str, str, str | None]]
    ) -> list[Audited]:
        """:meth:`check` on the audit thread, audited together with the choices of every other
        request that waits at that moment (one pipeline run: bandit parses them in one pass)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        with self._lock:
            self._pending.append((list(choices), future, loop))
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            self.executor.submit(self._drain)
        return await future

    def _drain(self) -> None:
        with self._lock:
            items, self._pending = self._pending, []
            self._scheduled = False
        flat = [c for choices, _, _ in items for c in choices]
        try:
            audited = self.check(flat)
            error = None
        except Exception as exc:  # noqa: BLE001 - handed to every waiting request
            audited, error = [], exc
        start = 0
        for choices, future, loop in items:
            part = audited[start : start + len(choices)]
            start += len(choices)
            loop.call_soon_threadsafe(_settle, future, part, error)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        for a in self.instances:
            a.close()


def _settle(future: asyncio.Future, value, error) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def lines_of(text: str) -> list[str]:
    """``text`` split after each ``\\n`` (only ``\\n`` ends a line here), ends kept."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


class LineGate:
    """Line-by-line, audited release of one streamed choice."""

    def __init__(
        self,
        check: Callable[[str], Audited],
        *,
        hold_chars: int,
        hold_stop_chars: int = 0,
    ) -> None:
        self._check = check
        self.hold_chars = hold_chars
        self.hold_stop_chars = hold_stop_chars
        self.text = ""
        #: Number of complete lines already released.
        self.released_lines = 0
        self.blocked: Audited | None = None
        self.last: Audited | None = None
        self.audits = 0

    def releasable(self, text: str) -> int:
        """How many complete lines of ``text`` may go out before the choice ends."""
        lines = lines_of(text)
        complete = len(lines) if text.endswith("\n") else len(lines) - 1
        held_after = len(text) - sum(len(x) for x in lines[:complete])
        k = complete
        # Keep back enough for a stop sequence that could still start at a line's end, and the
        # corpus matcher's minimum span.
        need = max(self.hold_chars, self.hold_stop_chars)
        while k > self.released_lines and held_after < need:
            k -= 1
            held_after += len(lines[k])
        return k

    def feed(self, text: str) -> str:
        """The whole choice text so far; returns the new text that may be released."""
        self.text = text
        if self.blocked is not None:
            return ""
        k = self.releasable(text)
        if k <= self.released_lines:
            return ""
        lines = lines_of(text)
        prefix = "".join(lines[:k])
        return self._release(prefix, k)

    def finish(self, text: str) -> str:
        """The choice ended with ``text``; returns the rest that may be released."""
        self.text = text
        if self.blocked is not None:
            return ""
        lines = lines_of(text)
        return self._release(text, len(lines), final=True)

    def _release(self, prefix: str, k: int, *, final: bool = False) -> str:
        audited = self._check(prefix)
        self.audits += 1
        self.last = audited
        if audited.decision.blocked:
            self.blocked = audited
            return ""
        shown = lines_of(audited.decision.text)
        if final:
            out = "".join(shown[self.released_lines :])
        else:
            out = "".join(shown[self.released_lines : k])
        self.released_lines = k
        return out
