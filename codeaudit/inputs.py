"""Read suggestion batches: JSONL, a source file, a folder of source files, or standard input.

Readers never raise on bad content: each problem becomes an :class:`~codeaudit.model.InputIssue`
naming the file, line and field, and every good suggestion is still returned. Only an input that
cannot be opened at all raises :class:`~codeaudit.errors.InputError`.

The batch contract (one JSON object per line; see ``docs/batch-contract.md`` and
``codeaudit/schemas/suggestion.schema.json``)::

    {"id": "s1", "completion": "...", "prompt": "...", "language": "python", "path": "app/x.py",
     "tests": "...", "entry_point": "f", "task_id": "HumanEval/0", "model": "codegen-350M", "meta": {}}
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from . import languages
from .errors import InputError, quoted, shown
from .model import InputIssue, Suggestion

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
_STRING_FIELDS = ("prompt", "suffix", "language", "path", "tests", "entry_point", "model")
KNOWN_FIELDS = frozenset(("id", "completion", "task_id", "meta", *_STRING_FIELDS))
#: Folders never descended into when a folder is audited.
SKIP_DIRS = frozenset(
    (
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        "dist",
        "build",
        ".eggs",
    )
)
#: Files larger than this are not read from folders (reported, not silently dropped).
MAX_FILE_BYTES = 5_000_000


@dataclass(slots=True)
class Batch:
    suggestions: list[Suggestion] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.suggestions.extend(other.suggestions)
        self.issues.extend(other.issues)


def read_input(spec: str | os.PathLike[str], *, stdin: BinaryIO | None = None) -> Batch:
    """Read ``spec``: ``-`` (standard input), a JSONL file, a source file, or a folder."""
    spec = os.fspath(spec)
    if spec == "-":
        data = (stdin or sys.stdin.buffer).read()
        if _looks_like_jsonl(data):
            return read_jsonl(data, source="<stdin>")
        return _single_source(data, source="<stdin>", sid="<stdin>", path=None)
    p = Path(spec)
    if p.is_dir():
        return read_folder(p)
    if not p.exists():
        raise InputError(f"{spec}: no such file or folder")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{spec}: cannot read: {exc.strerror or exc}") from exc
    if p.suffix.lower() in JSONL_SUFFIXES:
        return read_jsonl(data, source=spec)
    return _single_source(data, source=spec, sid=spec, path=spec)


def _looks_like_jsonl(data: bytes) -> bool:
    for raw in data.split(b"\n", 50)[:50]:
        s = raw.strip()
        if s:
            return s.startswith(b"{")
    return True  # empty input: report it as an empty batch


def read_jsonl(data: bytes, *, source: str) -> Batch:
    """Parse a JSONL batch. Blank lines are skipped; every other line is one suggestion."""
    batch = Batch()
    seen: dict[str, int] = {}
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    any_line = False
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        any_line = True

        def issue(
            message: str, fld: str | None = None, *, skipped: bool = True, sid: str | None = None
        ) -> None:
            batch.issues.append(
                InputIssue(
                    source=source,
                    line=number,
                    field=fld,
                    message=message,
                    skipped=skipped,
                    suggestion_id=sid,
                )
            )

        if b"\x00" in raw:
            issue("binary content (NUL bytes) instead of a JSON object; suggestion skipped")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            issue(f"invalid UTF-8 at byte {exc.start + 1} of the line; suggestion skipped")
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            issue(f"malformed JSON at column {exc.colno}: {exc.msg}; suggestion skipped")
            continue
        except RecursionError:
            issue("malformed JSON: nested too deeply; suggestion skipped")
            continue
        if not isinstance(obj, dict):
            issue(f"expected a JSON object, got {type(obj).__name__}; suggestion skipped")
            continue
        suggestion, problems = suggestion_from_mapping(
            obj, default_id=f"line-{number}", origin=f"{source}:{number}"
        )
        for fld, message, skipped in problems:
            issue(message, fld, skipped=skipped, sid=suggestion.id if suggestion else None)
        if suggestion is None:
            continue
        if suggestion.id in seen:
            first = seen[suggestion.id]
            new_id = unique_id(suggestion.id, number, seen)
            issue(
                duplicate_message(suggestion.id, new_id, f" (first on line {first})"),
                "id",
                skipped=False,
                sid=new_id,
            )
            suggestion = _replace(suggestion, id=new_id)
        seen[suggestion.id] = number
        batch.suggestions.append(suggestion)
    if not any_line:
        batch.issues.append(
            InputIssue(source=source, line=None, message="empty input: no suggestions to audit")
        )
    return batch


def unique_id(sid: str, number: int, taken: Mapping[str, Any] | set[str]) -> str:
    """``sid#number`` (then ``sid#number.2`` …) for a duplicate id, never one already taken.

    >>> unique_id("a", 3, {"a", "a#3"})
    'a#3.2'
    """
    candidate, extra = f"{sid}#{number}", 1
    while candidate in taken:
        extra += 1
        candidate = f"{sid}#{number}.{extra}"
    return candidate


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: Any) -> tuple[Any, bool]:
    """Replace unpaired surrogates (JSON escapes such as ``\\ud800``, which no encoder can write)
    with U+FFFD, deeply; returns the value and whether anything was replaced."""
    if isinstance(value, str):
        cleaned = _SURROGATE.sub("\ufffd", value)
        return cleaned, cleaned != value
    if isinstance(value, list):
        items = [_without_surrogates(v) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    if isinstance(value, dict):
        out, changed = {}, False
        for k, v in value.items():
            k2, c1 = _without_surrogates(k)
            v2, c2 = _without_surrogates(v)
            out[k2] = v2
            changed = changed or c1 or c2
        return out, changed
    return value, False


def suggestion_from_mapping(
    obj: Mapping[str, Any], *, default_id: str, origin: str | None = None
) -> tuple[Suggestion | None, list[tuple[str | None, str, bool]]]:
    """Check one record of the batch contract.

    Returns the suggestion (``None`` when it cannot be audited) and the problems found as
    ``(field, message, skipped)``.
    """
    problems: list[tuple[str | None, str, bool]] = []
    cleaned: dict[str, Any] = {}
    for key, value in obj.items():
        key, key_changed = _without_surrogates(str(key))
        value, changed = _without_surrogates(value)
        if changed or key_changed:
            named = key in KNOWN_FIELDS or shown(key, "field") is not None
            problems.append(
                (
                    key if named else None,
                    ("" if named else "a field whose name is not shown (not name-shaped) ")
                    + "holds unpaired surrogate escapes (\\ud800-\\udfff); replaced with U+FFFD",
                    False,
                )
            )
        cleaned[key] = value
    obj = cleaned
    if "completion" not in obj:
        return None, [("completion", "missing (required); suggestion skipped", True)]
    completion = obj["completion"]
    if not isinstance(completion, str):
        return None, [
            ("completion", f"must be a string, not {_type(completion)}; suggestion skipped", True)
        ]

    sid = obj.get("id")
    if sid is None:
        sid = default_id
    elif isinstance(sid, bool) or not isinstance(sid, (str, int)):
        problems.append(("id", f"must be a string, not {_type(sid)}; using '{default_id}'", False))
        sid = default_id
    else:
        sid = str(sid)
        if not sid.strip():
            problems.append(("id", f"is empty; using '{default_id}'", False))
            sid = default_id

    values: dict[str, Any] = {}
    for name in _STRING_FIELDS:
        value = obj.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append((name, f"must be a string, not {_type(value)}; ignored", False))
            continue
        values[name] = value
    task_id = obj.get("task_id")
    if task_id is not None:
        if isinstance(task_id, bool) or not isinstance(task_id, (str, int)):
            problems.append(("task_id", f"must be a string, not {_type(task_id)}; ignored", False))
        else:
            values["task_id"] = str(task_id)
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, dict):
        problems.append(("meta", f"must be an object, not {_type(meta)}; ignored", False))
        meta = None
    extra = {k: v for k, v in obj.items() if k not in KNOWN_FIELDS}
    if extra:
        meta = {**(meta or {}), "extra_fields": extra}

    lang = values.get("language")
    if lang is not None:
        canonical = languages.normalize(lang)
        if canonical is None:
            problems.append(
                (
                    "language",
                    f"unknown language {_language_shown(lang)}; "
                    "audited with language-independent rules only",
                    False,
                )
            )
            values["language"] = lang.strip().lower() or None
        else:
            values["language"] = canonical
    return Suggestion(
        id=sid, completion=completion, meta=meta or {}, origin=origin, **values
    ), problems


def duplicate_message(sid: str, new_id: str, where: str = "") -> str:
    """The message for a repeated id; the id itself only when :func:`shown` allows it.

    >>> duplicate_message("a", "a#3", " (first on line 1)")
    "duplicate id 'a' (first on line 1); renamed to 'a#3'"
    >>> duplicate_message("sk_live_" + "x1" * 12, "sk_live_" + "x1" * 12 + "#3")
    "duplicate id (not shown: it is not id-shaped and could be a secret); renamed with suffix '#3'"
    """
    seen = shown(sid, "id")
    if seen is not None:
        return f"duplicate id {seen}{where}; renamed to {quoted(new_id)}"
    return (
        f"duplicate id (not shown: it is not id-shaped and could be a secret){where}; "
        f"renamed with suffix {quoted(new_id[len(sid) :])}"
    )


def _language_shown(lang: str) -> str:
    seen = shown(lang, "language")
    if seen is not None:
        return seen
    return f"(a value of {len(lang)} characters, not shown: not shaped like a language name)"


def _type(value: Any) -> str:
    return {dict: "an object", list: "an array", type(None): "null", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _replace(s: Suggestion, **changes: Any) -> Suggestion:
    from dataclasses import replace

    return replace(s, **changes)


def decode_source(data: bytes) -> tuple[str, str | None]:
    """Decode file content; returns (text, problem) where problem explains a lossy decode."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode(
            "utf-8", errors="replace"
        ), f"not valid UTF-8 (byte {exc.start + 1}); undecodable bytes replaced with U+FFFD"


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def _single_source(data: bytes, *, source: str, sid: str, path: str | None) -> Batch:
    batch = Batch()
    if not data.strip():
        batch.issues.append(
            InputIssue(source=source, line=None, message="empty input: no code to audit")
        )
        return batch
    if is_binary(data):
        batch.issues.append(
            InputIssue(source=source, line=None, message="binary content (NUL bytes); not audited")
        )
        return batch
    text, problem = decode_source(data)
    if problem:
        batch.issues.append(
            InputIssue(source=source, line=None, message=problem, skipped=False, suggestion_id=sid)
        )
    batch.suggestions.append(
        Suggestion(
            id=sid, completion=text, path=path, language=languages.from_path(path), origin=source
        )
    )
    return batch


