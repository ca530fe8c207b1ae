"""Audit only what a change adds: the pre-commit hook, ``audit --diff`` and the review-bot API.

How added lines are audited
---------------------------
Each changed file's added lines are grouped into clusters (added lines at most
:data:`CLUSTER_GAP` lines apart share one). Every cluster becomes one suggestion whose
``completion`` is the cluster's whole lines and whose ``prompt`` and ``suffix`` are the code
around it that makes it parse and resolve as in the file (:func:`context_ranges`: for Python the
imports, enclosing block headers and the statements the cluster starts or ends inside), so the
work of every auditor grows with the added lines, not with the size of the files. Findings are
mapped back to file lines and kept only when they touch an added line: a finding on an unchanged
line never counts, even when it sits inside a cluster.
Inline suppressions are then re-applied over the whole file (a ``ignore-next-line`` comment just
above an edited line still works), the baseline is applied, and each finding learns whether it
sits in AI-generated lines (:mod:`codeaudit.change.provenance`).

Policy: a finding blocks when its severity is at or above ``fail_on``, or ``ai_fail_on`` for
findings in AI-generated lines; both come from ``[tool.codeaudit.hook]``::

    [tool.codeaudit.hook]
    fail_on = "high"                 # default: the top-level fail_on (medium)
    ai_fail_on = "medium"            # default: one level below fail_on
    auditors = ["privacy", "security", "memorization"]   # default: all but tests
    baseline = ".codeaudit-baseline.json"                # default: none
    suggestions_logs = [".codeaudit/accepted.jsonl"]     # default: none; missing files are skipped
    markers = true                   # honour "codeaudit: ai-generated" comments

For a review bot (see ``docs/hook.md``):

>>> from codeaudit.change.hook import audit_diff               # doctest: +SKIP
>>> review = audit_diff("origin/main...HEAD", root=".")  # doctest: +SKIP
>>> review.verdict.value, [f"{r.suggestion.path}:{f.line}" for r, f in review.blocking()]  # doctest: +SKIP
('fail', ['app/settings.py:12'])
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from codeaudit.auditors.base import Auditor
from codeaudit.config import Config, check_options
from codeaudit.errors import ConfigError, InputError
from codeaudit.model import (
    AuditResult,
    Finding,
    InputIssue,
    Report,
    Severity,
    Suggestion,
    Suppression,
    Verdict,
)

if TYPE_CHECKING:
    from codeaudit.change.baseline import Baseline
    from codeaudit.change.gitdiff import FileChange, LineMapper
    from codeaudit.change.provenance import Provenance

#: Added lines at most this many lines apart are audited as one suggestion.
CLUSTER_GAP = 30

OPTIONS_SPEC: Mapping[str, Any] = {
    "fail_on": "",
    "ai_fail_on": "",
    "auditors": [],
    "baseline": "",
    "suggestions_logs": [],
    "markers": True,
}


@dataclass(frozen=True, slots=True)
class HookSettings:
    """The policy from ``[tool.codeaudit.hook]`` (see the module docs for defaults)."""

    fail_on: Severity
    ai_fail_on: Severity
    auditors: tuple[str, ...]
    baseline: str | None = None
    suggestions_logs: tuple[str, ...] = ()
    markers: bool = True

    @classmethod
    def from_config(cls, config: Config) -> HookSettings:
        """
        >>> s = HookSettings.from_config(Config())
        >>> (s.fail_on.label, s.ai_fail_on.label, "tests" in s.auditors)
        ('medium', 'low', False)
        """
        opts = check_options(
            "hook", config.auditor_options("hook"), OPTIONS_SPEC, source=config.source
        )
        where = (
            f"{config.source}: [tool.codeaudit.hook]" if config.source else "[tool.codeaudit.hook]"
        )

        def severity(key: str, default: Severity) -> Severity:
            if not opts[key]:
                return default
            try:
                return Severity.parse(opts[key])  # type: ignore[return-value]
            except ValueError as exc:
                raise ConfigError(f"{where}.{key}: {exc}") from None

        fail_on = severity("fail_on", config.fail_on)
        ai_fail_on = severity("ai_fail_on", Severity(max(fail_on - 1, Severity.INFO)))
        for key in ("auditors", "suggestions_logs"):
            if not all(isinstance(v, str) for v in opts[key]):
                raise ConfigError(f"{where}.{key} must be a list of strings")
        auditors = tuple(opts["auditors"]) or tuple(a for a in config.auditors if a != "tests")
        if opts["auditors"]:
            from codeaudit.registry import auditor_targets

            known = auditor_targets()
            for name in auditors:
                if name not in known:
                    raise ConfigError(
                        f"{where}.auditors: unknown auditor '{name}' (known: {', '.join(sorted(known))})"
                    )
        return cls(
            fail_on=fail_on,
            ai_fail_on=ai_fail_on,
            auditors=auditors,
            baseline=opts["baseline"] or None,
            suggestions_logs=tuple(opts["suggestions_logs"]),
            markers=bool(opts["markers"]),
        )

    def threshold(self, finding: Finding) -> Severity:
        return self.ai_fail_on if finding.ai_generated else self.fail_on

    def blocks(self, finding: Finding) -> bool:
        return finding.active and finding.severity >= self.threshold(finding)


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One file to audit: its new content and the line numbers (1-based) the change adds."""

    path: str
    content: bytes
    added: frozenset[int]
    old_path: str | None = None
    status: str = "modified"


