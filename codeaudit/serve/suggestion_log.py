"""The suggestion log: every choice the server answered, as one JSONL line in the batch contract.

Each line is a suggestion ``codeaudit audit`` reads (``id``, ``prompt``, ``suffix``,
``completion``, ``model``) with the request's engine, sampling settings, the findings and the
policy's action in ``meta``. ``completion`` is the text the editor got; for a blocked choice it
is the withheld text (so a replay finds the copy again). Secrets the auditors found are masked
in every field, whatever the policy did with them, and so are the account names the policy
redacted. The file is rotated by size (``serve.jsonl`` -> ``serve.1.jsonl`` …), and lives in the
user's state folder by default, never inside a work tree. The hook's AI provenance reads it
(``codeaudit hook --suggestions-log``) and so recognises the lines the server wrote.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from .policy import Decision, redact_text, redaction_targets

DEFAULT_MAX_BYTES = 20_000_000
DEFAULT_KEEP = 5


def default_log_path() -> Path:
    """``<user state folder>/codeaudit/serve.jsonl`` (platformdirs)."""
    from platformdirs import user_state_path

    return user_state_path("codeaudit") / "serve.jsonl"


class SuggestionLog:
    """Appends records; thread-safe; rotates when a write would pass ``max_bytes``."""

    def __init__(
        self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, keep: int = DEFAULT_KEEP
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.keep = keep
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, records: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        with self._lock:
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(data) > self.max_bytes:
                self._rotate()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)

    def rotated(self, k: int) -> Path:
        return self.path.with_name(f"{self.path.stem}.{k}{self.path.suffix}")

    def _rotate(self) -> None:
        oldest = self.rotated(self.keep)
        if oldest.exists():
            oldest.unlink()
        for k in range(self.keep - 1, 0, -1):
            if self.rotated(k).exists():
                os.replace(self.rotated(k), self.rotated(k + 1))
        if self.keep > 0:
            os.replace(self.path, self.rotated(1))
        else:
            self.path.unlink()


def choice_record(
    *,
    request_id: str,
    index: int,
    prompt: str,
    suffix: str,
    text: str,
    sent: str,
    decision: Decision,
    result: Any,
    model: str,
    engine: str,
    sampling: dict[str, Any],
    finish_reason: str,
    route: str,
    language: str | None,
) -> dict[str, Any]:
    """One log line. ``text`` is the model's text, ``sent`` what the editor got. Every secret an
    auditor found, and every account name the policy redacted, is masked in every field."""
    findings = [f for f in result.findings if f.active] if result is not None else []
    hidden, _ = redaction_targets(text, findings)
    redacted_rules = {f["rule_id"] for f in decision.findings if f["action"] == "redact"}
    names = {
        f.evidence["username"]
        for f in findings
        if f.rule_id in redacted_rules and isinstance(f.evidence.get("username"), str)
    }

    def clean(value: str) -> str:
        return redact_text(value, hidden, names)

    record: dict[str, Any] = {
        "id": f"{request_id}/{index}",
        "prompt": clean(prompt),
        "completion": clean(text if decision.blocked else sent),
        "model": model,
    }
    if suffix:
        record["suffix"] = clean(suffix)
    if language:
        record["language"] = language
    record["meta"] = {
        "engine": engine,
        "route": route,
        "sampling": sampling,
        "finish_reason": finish_reason,
        "codeaudit": {
            "action": str(decision.action),
            "sent": not decision.blocked,
            "findings": [dict(f) for f in decision.findings],
        },
        "source": "codeaudit serve",
    }
    return record
