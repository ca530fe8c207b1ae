"""Building a server from ``[tool.codeaudit.serve]`` and command-line choices."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import Config, check_options
from ..errors import ConfigError, UsageError
from .app import Server, ServeSettings
from .backends import Backend, ModelBackend, ReplayBackend
from .gate import Auditing
from .policy import policy_from_options
from .suggestion_log import DEFAULT_KEEP, DEFAULT_MAX_BYTES, SuggestionLog, default_log_path

#: ``[tool.codeaudit.serve]``: key -> default (the type is the default's).
SPEC: dict[str, Any] = {
    "default": "annotate",
    "policy": {},
    "max_tokens": 512,
    "default_max_tokens": 16,
    "max_n": 8,
    "queue": 32,
    "max_batch": 16,
    "timeout": 60.0,
    "prompt_overflow": "cut",
    "cors_origins": [],
    "log": "",
    "log_max_bytes": DEFAULT_MAX_BYTES,
    "log_keep": DEFAULT_KEEP,
}


def serve_options(config: Config, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The checked table, with command-line ``overrides`` (``None`` values ignored) laid over."""
    options = check_options("serve", config.auditor_options("serve"), SPEC, source=config.source)
    for key, value in (overrides or {}).items():
        if value is not None:
            options[key] = value
    for key in ("max_tokens", "default_max_tokens", "max_n", "queue", "max_batch", "log_keep"):
        if options[key] < (0 if key == "log_keep" else 1):
            raise ConfigError(
                f"[tool.codeaudit.serve].{key} must be at least 1, not {options[key]}"
            )
    if options["timeout"] <= 0:
        raise ConfigError(
            f"[tool.codeaudit.serve].timeout must be positive, not {options['timeout']}"
        )
    if options["prompt_overflow"] not in ("cut", "error"):
        raise ConfigError(
            "[tool.codeaudit.serve].prompt_overflow must be 'cut' or 'error', "
            f"not {options['prompt_overflow']!r}"
        )
    return options


def build_server(
    *,
    engine: str,
    model: str | None,
    config: Config,
    overrides: Mapping[str, Any] | None = None,
    api_key: str | None = None,
    audit: bool = True,
    auditors: Sequence[str] | None = None,
    log: str | Path | None | bool = None,
    threads: int | None = None,
    status: Callable[[str], None] | None = None,
) -> Server:
    """A ready :class:`Server` (model loaded, auditors warm). ``log``: a path, ``False`` for no
    log, ``None`` for the configured one (else the user state folder)."""
    options = serve_options(config, overrides)
    policy = policy_from_options(options)
    settings = ServeSettings(
        api_key=api_key or None,
        max_tokens=options["max_tokens"],
        default_max_tokens=min(options["default_max_tokens"], options["max_tokens"]),
        max_n=options["max_n"],
        queue_size=options["queue"],
        timeout=float(options["timeout"]),
        prompt_overflow=options["prompt_overflow"],
        cors_origins=tuple(options["cors_origins"]),
    )
    backend: Backend
    if engine.startswith("replay:"):
        backend = ReplayBackend(
            engine.partition(":")[2], queue_size=settings.queue_size, max_batch=options["max_batch"]
        )
    else:
        if not model:
            raise UsageError("--model is required (or --engine replay:FILE)")
        backend = ModelBackend(
            model,
            engine,
            threads=threads,
            queue_size=settings.queue_size,
            max_batch=options["max_batch"],
            status=status,
        )
    if settings.max_tokens >= backend.context_length:
        settings = ServeSettings(**{**settings.__dict__, "max_tokens": backend.context_length - 1})
    auditing = Auditing(config, policy, auditors, on=audit)
    if audit:
        auditing.warm()
    suggestion_log = None
    if log is not False:
        path = Path(log) if log not in (None, True) else None
        if path is None:
            path = Path(options["log"]).expanduser() if options["log"] else default_log_path()
        suggestion_log = SuggestionLog(
            path, max_bytes=options["log_max_bytes"], keep=options["log_keep"]
        )
    freeze_heap()
    return Server(backend, auditing, settings, log=suggestion_log)


def freeze_heap() -> None:
    """Move everything loaded so far (auditors, corpus index, model wrappers) out of the garbage
    collector's sight: a long-lived server otherwise re-traverses it in every full collection,
    which shows as pauses in request latency. Forks (the warm hook) also share those pages."""
    import gc

    gc.collect()
    gc.freeze()


def close_server(server: Server) -> None:
    server.backend.close()
    server.auditing.close()