@dataclass(frozen=True, slots=True)
class ChangeAudit:
    """What auditing a change found.

    ``report`` has one result per audited file: its suggestion is the whole file (``path`` set)
    and finding lines are file lines (the working tree's for staged changes, HEAD's for a range).
    """

    report: Report
    settings: HookSettings
    #: (path, reason) for files with nothing to audit: binary, deleted, submodule, no added lines …
    skipped: tuple[tuple[str, str], ...] = ()
    #: Unused inline suppressions on added lines, as (path, suppression).
    unused_suppressions: tuple[tuple[str, Suppression], ...] = ()
    added_lines: int = 0
    ai_lines: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def findings(
        self, *, include_suppressed: bool = False
    ) -> Iterable[tuple[AuditResult, Finding]]:
        return self.report.findings(include_suppressed=include_suppressed)

    def blocking(self) -> list[tuple[AuditResult, Finding]]:
        """Active findings at or above their threshold (``ai_fail_on`` in AI-generated lines)."""
        return [(r, f) for r, f in self.report.findings() if self.settings.blocks(f)]

    @property
    def failed(self) -> bool:
        return any(self.settings.blocks(f) for _, f in self.report.findings())

    @property
    def verdict(self) -> Verdict:
        if self.failed:
            return Verdict.FAIL
        if any(True for _ in self.report.findings()) or any(r.errors for r in self.report.results):
            return Verdict.WARN
        return Verdict.PASS


# --- building suggestions from added lines ------------------------------------------------------


def clusters(added: Iterable[int], gap: int = CLUSTER_GAP) -> list[tuple[int, int]]:
    """Group added line numbers into (first, last) clusters; a gap of ``gap`` lines or fewer joins.

    >>> clusters({1, 2, 3, 30, 31, 100}, gap=30)
    [(1, 31), (100, 100)]
    """
    out: list[list[int]] = []
    for n in sorted(set(added)):
        if out and n - out[-1][1] - 1 <= gap:
            out[-1][1] = n
        else:
            out.append([n, n])
    return [(a, b) for a, b in out]


def _split_lines(text: str) -> list[str]:
    """Lines as git counts them (split on ``\\n`` only; no empty line after a final newline)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _line_offsets(text: str) -> list[int]:
    """Offsets where git's lines start (git splits on ``\\n`` only), plus ``len(text)``."""
    starts = [0]
    find, i = text.find, 0
    while (j := find("\n", i)) >= 0:
        i = j + 1
        starts.append(i)
    if starts[-1] != len(text):
        starts.append(len(text))
    return starts


def _completion_line_to_file(completion: str, first: int) -> Callable[[int], int]:
    """Map a completion line (as auditors count, see :mod:`codeaudit.context`) to a git file line.

    They differ only when the text holds a lone ``\\r`` (which auditors count as a line break and
    git does not).
    """
    if "\r" not in completion.replace("\r\n", ""):
        return lambda line: first + line - 1
    from codeaudit.context import line_starts

    starts = line_starts(completion)

    def to_file(line: int) -> int:
        offset = starts[min(max(line, 1), len(starts)) - 1]
        return first + completion.count("\n", 0, offset)

    return to_file


# --- context around a cluster ---------------------------------------------------------------------

#: Lines of context before and after a cluster in languages other than Python.
CONTEXT_LINES = 20
#: How far the Python context may reach from a cluster (lines) before it gives up on a rule.
_PY_REACH = 400
_PY_CLAUSE = re.compile(r"[ \t]*(?:else|elif|except|finally|case)\b")
_PY_CLOSER = re.compile(r"[ \t]*[)\]}]")
_PY_COMPOUND = re.compile(r"[ \t]*(?:if|try|for|while|with|match|async[ \t]+(?:for|with))\b")
_PY_IMPORT = re.compile(r"^(?:import|from)[ \t]+[\w.]", re.MULTILINE)
_PY_TRIPLE = re.compile(r"\"\"\"|'''")
#: A line ending (comment removed) with one of these continues on the next line.
_PY_OPENS = ("(", "[", "{", ",", "\\")


def _code_end(line: str) -> str:
    """The line without a trailing comment or whitespace (quotes are tracked, escapes roughly)."""
    if "#" not in line:
        return line.rstrip()
    quote = ""
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "#":
            return line[:i].rstrip()
    return line.rstrip()


def _indent(line: str) -> int | None:
    """Indentation of a line with code, ``None`` for blank and comment-only lines."""
    stripped = line.lstrip(" \t")
    if not stripped or stripped[0] in "#\r":
        return None
    return len(line) - len(stripped)