def iter_source_files(root: Path) -> Iterator[Path]:
    """Files under ``root`` that codeaudit reads: known languages and formats, or a shebang."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            p = Path(folder, name)
            if p.is_symlink() or not p.is_file():
                continue
            if languages.from_path(name) is not None or _has_shebang(p):
                yield p


def _has_shebang(p: Path) -> bool:
    if p.suffix:
        return False
    try:
        with p.open("rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return False


def read_folder(root: Path) -> Batch:
    """Each source file under ``root`` is one suggestion; its id is the path relative to ``root``."""
    batch = Batch()
    count = 0
    for p in iter_source_files(root):
        rel = p.relative_to(root).as_posix()
        count += 1
        try:
            size = p.stat().st_size
            if size > MAX_FILE_BYTES:
                batch.issues.append(
                    InputIssue(
                        source=rel,
                        line=None,
                        message=f"file of {size:,} bytes is over the {MAX_FILE_BYTES:,}-byte limit; not audited",
                    )
                )
                continue
            data = p.read_bytes()
        except OSError as exc:
            batch.issues.append(
                InputIssue(source=rel, line=None, message=f"cannot read: {exc.strerror or exc}")
            )
            continue
        if not data.strip():
            continue  # an empty file has nothing to audit and is not an error in a folder
        batch.extend(_single_source(data, source=rel, sid=rel, path=rel))
    if count == 0:
        batch.issues.append(
            InputIssue(source=str(root), line=None, message="no source files found")
        )
    return batch
