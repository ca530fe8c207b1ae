"""Auditors run in forked processes at the same time (``hook --parallel``), on
:class:`codeaudit.workers.Forked`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from codeaudit.auditors.base import Auditor
from codeaudit.config import Config
from codeaudit.model import AuditResult, Finding, Suggestion, plain
from codeaudit.workers import Forked


def _thawed(value: Any) -> Any:
    """Plain data pickle accepts (evidence is a read-only mapping, which it refuses)."""
    return plain(value, keep_tuples=True)


def can_fork(auditors: Sequence[Any], suggestions: Sequence[Suggestion]) -> bool:
    return (
        Forked.available()
        and (os.cpu_count() or 1) > 1
        and len(auditors) > 1
        and all(isinstance(a, str) for a in auditors)
        and bool(suggestions)
    )


class ForkedAuditor(Auditor):
    """A named auditor run in a forked child process, started as soon as this is built.

    The auditors are independent, and most of a hook run is their start-up (importing bandit,
    detect-secrets, numpy; opening the corpus index) plus their batch: started together, they
    share the machine's cores instead of taking turns, and the parent imports none of them. The
    child answers twice through a pipe: once built (or why it could not be: a configuration error
    is raised in the parent by :meth:`wait_ready`, as it would be in process), then with its
    outcomes as plain data and its ``describe()``. An auditor that crashes while auditing costs
    its own findings, as in :func:`codeaudit.pipeline.audit`. ``summarize`` needs the finished
    report, which the child never sees: reports made this way carry no auditor summaries.
    """

    def __init__(self, name: str, config: Config, batch: Sequence[Suggestion]) -> None:
        # Not Auditor.__init__: the real auditor (its options, its rules) lives in the child.
        self.name = name  # type: ignore[misc]
        self.config = config
        self._description: dict[str, Any] = {}
        self._child = Forked(_child, name, config, batch)

    @classmethod
    def rules(cls) -> Sequence[Any]:
        return []

    def _next(self) -> tuple[Any, ...]:
        message = self._child.receive()
        if message is None:  # the child died before it could answer
            return ("crash", f"auditor '{self.name}' failed: its process ended without an answer")
        return message

    def wait_ready(self) -> None:
        """Block until the child has built its auditor; raise what building it raised."""
        from codeaudit import errors

        status = self._next()
        if status[0] == "error":
            raise getattr(errors, status[1], errors.InternalError)(status[2])
        if status[0] == "crash":
            self._early = status

    def audit_batch(self, batch: Sequence[Suggestion], progress: Any = None) -> list[Any]:
        from codeaudit.auditors.base import Outcome
        from codeaudit.model import AuditError

        payload = getattr(self, "_early", None) or self._next()
        self.close()
        if payload[0] == "crash":
            error = AuditError(auditor=self.name, code="auditor-crash", message=payload[1])
            return [Outcome(errors=[error]) for _ in batch]
        _, outcomes, self._description = payload
        by_id = dict(outcomes)
        out = []
        for s in batch:
            findings, audit_errors, data = by_id.get(s.id, ([], [], {}))
            out.append(
                Outcome(
                    findings=[Finding(**f) for f in findings],
                    errors=[AuditError(**e) for e in audit_errors],
                    data=data,
                )
            )
        return out

    def describe(self) -> Mapping[str, Any]:
        return self._description

    def summarize(self, results: Sequence[AuditResult]) -> None:
        return None

    def close(self) -> None:
        """Reap the child; one still running (the run stopped early) is killed first."""
        self._child.close()


def _child(
    send: Callable[[Any], None], name: str, config: Config, batch: Sequence[Suggestion]
) -> None:
    """In the child: build and run the auditor, answering with ``send`` (see ForkedAuditor)."""
    from dataclasses import fields

    from codeaudit.errors import CodeauditError
    from codeaudit.registry import load_auditor_class

    try:
        auditor = load_auditor_class(name)(config)
    except CodeauditError as exc:
        send(("error", type(exc).__name__, str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - a plug-in that cannot even be built
        send(
            (
                "error",
                "InternalError",
                f"auditor '{name}' cannot be built: {type(exc).__name__}: {exc}",
            )
        )
        return
    send(("ready",))
    try:
        outcomes = auditor.audit_batch(batch)
        if len(outcomes) != len(batch):
            raise RuntimeError(f"returned {len(outcomes)} outcomes for {len(batch)} suggestions")
    except Exception as exc:  # noqa: BLE001 - like the pipeline: the auditor's findings are lost
        send(("crash", f"auditor '{name}' failed: {type(exc).__name__}: {exc}"))
        return
    # Findings go back as plain data: their evidence is a read-only mapping, which pickle refuses.
    finding_fields = [f.name for f in fields(Finding)]
    packed = []
    for s, o in zip(batch, outcomes):
        findings = [{k: _thawed(getattr(f, k)) for k in finding_fields} for f in o.findings]
        audit_errors = [
            {"auditor": e.auditor, "code": e.code, "message": e.message, "line": e.line}
            for e in o.errors
        ]
        packed.append((s.id, (findings, audit_errors, _thawed(o.data))))
    send(("ok", packed, _thawed(auditor.describe())))
    auditor.close()