class _PySource:
    """One Python file, read by indentation: statement starts, enclosing blocks, open strings."""

    def __init__(self, lines: Sequence[str], text: str, offsets: Sequence[int]) -> None:
        self.lines = lines
        self.text = text
        self.offsets = offsets
        self.quotes = (
            [m.start() for m in _PY_TRIPLE.finditer(text)]
            if ('"""' in text or "'''" in text)
            else []
        )

    def indent(self, k: int) -> int | None:
        return _indent(self.lines[k - 1])

    def string_start(self, k: int) -> int | None:
        """The line where a triple-quoted string still open at the start of line ``k`` began."""
        if not self.quotes:
            return None
        from bisect import bisect_left

        i = bisect_left(self.quotes, self.offsets[k - 1])
        if i % 2 == 0:
            return None
        return self.line_of(self.quotes[i - 1])

    def line_of(self, offset: int) -> int:
        from bisect import bisect_right

        return bisect_right(self.offsets, offset)

    def statement_start(self, k: int) -> int:
        """The first line of the statement line ``k`` (a line with code) belongs to."""
        for _ in range(_PY_REACH):
            inside = self.string_start(k)
            if inside is not None and inside < k:
                k = inside
                continue
            prev = k - 1
            while prev >= 1 and self.indent(prev) is None:
                prev -= 1
            if prev < 1:
                return k
            line = self.lines[k - 1]
            ind = _indent(line) or 0
            above = _code_end(self.lines[prev - 1])
            above_ind = _indent(above) or 0
            continued = (
                above.endswith(_PY_OPENS)
                or (ind > above_ind and not above.endswith(":"))
                or _PY_CLOSER.match(line) is not None
            )
            if not continued:
                return k
            k = prev
        return k

    def compound_start(self, k: int) -> int:
        """For an ``else``/``except``… clause at line ``k``: the line of its ``if``/``try``…"""
        ind = self.indent(k)
        j = k - 1
        while j >= 1 and k - j < _PY_REACH:
            i = self.indent(j)
            if i is not None and i < (ind or 0):
                break
            if i == ind and _PY_COMPOUND.match(self.lines[j - 1]):
                return j
            j -= 1
        return k

    def context(self, first: int, last: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        code = [k for k in range(first, last + 1) if self.indent(k) is not None]
        if not code:
            return [], []
        start = self.statement_start(code[0])
        if _PY_CLAUSE.match(self.lines[start - 1]):
            start = self.compound_start(start)
        if code[0] - start > _PY_REACH:
            start = code[0]
        headers: list[tuple[int, int]] = []
        threshold = self.indent(start) or 0
        j = start - 1
        while threshold and j >= 1 and start - j < 20 * _PY_REACH:
            ind = self.indent(j)
            if ind is not None and ind < threshold and self.string_start(j) is None:
                head = self.statement_start(j)
                if _PY_CLAUSE.match(self.lines[head - 1]):
                    head = self.compound_start(head)
                end = j  # a header written over several lines ends at its colon
                while (
                    end < start - 1
                    and end - j < 50
                    and not _code_end(self.lines[end - 1]).endswith(":")
                ):
                    end += 1
                headers.append((head, end))
                threshold = self.indent(head) or 0
                j = head - 1
                continue
            j -= 1
        headers.reverse()
        top = headers[0][0] if headers else start
        imports: list[tuple[int, int]] = []
        for m in _PY_IMPORT.finditer(self.text, 0, self.offsets[top - 1]):
            line = self.line_of(m.start())
            if self.string_start(line) is not None:
                continue
            end = line
            if "(" in self.lines[line - 1] and ")" not in self.lines[line - 1]:
                while end < top - 1 and ")" not in self.lines[end - 1]:
                    end += 1
            while end < top - 1 and _code_end(self.lines[end - 1]).endswith("\\"):
                end += 1
            imports.append((line, end))
        before = _merge(imports + headers + ([(start, first - 1)] if start < first else []))
        # The suffix completes the cluster's last statement (its continuation lines, or the body
        # of a block it opens) and a ``try:`` around the cluster (which needs its except clause).
        base = self.indent(self.statement_start(code[-1])) or 0
        tries = [
            self.indent(h) or 0 for h, _ in headers if self.lines[h - 1].lstrip().startswith("try")
        ]
        return before, self.suffix(min([base, *tries, *self._open_tries(code)]), last)

    def _open_tries(self, code: Sequence[int]) -> list[int]:
        """Indentations of ``try:`` statements the cluster opens and does not reach a clause of."""
        stack: list[int] = []
        for k in code:
            line = self.lines[k - 1]
            ind = self.indent(k) or 0
            while stack and ind <= stack[-1]:
                if ind == stack[-1] and line.lstrip().startswith(("except", "finally")):
                    stack.pop()  # the try is complete
                    break
                stack.pop()  # dedented past it without a clause: not valid code anyway
            if line.lstrip().startswith("try") and _code_end(line).endswith(":"):
                stack.append(ind)
        return stack

    def suffix(self, base: int, last: int) -> list[tuple[int, int]]:
        """The rest of the statement or blocks the cluster ends inside (lines deeper than ``base``)."""
        end = last
        k = last
        while k > 1 and self.indent(k) is None:
            k -= 1
        open_line = _code_end(self.lines[k - 1])
        j = last + 1
        n = len(self.lines)
        while j <= n and j - last <= _PY_REACH:
            ind = self.indent(j)
            if ind is None:
                j += 1
                continue
            line = self.lines[j - 1]
            if (
                ind > base
                or open_line.endswith(_PY_OPENS)
                or open_line.lstrip().startswith("@")  # a decorator needs what it decorates
                or (ind == base and (_PY_CLOSER.match(line) or _PY_CLAUSE.match(line)))
                or self.string_start(j) is not None
            ):
                end = j
                open_line = _code_end(line)
                j += 1
                continue
            break
        return [(last + 1, end)] if end > last else []


def context_ranges(
    lines: Sequence[str],
    first: int,
    last: int,
    language: str | None,
    *,
    text: str = "",
    offsets: Sequence[int] = (),
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Line ranges (1-based, inclusive) to give auditors before and after the cluster ``first..last``.

    Python gets what makes the cluster parse and resolve names as it does in the file: the
    module's top-level imports, the header lines of every enclosing block (``class``, ``def``,
    ``for`` …), the beginning of a statement the cluster starts inside, and the rest of the
    statements and blocks it ends inside. That is a few dozen lines however long the file is; when
    code defeats these indentation rules, the auditors' own fallbacks (parsing the cluster alone)
    still apply. Other languages get :data:`CONTEXT_LINES` lines on each side.

    >>> src = ["import os", "", "class A:", "    def f(self, p):", "        x = 1", "        return os.system(",
    ...        "            p)", "", "    def g(self):", "        pass"]
    >>> context_ranges(src, 7, 7, "python")
    ([(1, 1), (3, 4), (6, 6)], [])
    """
    if language != "python":
        return ([(max(1, first - CONTEXT_LINES), first - 1)] if first > 1 else []), (
            [(last + 1, min(len(lines), last + CONTEXT_LINES))] if last < len(lines) else []
        )
    if not text:
        text = "".join(line + "\n" for line in lines)
        offsets = _line_offsets(text)
    return _PySource(lines, text, offsets).context(first, last)


def _merge(rs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(rs):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _plan(
    files: Sequence[ChangedFile],
) -> tuple[
    list[Suggestion],
    list[tuple[int, str, Callable[[int], int]]],
    list[tuple[str, str]],
    list[InputIssue],
    list[tuple[ChangedFile, str]],
]:
    """Suggestions for the clusters of every file, and how to map their lines back."""
    from codeaudit.inputs import decode_source, is_binary
    from codeaudit.languages import detect, from_path

    suggestions: list[Suggestion] = []
    plan: list[tuple[int, str, Callable[[int], int]]] = []  # (file index, suggestion id, line map)
    skipped: list[tuple[str, str]] = []
    issues: list[InputIssue] = []
    decoded: list[tuple[ChangedFile, str]] = []
    for f in files:
        if is_binary(f.content):
            skipped.append((f.path, "binary"))
            continue
        text, problem = decode_source(f.content)
        if problem:
            issues.append(
                InputIssue(
                    source=f.path, line=None, message=problem, skipped=False, suggestion_id=f.path
                )
            )
        offsets = _line_offsets(text)
        n_lines = len(offsets) - 1
        added = {n for n in f.added if 1 <= n <= n_lines}
        if not added:
            skipped.append((f.path, "no added lines"))
            continue
        index = len(decoded)
        decoded.append((f, text))
        language = from_path(f.path) or detect(text[:20000])
        lines = _split_lines(text)
        source = _PySource(lines, text, offsets) if language == "python" else None
        for first, last in clusters(added):
            lo, hi = offsets[first - 1], offsets[last]
            completion = text[lo:hi]
            if source is not None:
                before, after = source.context(first, last)
            else:
                before, after = context_ranges(lines, first, last, language)
            plan.append(
                (index, f"{f.path}:{first}-{last}", _completion_line_to_file(completion, first))
            )
            suggestions.append(
                Suggestion(
                    id=f"{f.path}:{first}-{last}",
                    prompt="".join(text[offsets[x - 1] : offsets[y]] for x, y in before),
                    completion=completion,
                    suffix="".join(text[offsets[x - 1] : offsets[y]] for x, y in after),
                    path=f.path,
                    language=language,
                    origin=f"{f.path}:{first}",
                )
            )
    return suggestions, plan, skipped, issues, decoded


def audit_files(
    files: Sequence[ChangedFile],
    config: Config | None = None,
    *,
    settings: HookSettings | None = None,
    auditors: Sequence[str | Auditor] | None = None,
    baseline: Baseline | None = None,
    provenance: Provenance | None = None,
    line_maps: Mapping[str, LineMapper] | None = None,
    display: Mapping[str, bytes] | None = None,
    progress: Callable[[int, int], None] | None = None,
    parallel: bool = False,
) -> ChangeAudit:
    """Audit the added lines of ``files``; the engine under :func:`audit_staged` and :func:`audit_diff`.

    ``line_maps`` maps a file's lines to the lines it should be reported at (the working tree's),
    with ``display`` the content shown for it; ``auditors`` overrides ``settings.auditors``;
    ``progress(done, total)`` is passed to the pipeline. ``parallel`` runs auditors given by name
    in forked processes at the same time (see :class:`_ForkedAuditor`); the report then has no
    per-auditor summaries.
    """
    from codeaudit import pipeline, suppress
    from codeaudit.change.provenance import Provenance

    config = config or Config()
    settings = settings or HookSettings.from_config(config)
    line_maps = line_maps or {}
    display = display or {}
    suggestions, plan, skipped, issues, decoded = _plan(files)

    if provenance is None:
        provenance = Provenance(markers=settings.markers)
    chosen: list[Any] = list(auditors if auditors is not None else settings.auditors)
    forked: list[_ForkedAuditor] = []
    admission: list[InputIssue] = []
    if parallel and _can_fork(chosen, suggestions):
        # Admitted first, so the children audit exactly what the pipeline will hand them.
        suggestions, admission = pipeline.admit(suggestions, config)
        forked = [_ForkedAuditor(name, config, suggestions) for name in chosen]
        chosen = list(forked)
    try:
        for proxy in forked:
            proxy.wait_ready()
        report = pipeline.audit(
            suggestions, config, auditors=chosen, progress=progress, input_issues=admission
        )
    finally:
        for proxy in forked:
            proxy.close()
    by_id = {r.suggestion.id: r for r in report.results}

    per_file: list[list[tuple[AuditResult, Any]]] = [[] for _ in decoded]
    for index, suggestion_id, to_file in plan:
        result = by_id.get(suggestion_id)
        if result is not None:
            per_file[index].append((result, to_file))

    results: list[AuditResult] = []
    unused: list[tuple[str, Suppression]] = []
    total_added = total_ai = 0
    for (f, text), parts in zip(decoded, per_file):
        lines = _split_lines(text)
        added = {n for n in f.added if 1 <= n <= len(lines)}
        language = parts[0][0].language if parts else None
        findings: list[Finding] = []
        errors = []
        data: dict[str, Any] = {}
        for result, to_file in parts:
            errors.extend(result.errors)
            for name, value in result.data.items():
                data.setdefault(name, []).append(value)
            for finding in result.findings:
                line, end_line = to_file(finding.line), to_file(finding.end_line)
                if not any(n in added for n in range(line, end_line + 1)):
                    continue  # on an unchanged line of the cluster
                # The whole-file pass below decides inline suppressions, so it starts from scratch.
                findings.append(
                    replace(
                        finding,
                        line=line,
                        end_line=end_line,
                        suppressed=None if finding.suppressed == "inline" else finding.suppressed,
                    )
                )
        data = {k: v[0] if len(v) == 1 else {"parts": v} for k, v in data.items()}
        findings, sups = suppress.apply(findings, suppress.parse(text, language))
        file_suggestion = Suggestion(id=f.path, completion=text, path=f.path, language=language)
        if baseline is not None:
            findings = baseline.mark(file_suggestion, findings)
        ai = provenance.ai_lines(f.path, lines, added=added, language=language)
        total_added += len(added)
        total_ai += len(ai)
        if ai or provenance.has_log:
            findings = [
                replace(x, ai_generated=any(n in ai for n in range(x.line, x.end_line + 1)))
                for x in findings
            ]
        for s in sups:
            if not s.used and (s.line in added or (s.next_line and s.line - 1 in added)):
                unused.append((f.path, s))
        sups = [s for s in sups if s.line in added or (s.next_line and s.line - 1 in added)]

        mapper = line_maps.get(f.path)
        if mapper is not None:
            findings = [_to_worktree(x, mapper) for x in findings]
            sups = [replace(s, line=mapper.map(s.line) or s.line) for s in sups]
            shown = display.get(f.path)
            if shown is not None:
                from codeaudit.inputs import decode_source

                file_suggestion = replace(file_suggestion, completion=decode_source(shown)[0])
        findings.sort(key=lambda x: (x.line, x.column, x.auditor, x.rule_id))
        data["change"] = {
            "status": f.status,
            "old_path": f.old_path,
            "added": [list(r) for r in _ranges(added)],
            "ai_generated": [list(r) for r in _ranges(ai)],
        }
        results.append(
            AuditResult(
                suggestion=file_suggestion,
                language=language,
                verdict=_verdict(findings, errors, settings),
                findings=tuple(findings),
                errors=tuple(errors),
                suppressions=tuple(sups),
                data=data,
            )
        )

    blocking = sum(1 for r in results for f in r.findings if settings.blocks(f))
    tool = dict(report.tool)
    # The change's own verdict: summary.failed applies fail_on alone, this also ai_fail_on.
    tool["change"] = {
        "fail_on": settings.fail_on.label,
        "ai_fail_on": settings.ai_fail_on.label,
        "files": len(results),
        "added_lines": total_added,
        "ai_generated_lines": total_ai,
        "blocking": blocking,
        "failed": blocking > 0,
    }
    final = Report(
        results=tuple(results),
        tool=tool,
        fail_on=settings.fail_on,
        input_errors=(*report.input_errors, *issues, *provenance.issues),
        auditor_summaries=report.auditor_summaries,
        rules=report.rules,
    )
    return ChangeAudit(
        report=final,
        settings=settings,
        skipped=tuple(skipped),
        unused_suppressions=tuple(unused),
        added_lines=total_added,
        ai_lines=total_ai,
    )


def _can_fork(auditors: Sequence[Any], suggestions: Sequence[Suggestion]) -> bool:
    return (
        hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and len(auditors) > 1
        and all(isinstance(a, str) for a in auditors)
        and bool(suggestions)
    )


class _ForkedAuditor(Auditor):
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
        read, write = os.pipe()
        pid = os.fork()
        if (
            pid == 0
        ):  # the child: build, audit, answer, leave without running the parent's exit code
            os.close(read)
            try:
                with os.fdopen(write, "wb") as channel:
                    _child(name, config, batch, channel)
            finally:
                os._exit(0)
        os.close(write)
        self._pid: int | None = pid
        self._channel: Any = os.fdopen(read, "rb")

    @classmethod
    def rules(cls) -> Sequence[Any]:
        return []

    def _next(self) -> tuple[Any, ...]:
        import pickle

        try:
            return pickle.load(self._channel)
        except Exception:  # noqa: BLE001 - the child died before it could answer
            return ("crash", f"auditor '{self.name}' failed: its process ended without an answer")

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
        if self._pid is not None:
            import signal

            try:
                if os.waitpid(self._pid, os.WNOHANG) == (0, 0):
                    os.kill(self._pid, signal.SIGKILL)
                    os.waitpid(self._pid, 0)
            except OSError:
                pass
            self._pid = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None


def _child(name: str, config: Config, batch: Sequence[Suggestion], channel: Any) -> None:
    """In the child: build and run the auditor, answering on ``channel`` (see _ForkedAuditor)."""
    import pickle
    from dataclasses import fields

    from codeaudit.errors import CodeauditError
    from codeaudit.registry import load_auditor_class

    def send(message: tuple[Any, ...]) -> None:
        pickle.dump(message, channel, protocol=pickle.HIGHEST_PROTOCOL)
        channel.flush()

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
        findings = [{k: _thaw(getattr(f, k)) for k in finding_fields} for f in o.findings]
        audit_errors = [
            {"auditor": e.auditor, "code": e.code, "message": e.message, "line": e.line}
            for e in o.errors
        ]
        packed.append((s.id, (findings, audit_errors, _thaw(o.data))))
    send(("ok", packed, _thaw(auditor.describe())))
    auditor.close()


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_thaw(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_thaw(v) for v in value)
    return value


def _ranges(lines: Iterable[int]) -> tuple[tuple[int, int], ...]:
    from codeaudit.change.gitdiff import ranges

    return ranges(lines)


def _to_worktree(f: Finding, mapper: LineMapper) -> Finding:
    line = mapper.map(f.line)
    if line is None:  # the line was edited again after staging: keep the staged line number
        return f
    end = mapper.map(f.end_line) or line
    return replace(f, line=line, end_line=max(end, line))


def _verdict(findings: Sequence[Finding], errors: Sequence[Any], settings: HookSettings) -> Verdict:
    active = [f for f in findings if f.active]
    if any(settings.blocks(f) for f in active):
        return Verdict.FAIL
    return Verdict.WARN if active or errors else Verdict.PASS


# --- sources of changes --------------------------------------------------------------------------


def _changed_files(
    root: Path, changes: Sequence[FileChange], paths: Sequence[str] | None
) -> tuple[list[ChangedFile], list[tuple[str, str]]]:
    from codeaudit.change.gitdiff import read_blobs

    wanted = None if paths is None else {_relative(p, root) for p in paths}
    todo: list[FileChange] = []
    skipped: list[tuple[str, str]] = []
    for c in changes:
        if wanted is not None and c.path not in wanted:
            continue
        if c.status == "deleted":
            skipped.append((c.path, "deleted"))
        elif c.submodule:
            skipped.append((c.path, "submodule"))
        elif c.binary:
            skipped.append((c.path, "binary"))
        elif not c.added or not c.new_oid:
            skipped.append((c.path, "no added lines"))
        else:
            todo.append(c)
    blobs = read_blobs(root, (c.new_oid for c in todo if c.new_oid))
    files = [
        ChangedFile(
            path=c.path,
            content=blobs[c.new_oid],
            added=frozenset(c.added_lines()),
            old_path=c.old_path,
            status=c.status,
        )
        for c in todo
        if c.new_oid
    ]
    return files, skipped


def _relative(path: str, root: Path) -> str:
    """``path`` (absolute, or relative to the current folder) relative to the repository root."""
    rel = os.path.relpath(os.path.abspath(path), root)
    return Path(path).as_posix() if rel.startswith("..") else Path(rel).as_posix()


def _load_baseline(
    baseline: Baseline | str | os.PathLike[str] | None, root: Path, settings: HookSettings
) -> Baseline | None:
    spec = baseline if baseline is not None else settings.baseline
    if not spec:
        return None
    from codeaudit.change.baseline import Baseline

    if isinstance(spec, Baseline):
        return spec
    path = Path(spec)
    if not path.is_absolute():
        path = root / path if baseline is None else Path.cwd() / path
    return Baseline.load(path, root=root)


def _load_provenance(
    logs: Sequence[str] | None, root: Path, settings: HookSettings, files: Sequence[ChangedFile]
) -> Provenance:
    """Suggestion logs given explicitly must exist; configured ones are skipped when absent
    (they are often per-developer files that a fresh clone does not have)."""
    from codeaudit.change.provenance import Provenance, normalize

    explicit = logs is not None
    paths = (
        [Path(p) for p in logs]
        if logs is not None
        else [root / p for p in settings.suggestions_logs]
    )
    if not explicit:
        paths = [p for p in paths if p.is_file()]
    if not paths:
        return Provenance(markers=settings.markers)
    wanted: set[str] = set()
    for f in files:
        lines = f.content.decode("utf-8", "replace").split("\n")
        wanted.update(normalize(lines[n - 1]) for n in f.added if 1 <= n <= len(lines))
    return Provenance.from_logs(paths, wanted=wanted, markers=settings.markers)


def _common(
    root: Path,
    files: list[ChangedFile],
    skipped: list[tuple[str, str]],
    renames: Mapping[str, str],
    config: Config | None,
    baseline: Baseline | str | os.PathLike[str] | None,
    suggestions_logs: Sequence[str] | None,
    auditors: Sequence[str | Auditor] | None,
    line_maps: Mapping[str, LineMapper] | None = None,
    display: Mapping[str, bytes] | None = None,
    head: str | None = None,
    parallel: bool = False,
) -> ChangeAudit:
    from codeaudit.config import load_config

    config = config if config is not None else load_config(search_from=root)
    settings = HookSettings.from_config(config)
    base = _load_baseline(baseline, root, settings)
    notes: list[str] = []
    if base is not None:
        base.renames.update(baseline_renames(root, base, head))
        base.renames.update(renames)
        names = [
            a if isinstance(a, str) else a.name
            for a in (auditors if auditors is not None else settings.auditors)
        ]
        notes.extend(base.parameter_warnings(config, names))
    provenance = _load_provenance(suggestions_logs, root, settings, files)
    result = audit_files(
        files,
        config,
        settings=settings,
        auditors=auditors,
        baseline=base,
        provenance=provenance,
        line_maps=line_maps,
        display=display,
        parallel=parallel,
    )
    return replace(result, skipped=(*skipped, *result.skipped), notes=(*notes, *result.notes))


def baseline_renames(root: Path, base: Baseline, head: str | None) -> dict[str, str]:
    """Where files named in the baseline that no longer exist were renamed to since the baseline
    was committed, so their findings follow them there and nowhere else."""
    from codeaudit.change.gitdiff import renames_since

    vanished = {e.path for e in base.entries if not (root / e.path).exists()}
    if not vanished or base.source is None:
        return {}
    try:
        rel = Path(base.source).resolve().relative_to(root.resolve()).as_posix()
        found = renames_since(root, rel, head)
    except (ValueError, InputError):
        return {}
    return {new: old for new, old in found.items() if old in vanished}


def audit_staged(
    root: str | os.PathLike[str] | None = None,
    *,
    paths: Sequence[str] | None = None,
    config: Config | None = None,
    baseline: Baseline | str | os.PathLike[str] | None = None,
    suggestions_logs: Sequence[str] | None = None,
    auditors: Sequence[str | Auditor] | None = None,
    parallel: bool = False,
) -> ChangeAudit:
    """Audit the lines the next commit adds (read from the index), reported at working-tree lines.

    ``paths`` limits the audit to those files (what pre-commit passes); ``config`` defaults to the
    repository's; ``baseline`` and ``suggestions_logs`` default to ``[tool.codeaudit.hook]``'s;
    ``parallel`` runs the auditors in processes of their own at the same time (no auditor
    summaries in the report then; see :func:`audit_files`).
    """
    from codeaudit.change.gitdiff import locate, rename_map, staged_changes, worktree_line_maps

    top, git_folder = locate(root)
    changes = staged_changes(top, git_folder)
    files, skipped = _changed_files(top, changes, paths)
    # Files whose working-tree copy differs from the staged one are reported at working-tree
    # lines; comparing the bytes first spares a git call in the usual case (pre-commit stashes
    # unstaged edits, so they are equal).
    display: dict[str, bytes] = {}
    for f in files:
        try:
            current = (top / f.path).read_bytes()
        except OSError:
            continue
        if current != f.content:
            display[f.path] = current
    maps = worktree_line_maps(top, list(display)) if display else {}
    maps = {p: m for p, m in maps.items() if p in display}
    return _common(
        top,
        files,
        skipped,
        rename_map(changes),
        config,
        baseline,
        suggestions_logs,
        auditors,
        maps,
        display,
        parallel=parallel,
    )


def audit_diff(
    rev_range: str,
    root: str | os.PathLike[str] | None = None,
    *,
    paths: Sequence[str] | None = None,
    config: Config | None = None,
    baseline: Baseline | str | os.PathLike[str] | None = None,
    suggestions_logs: Sequence[str] | None = None,
    auditors: Sequence[str | Auditor] | None = None,
    parallel: bool = False,
) -> ChangeAudit:
    """Audit the lines ``BASE..HEAD`` or ``BASE...HEAD`` adds, reported at HEAD's paths and lines.

    Use ``origin/main...HEAD`` for a pull request: three dots compare against the merge base, so
    only what the branch itself adds is audited.
    """
    from codeaudit.change.gitdiff import parse_range, range_changes, rename_map, repo_root

    top = repo_root(root)
    changes = range_changes(rev_range, top)
    files, skipped = _changed_files(top, changes, paths)
    head = parse_range(rev_range)[1]
    return _common(
        top,
        files,
        skipped,
        rename_map(changes),
        config,
        baseline,
        suggestions_logs,
        auditors,
        head=head,
        parallel=parallel,
    )


def audit_paths(
    paths: Sequence[str],
    *,
    config: Config | None = None,
    baseline: Baseline | str | os.PathLike[str] | None = None,
    suggestions_logs: Sequence[str] | None = None,
    auditors: Sequence[str | Auditor] | None = None,
    parallel: bool = False,
) -> ChangeAudit:
    """Audit whole files from disk, every line counting as added (``--all-lines``, or outside git)."""
    from codeaudit.change.gitdiff import repo_root

    try:
        root = repo_root()
    except InputError:
        root = Path.cwd()
    files: list[ChangedFile] = []
    skipped: list[tuple[str, str]] = []
    for p in paths:
        try:
            content = Path(p).read_bytes()
        except OSError as exc:
            raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from None
        n = content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
        files.append(
            ChangedFile(
                path=_relative(p, root),
                content=content,
                added=frozenset(range(1, n + 1)),
                status="added",
            )
        )
    return _common(
        root, files, skipped, {}, config, baseline, suggestions_logs, auditors, parallel=parallel
    )


# --- output and the command ----------------------------------------------------------------------


def write_text(result: ChangeAudit, stream: TextIO, *, verbose: bool = False) -> None:
    """One line per finding, ``path:line:column: RULE name [severity] message``; blocking ones first
    flagged with ``error``, the others with ``warning`` (the form editors and CI logs link)."""
    settings = result.settings
    for r, f in result.report.findings():
        kind = "error" if settings.blocks(f) else "warning"
        ai = " [AI-generated]" if f.ai_generated else ""
        stream.write(
            f"{r.suggestion.path}:{f.line}:{f.column}: {kind}: {f.rule_id} {f.rule_name} [{f.severity.label}]{ai} {f.message}\n"
        )
    for path, s in result.unused_suppressions:
        rules = f"[{', '.join(s.rules)}]" if s.rules else ""
        stream.write(f"{path}:{s.line}: note: unused suppression codeaudit: ignore{rules}\n")
    for issue in result.report.input_errors:
        stream.write(f"{issue}\n")
    for r in result.report.results:
        for e in r.errors:
            stream.write(f"{r.suggestion.path}: note: {e.auditor}: {e.message}\n")
    for note in result.notes:
        stream.write(f"note: {note}\n")
    if verbose:
        for path, reason in result.skipped:
            stream.write(f"{path}: skipped ({reason})\n")
    counts = {"blocking": len(result.blocking())}
    counts["findings"] = sum(1 for _ in result.report.findings())
    suppressed = sum(1 for _, f in result.report.findings(include_suppressed=True) if not f.active)
    if counts["findings"] or verbose or result.failed:
        stream.write(
            f"codeaudit: {len(result.report.results)} file(s), {result.added_lines} added line(s)"
            f" ({result.ai_lines} AI-generated): {counts['findings']} finding(s), {counts['blocking']} blocking"
            f" (fail_on={settings.fail_on.label}, ai_fail_on={settings.ai_fail_on.label}), {suppressed} suppressed\n"
        )
