"""Which added lines came from an AI assistant.

Two sources, used together:

* **Markers** written in the file's own comment syntax::

      token = load()  # codeaudit: ai-generated          <- this line
      # codeaudit: ai-generated-begin                     <- every line up to the end marker
      ...
      # codeaudit: ai-generated-end

  A begin marker without an end runs to the end of the file.

* **Suggestion logs**: JSONL files in the batch contract (the output of ``codeaudit generate``, or
  an assistant's log of accepted suggestions). An added line is AI-generated when its text, with
  whitespace normalised, is a line of a logged completion, and either it is long enough to be
  distinctive (:data:`DISTINCTIVE_CHARS`) or a neighbouring added line matches the same
  completion. Partially accepted or lightly re-indented suggestions therefore still match line by
  line, while a lone ``return x`` that happens to occur in some completion does not. A record's
  ``path``, when present, limits it to files whose path ends with it.

>>> log = [{"completion": "def load(p):\\n    with open(p) as f:\\n        return f.read()\\n"}]
>>> prov = Provenance.from_records(log)
>>> lines = ["import os", "def load(p):", "  with open(p) as f:", "      return f.read()", "x = 1"]
>>> sorted(prov.ai_lines("app.py", lines, added={2, 3, 4, 5}, language="python"))
[2, 3, 4]
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeaudit.languages import comment_syntax
from codeaudit.model import InputIssue

#: A logged line at least this long (whitespace-normalised) identifies its suggestion on its own.
DISTINCTIVE_CHARS = 20

_MARKER = re.compile(r"codeaudit:\s*ai-generated(?P<kind>-begin|-end)?(?![\w-])", re.IGNORECASE)
_WORD = re.compile(r"\w")


def normalize(line: str) -> str:
    """A line with leading/trailing whitespace removed and inner runs collapsed to one space."""
    return " ".join(line.split())


def marked_lines(lines: Sequence[str], language: str | None) -> set[int]:
    """1-based numbers of the lines the ``codeaudit: ai-generated`` markers cover."""
    out: set[int] = set()
    line_tokens, block_tokens = comment_syntax(language)
    openers = tuple(line_tokens) + tuple(start for start, _ in block_tokens)
    if not openers:
        openers = ("#", "//", "/*", "<!--", "--", ";")
    begin: int | None = None
    for number, text in enumerate(lines, start=1):
        if "codeaudit" not in text and "codeaudit" not in text.lower():
            if begin is not None:
                out.add(number)
            continue
        m = _MARKER.search(text)
        if m is None or not any(tok in text[: m.start()] for tok in openers):
            if begin is not None:
                out.add(number)
            continue
        kind = (m.group("kind") or "").lower()
        if kind == "-begin":
            begin = number
        elif kind == "-end":
            begin = None
        else:
            out.add(number)
    return out


@dataclass(slots=True)
class Provenance:
    """Suggestion-log index plus marker detection; see the module docs for the matching rules."""

    #: normalised line -> ids of the logged completions holding it
    index: dict[str, set[int]] = field(default_factory=dict)
    #: completion id -> the path the record names (normalised, '/' separators), or None
    paths: list[str | None] = field(default_factory=list)
    markers: bool = True
    #: problems met while reading logs (bad lines are skipped, never fatal)
    issues: list[InputIssue] = field(default_factory=list)
    #: True when at least one log was given: then "not found in the log" means "not AI"
    has_log: bool = False

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        wanted: set[str] | None = None,
        markers: bool = True,
    ) -> Provenance:
        """Index completions of batch-contract records (``completion`` and optional ``path``).

        ``wanted`` (normalised added lines) restricts the index to lines that can match, which
        keeps the index small when the log is large.
        """
        prov = cls(markers=markers, has_log=True)
        for record in records:
            completion = record.get("completion")
            if not isinstance(completion, str):
                continue
            path = record.get("path")
            prov._add(completion, path if isinstance(path, str) else None, wanted)
        return prov

    @classmethod
    def from_logs(
        cls,
        logs: Sequence[str | os.PathLike[str]],
        *,
        wanted: set[str] | None = None,
        markers: bool = True,
    ) -> Provenance:
        """Read JSONL suggestion logs. A missing log is an error; bad lines become :attr:`issues`."""
        from codeaudit.errors import InputError
        from codeaudit.inputs import read_jsonl

        prov = cls(markers=markers, has_log=bool(logs))
        for log in logs:
            p = Path(log)
            try:
                data = p.read_bytes()
            except OSError as exc:
                raise InputError(
                    f"suggestions log {p}: cannot read: {exc.strerror or exc}"
                ) from None
            batch = read_jsonl(data, source=str(p))
            prov.issues.extend(i for i in batch.issues if i.line is not None)
            for s in batch.suggestions:
                prov._add(s.completion, s.path, wanted)
        return prov

    def _add(self, completion: str, path: str | None, wanted: set[str] | None) -> None:
        ident = len(self.paths)
        self.paths.append(_norm_path(path) if path else None)
        for raw in completion.split("\n"):
            key = normalize(raw)
            if not key or (wanted is not None and key not in wanted):
                continue
            self.index.setdefault(key, set()).add(ident)

    def _path_ok(self, ident: int, path: str) -> bool:
        logged = self.paths[ident]
        if logged is None:
            return True
        return path == logged or path.endswith("/" + logged) or logged.endswith("/" + path)

    def ai_lines(
        self, path: str, lines: Sequence[str], *, added: set[int], language: str | None
    ) -> set[int]:
        """Which of the ``added`` line numbers (1-based in ``lines``) came from an AI assistant."""
        out: set[int] = set()
        if self.markers:
            out |= marked_lines(lines, language) & added
        if not self.index:
            return out
        path = _norm_path(path)
        order = sorted(n for n in added if 1 <= n <= len(lines))
        cands: dict[int, set[int]] = {}
        for n in order:
            key = normalize(lines[n - 1])
            if not key or not _WORD.search(key):
                continue
            found = self.index.get(key)
            if found:
                ok = {i for i in found if self._path_ok(i, path)}
                if ok:
                    cands[n] = ok
        if not cands:
            return out
        # Neighbours: the previous and next added non-blank lines within one run of added lines.
        content = [n for n in order if lines[n - 1].strip()]
        for pos, n in enumerate(content):
            ids = cands.get(n)
            if not ids:
                continue
            if len(normalize(lines[n - 1])) >= DISTINCTIVE_CHARS:
                out.add(n)
                continue
            for other_pos in (pos - 1, pos + 1):
                if 0 <= other_pos < len(content):
                    m = content[other_pos]
                    if _same_run(lines, n, m, added) and ids & cands.get(m, set()):
                        out.add(n)
                        break
        # Blank added lines inside an AI block belong to it.
        for n in order:
            if (
                n not in out
                and not lines[n - 1].strip()
                and (n - 1) in out
                and _next_content(lines, n, added) in out
            ):
                out.add(n)
        return out


def _norm_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _same_run(lines: Sequence[str], a: int, b: int, added: set[int]) -> bool:
    lo, hi = min(a, b), max(a, b)
    return all(k in added for k in range(lo, hi + 1))


def _next_content(lines: Sequence[str], n: int, added: set[int]) -> int | None:
    k = n + 1
    while k in added and k <= len(lines):
        if lines[k - 1].strip():
            return k
        k += 1
    return None
