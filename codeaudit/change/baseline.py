"""Baselines: the findings a project already knows about, so only new ones are reported.

A baseline is a JSON file (``.codeaudit-baseline.json`` by default) written by
``codeaudit baseline create`` and refreshed by ``codeaudit baseline update``::

    {
      "schema": "codeaudit.change.baseline/1",
      "codeaudit": "0.1.0",
      "parameters": {"auditors": ["privacy", "security"], "config_hash": "3f2a…", "paths": ["."]},
      "results": {
        "src/app.py": [
          {"rule_id": "CA101", "rule_name": "username-in-path", "auditor": "privacy",
           "severity": "high", "fingerprint": "9b1c…", "line": 12}
        ]
      }
    }

A finding matches an entry when rule id and fingerprint are equal (a fingerprint never contains
a line number or a path, so it survives edits above it and re-indentation) and the entry's path
is the finding's path, the path the file was renamed from (git rename detection), or a path that
no longer exists and was not renamed to another file (a file moved without git noticing). The same leak pasted into another file that
still exists is therefore new. ``line`` is for people reading the file; it plays no part in
matching. The parameters record what produced the entries: a changed configuration or auditor
list makes :meth:`Baseline.parameter_warnings` speak up, because findings may then differ for
reasons other than the code.

>>> from codeaudit.model import Finding, Severity, Confidence, Suggestion
>>> f = Finding(auditor="privacy", rule_id="CA101", rule_name="username-in-path",
...             severity=Severity.HIGH, confidence=Confidence.HIGH, cwe=359, line=3, end_line=3,
...             column=1, end_column=None, message="m", snippet="s", evidence={}, fingerprint="ab12")
>>> b = Baseline([Entry(path="old/app.py", rule_id="CA101", rule_name="username-in-path",
...                     auditor="privacy", severity="high", fingerprint="ab12", line=40)],
...              renames={"new/app.py": "old/app.py"})
>>> [x.suppressed for x in b.mark(Suggestion(id="new/app.py", path="new/app.py", completion=""), [f])]
['baseline']
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codeaudit._version import __version__
from codeaudit.errors import InputError
from codeaudit.model import Finding, Suggestion

SCHEMA = "codeaudit.change.baseline/1"
DEFAULT_FILENAME = ".codeaudit-baseline.json"
_ENTRY_KEYS = ("rule_id", "rule_name", "auditor", "severity", "fingerprint", "line")


@dataclass(frozen=True, slots=True)
class Entry:
    """One known finding."""

    path: str
    rule_id: str
    rule_name: str
    auditor: str
    severity: str
    fingerprint: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _ENTRY_KEYS}

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule_id} {self.rule_name} [{self.severity}] ({self.fingerprint[:12]})"


def normalize_path(path: str, root: Path | None = None) -> str:
    """A repository-relative path with ``/`` separators (absolute paths under ``root`` made relative)."""
    p = path.replace("\\", "/")
    if root is not None and os.path.isabs(path):
        try:
            p = Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    while p.startswith("./"):
        p = p[2:]
    return p


def config_hash(config: Any, auditors: Sequence[str]) -> str:
    """A short hash of everything in the configuration that changes which findings are raised."""
    allow = config.allowlist
    canonical = {
        "auditors": sorted(auditors),
        "severity": {k: str(v) for k, v in sorted(config.severity.items())},
        "disable": sorted(config.disable),
        "allowlist": {
            "usernames": list(allow.usernames),
            "emails": list(allow.emails),
            "hosts": list(allow.hosts),
            "paths": [p.pattern for p in allow.paths],
            "patterns": [p.pattern for p in allow.patterns],
        },
        # The hook's own table steers what fails, not what is found.
        "options": {k: dict(v) for k, v in sorted(config.options.items()) if k != "hook"},
    }
    text = json.dumps(canonical, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Baseline:
    """Known findings, matched by rule id and fingerprint (see the module docs).

    It is the pipeline's :class:`~codeaudit.pipeline.Baseline`: :meth:`mark` returns the findings
    with known ones marked ``suppressed="baseline"``, and remembers which entries were used, so
    :meth:`stale` can list the entries nothing matched.
    """

    def __init__(
        self,
        entries: Iterable[Entry] = (),
        *,
        parameters: Mapping[str, Any] | None = None,
        root: str | os.PathLike[str] | None = None,
        renames: Mapping[str, str] | None = None,
        source: str | None = None,
    ) -> None:
        self.entries: list[Entry] = list(entries)
        self.parameters: dict[str, Any] = dict(parameters or {})
        self.root = Path(root) if root is not None else None
        self.renames: dict[str, str] = dict(renames or {})
        self.source = source
        self.used: set[int] = set()
        self._by_key: dict[tuple[str, str], list[int]] = {}
        for i, e in enumerate(self.entries):
            self._by_key.setdefault((e.rule_id, e.fingerprint), []).append(i)
        self._exists: dict[str, bool] = {}

    # -- reading and writing ------------------------------------------------------------------
    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
    ) -> Baseline:
        """Read a baseline file; anything malformed is an :class:`InputError` naming the field."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(
                f"{p}: baseline not found (create one with 'codeaudit baseline create')"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{p}: cannot read baseline: {exc}") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}:{exc.lineno}: baseline is not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InputError(f'{p}: not a codeaudit baseline (expected "schema": "{SCHEMA}")')
        results = data.get("results")
        if not isinstance(results, dict):
            raise InputError(f"{p}: field 'results' must be an object of path -> list of findings")
        entries: list[Entry] = []
        for file, items in results.items():
            if not isinstance(items, list):
                raise InputError(f"{p}: results[{file!r}] must be a list")
            for n, item in enumerate(items):
                where = f"{p}: results[{file!r}][{n}]"
                if not isinstance(item, dict):
                    raise InputError(f"{where} must be an object")
                for key in ("rule_id", "fingerprint"):
                    if not isinstance(item.get(key), str) or not item[key]:
                        raise InputError(f"{where}: field '{key}' must be a non-empty string")
                line = item.get("line", 1)
                if not isinstance(line, int) or isinstance(line, bool) or line < 1:
                    raise InputError(f"{where}: field 'line' must be a positive integer")
                entries.append(
                    Entry(
                        path=normalize_path(str(file)),
                        rule_id=item["rule_id"],
                        rule_name=str(item.get("rule_name", "")),
                        auditor=str(item.get("auditor", "")),
                        severity=str(item.get("severity", "")),
                        fingerprint=item["fingerprint"],
                        line=line,
                    )
                )
        parameters = data.get("parameters", {})
        if not isinstance(parameters, dict):
            raise InputError(f"{p}: field 'parameters' must be an object")
        parameters = {**parameters, "codeaudit": data.get("codeaudit")}
        return cls(
            entries,
            parameters=parameters,
            root=root if root is not None else p.parent,
            source=str(p),
        )

    @classmethod
    def from_findings(
        cls,
        findings: Iterable[tuple[str, Finding]],
        *,
        parameters: Mapping[str, Any] | None = None,
        root: str | os.PathLike[str] | None = None,
    ) -> Baseline:
        """A baseline of ``(path, finding)`` pairs: active findings and those an older baseline
        already knew; findings suppressed inline or by the allowlist are left out."""
        root_path = Path(root) if root is not None else None
        entries = {
            Entry(
                path=normalize_path(path, root_path),
                rule_id=f.rule_id,
                rule_name=f.rule_name,
                auditor=f.auditor,
                severity=f.severity.label,
                fingerprint=f.fingerprint,
                line=f.line,
            )
            for path, f in findings
            if f.suppressed in (None, "baseline")
        }
        return cls(sorted(entries, key=_entry_order), parameters=parameters, root=root)

    def to_dict(self) -> dict[str, Any]:
        results: dict[str, list[dict[str, Any]]] = {}
        for e in sorted(self.entries, key=_entry_order):
            results.setdefault(e.path, []).append(e.to_dict())
        params = {k: v for k, v in self.parameters.items() if k != "codeaudit"}
        # No timestamp: an unchanged project must give a byte-identical file (no diff noise).
        return {
            "schema": SCHEMA,
            "codeaudit": __version__,
            "parameters": params,
            "results": results,
        }

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write atomically (a crash never leaves a half-written baseline)."""
        target = Path(path)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent or "."
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    # -- matching -----------------------------------------------------------------------------
    def key(self, suggestion: Suggestion) -> str:
        return normalize_path(suggestion.path or suggestion.id, self.root)

    def mark(self, suggestion: Suggestion, findings: Sequence[Finding]) -> list[Finding]:
        """Mark findings the baseline knows as ``suppressed="baseline"``."""
        path = self.key(suggestion)
        out: list[Finding] = []
        for f in findings:
            if f.active and (hit := self.match(path, f)) is not None:
                self.used.add(hit)
                f = replace(f, suppressed="baseline")
            out.append(f)
        return out

    def match(self, path: str, finding: Finding) -> int | None:
        """Index of the entry that covers ``finding`` at ``path``, or ``None``."""
        candidates = self._by_key.get((finding.rule_id, finding.fingerprint))
        if not candidates:
            return None
        old = self.renames.get(path)
        moved = None
        for i in candidates:
            entry_path = self.entries[i].path
            if entry_path == path or entry_path == old:
                return i
            # A vanished file whose move git saw belongs to its new path only.
            if (
                moved is None
                and not self._still_there(entry_path)
                and entry_path not in self._renamed_from()
            ):
                moved = i
        return moved

    def _renamed_from(self) -> set[str]:
        return set(self.renames.values())

    def _still_there(self, path: str) -> bool:
        if path not in self._exists:
            self._exists[path] = self.root is not None and (self.root / path).exists()
        return self._exists[path]

    def stale(self, audited: Iterable[str] | None = None) -> list[Entry]:
        """Entries nothing matched. With ``audited`` (paths that were audited in full), only
        entries of those paths or of files that no longer exist: an audit of part of the tree
        cannot tell whether the rest is stale."""
        scope = None if audited is None else {normalize_path(p, self.root) for p in audited}
        out = []
        for i, e in enumerate(self.entries):
            if i in self.used:
                continue
            if scope is None or e.path in scope or not self._still_there(e.path):
                out.append(e)
        return out

    def parameter_warnings(self, config: Any, auditors: Sequence[str]) -> list[str]:
        """Why findings may differ from the baseline's for reasons other than the code."""
        out = []
        where = self.source or "baseline"
        recorded = self.parameters.get("auditors")
        if isinstance(recorded, list) and sorted(recorded) != sorted(auditors):
            out.append(
                f"{where}: made with auditors {', '.join(recorded) or 'none'}; now running {', '.join(auditors)}"
                " (findings of the others are all new; run 'codeaudit baseline update')"
            )
        digest = self.parameters.get("config_hash")
        if isinstance(digest, str) and digest != config_hash(config, auditors) and not out:
            out.append(
                f"{where}: made with a different configuration (severity overrides, disables, allowlist or auditor options)"
            )
        return out

    def __len__(self) -> int:
        return len(self.entries)


def _entry_order(e: Entry) -> tuple[str, int, str, str]:
    return (e.path, e.line, e.rule_id, e.fingerprint)


def parameters_for(config: Any, auditors: Sequence[str], paths: Sequence[str]) -> dict[str, Any]:
    """The ``parameters`` block a baseline records."""
    return {
        "auditors": list(auditors),
        "config_hash": config_hash(config, auditors),
        "paths": list(paths),
    }
