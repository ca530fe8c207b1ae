"""Audit only what a change adds: the pre-commit hook, ``audit --diff`` and the review-bot API.

How added lines are audited
---------------------------
This is a layer over :func:`codeaudit.pipeline.run`, which makes the suppressions, the baseline
and the verdict as for any batch. The change layer adds what a change needs:

* which lines are new, and the code around them (:mod:`codeaudit.change.context`): each changed
  file's added lines are grouped into clusters (added lines at most :data:`CLUSTER_GAP` lines
  apart share one). Every cluster becomes one suggestion whose ``completion`` is the cluster's
  whole lines and whose ``prompt`` and ``suffix`` are the code around it that makes it parse and
  resolve as in the file (for Python, read from tree-sitter's syntax tree: imports, enclosing
  block headers and the statements the cluster starts or ends inside), so the work of every
  auditor grows with the added lines, not with the size of the files;
* the fold: the pipeline hands back what the auditors found in the clusters, and each file's
  findings are mapped back to file lines and kept only when they touch an added line (a finding
  on an unchanged line never counts, even when it sits inside a cluster); the pipeline then reads
  inline suppressions from the whole file (an ``ignore-next-line`` comment just above an edited
  line still works), applies the baseline to the file and makes its verdict;
* AI provenance (:mod:`codeaudit.change.provenance`): each finding learns whether it sits in
  AI-generated lines, and the policy (:mod:`codeaudit.change.policy`) gives the pipeline's
  verdict a stricter threshold for those.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from codeaudit.auditors.base import Auditor, Outcome
from codeaudit.change.context import (
    CLUSTER_GAP,
    CONTEXT_LINES,
    PythonContext,
    clusters,
    completion_line_to_file,
    context_ranges,
    git_line_offsets,
    git_lines,
)
from codeaudit.change.policy import OPTIONS_SPEC, HookSettings
from codeaudit.config import Config
from codeaudit.errors import InputError
from codeaudit.model import (
    AuditResult,
    Finding,
    InputIssue,
    Report,
    Suggestion,
    Suppression,
    Verdict,
)

if TYPE_CHECKING:
    from codeaudit.change.baseline import Baseline
    from codeaudit.change.gitdiff import FileChange, LineMapper
    from codeaudit.change.provenance import Provenance
    from codeaudit.pipeline import Unit

__all__ = [
    "CLUSTER_GAP",
    "CONTEXT_LINES",
    "OPTIONS_SPEC",
    "ChangeAudit",
    "ChangedFile",
    "UNCHANGED",
    "HookSettings",
    "audit_diff",
    "audit_files",
    "audit_paths",
    "audit_staged",
    "baseline_renames",
    "clusters",
    "context_ranges",
    "write_text",
]


#: The skip reason of a file asked for that the change does not touch (see ``ChangeAudit.unchanged``).
UNCHANGED = "not in the change"


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
    #: (path, reason) for files with nothing to audit: binary, deleted, submodule, no added lines,
    #: or :data:`UNCHANGED` (a file asked for that the change does not touch) …
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

    @property
    def unchanged(self) -> tuple[str, ...]:
        """Files asked for (``paths``) that the change does not touch: pre-commit's
        ``--all-files`` passes every tracked file, and their committed lines are not audited."""
        return tuple(path for path, reason in self.skipped if reason == UNCHANGED)

    def blocking(self) -> list[tuple[AuditResult, Finding]]:
        """Active findings at or above their threshold (``ai_fail_on`` in AI-generated lines)."""
        return [(r, f) for r, f in self.report.findings() if self.settings.blocks(f)]

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.FAIL

    @property
    def verdict(self) -> Verdict:
        """The worst of the files' verdicts (each made by the pipeline with the hook's policy)."""
        verdicts = {r.verdict for r in self.report.results}
        for v in (Verdict.FAIL, Verdict.WARN):
            if v in verdicts:
                return v
        return Verdict.PASS


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
        offsets = git_line_offsets(text)
        n_lines = len(offsets) - 1
        added = {n for n in f.added if 1 <= n <= n_lines}
        if not added:
            skipped.append((f.path, "no added lines"))
            continue
        index = len(decoded)
        decoded.append((f, text))
        language = from_path(f.path) or detect(text[:20000])
        lines = git_lines(text)
        source = PythonContext(text, lines) if language == "python" else None
        for first, last in clusters(added):
            lo, hi = offsets[first - 1], offsets[last]
            completion = text[lo:hi]
            if source is not None:
                before, after = source.context(first, last)
            else:
                before, after = context_ranges(lines, first, last, language)
            plan.append(
                (index, f"{f.path}:{first}-{last}", completion_line_to_file(completion, first))
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


class _Fold:
    """The change's fold for :func:`codeaudit.pipeline.run`: the clusters' outcomes become one
    unit per file, at file lines, with only findings that touch an added line, each marked
    AI-generated or not. It remembers each file's added and AI-generated lines."""

    def __init__(
        self,
        decoded: Sequence[tuple[ChangedFile, str]],
        plan: Sequence[tuple[int, str, Callable[[int], int]]],
        provenance: Provenance,
    ) -> None:
        self.decoded = decoded
        self.plan = plan
        self.provenance = provenance
        self.added: list[set[int]] = []
        self.ai: list[set[int]] = []

    def __call__(
        self,
        admitted: Sequence[Suggestion],
        screened: Sequence[Sequence[tuple[str, Outcome]]],
    ) -> list[Unit]:
        from codeaudit.pipeline import Unit

        by_id = {s.id: (s, parts) for s, parts in zip(admitted, screened)}
        per_file: list[list[tuple[Suggestion, Sequence[tuple[str, Outcome]], Any]]] = [
            [] for _ in self.decoded
        ]
        for index, suggestion_id, to_file in self.plan:
            if suggestion_id in by_id:
                per_file[index].append((*by_id[suggestion_id], to_file))
        units: list[Unit] = []
        for (f, text), clustered in zip(self.decoded, per_file):
            lines = git_lines(text)
            added = {n for n in f.added if 1 <= n <= len(lines)}
            language = clustered[0][0].language if clustered else None
            ai = self.provenance.ai_lines(f.path, lines, added=added, language=language)
            known = bool(ai) or self.provenance.has_log
            self.added.append(added)
            self.ai.append(ai)
            parts: list[tuple[str, Outcome]] = []
            data: dict[str, list[Any]] = {}
            for _, outcomes, to_file in clustered:
                for name, outcome in outcomes:
                    if outcome.data:
                        data.setdefault(name, []).append(outcome.data)
                    findings = []
                    for finding in outcome.findings:
                        line, end_line = to_file(finding.line), to_file(finding.end_line)
                        touched = range(line, end_line + 1)
                        if not any(n in added for n in touched):
                            continue  # on an unchanged line of the cluster
                        finding = replace(finding, line=line, end_line=end_line)
                        if known:
                            finding = replace(finding, ai_generated=any(n in ai for n in touched))
                        findings.append(finding)
                    parts.append((name, Outcome(findings=findings, errors=outcome.errors)))
            merged: dict[str, Any] = {
                k: v[0] if len(v) == 1 else {"parts": v} for k, v in data.items()
            }
            merged["change"] = {
                "status": f.status,
                "old_path": f.old_path,
                "added": [list(r) for r in _ranges(added)],
                "ai_generated": [list(r) for r in _ranges(ai)],
            }
            file_suggestion = Suggestion(id=f.path, completion=text, path=f.path, language=language)
            units.append(Unit(file_suggestion, parts, merged))
        return units


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
    in forked processes at the same time (see :class:`codeaudit.change.forked.ForkedAuditor`);
    the report then has no per-auditor summaries.
    """
    from codeaudit import pipeline
    from codeaudit.change.forked import ForkedAuditor, can_fork
    from codeaudit.change.provenance import Provenance

    config = config or Config()
    settings = settings or HookSettings.from_config(config)
    line_maps = line_maps or {}
    display = display or {}
    suggestions, plan, skipped, issues, decoded = _plan(files)

    if provenance is None:
        provenance = Provenance(markers=settings.markers)
    chosen: list[Any] = list(auditors if auditors is not None else settings.auditors)
    forked: list[ForkedAuditor] = []
    admission: list[InputIssue] = []
    if parallel and can_fork(chosen, suggestions):
        # Admitted first, so the children audit exactly what the pipeline will hand them.
        suggestions, admission = pipeline.admit(suggestions, config)
        forked = [ForkedAuditor(name, config, suggestions) for name in chosen]
        chosen = list(forked)
    fold = _Fold(decoded, plan, provenance)
    try:
        for proxy in forked:
            proxy.wait_ready()
        report = pipeline.run(
            suggestions,
            config,
            auditors=chosen,
            baseline=baseline,
            progress=progress,
            input_issues=admission,
            fold=fold,
            threshold=settings.threshold,
            fail_on=settings.fail_on,
        )
    finally:
        for proxy in forked:
            proxy.close()

    # What the change reports beyond the pipeline's results: unused suppressions on added
    # lines, and findings at working-tree lines when the staged file differs from it.
    results: list[AuditResult] = []
    unused: list[tuple[str, Suppression]] = []
    for r, added in zip(report.results, fold.added):
        path = r.suggestion.path or r.suggestion.id
        sups = [
            s for s in r.suppressions if s.line in added or (s.next_line and s.line - 1 in added)
        ]
        unused.extend((path, s) for s in sups if not s.used)
        findings = list(r.findings)
        suggestion = r.suggestion
        mapper = line_maps.get(path)
        if mapper is not None:
            findings = [_to_worktree(x, mapper) for x in findings]
            findings.sort(key=lambda x: (x.line, x.column, x.auditor, x.rule_id))
            sups = [replace(s, line=mapper.map(s.line) or s.line) for s in sups]
            shown = display.get(path)
            if shown is not None:
                from codeaudit.inputs import decode_source

                suggestion = replace(suggestion, completion=decode_source(shown)[0])
        results.append(
            replace(r, suggestion=suggestion, findings=tuple(findings), suppressions=tuple(sups))
        )

    blocking = sum(1 for r in results for f in r.findings if settings.blocks(f))
    total_added = sum(len(a) for a in fold.added)
    total_ai = sum(len(a) for a in fold.ai)
    tool = dict(report.tool)
    # The change's own figures: summary.failed applies fail_on alone, these also ai_fail_on.
    tool["change"] = {
        "fail_on": settings.fail_on.label,
        "ai_fail_on": settings.ai_fail_on.label,
        "files": len(results),
        "added_lines": total_added,
        "ai_generated_lines": total_ai,
        "blocking": blocking,
        "failed": blocking > 0,
    }
    final = replace(
        report,
        results=tuple(results),
        tool=tool,
        input_errors=(*report.input_errors, *issues, *provenance.issues),
    )
    return ChangeAudit(
        report=final,
        settings=settings,
        skipped=tuple(skipped),
        unused_suppressions=tuple(unused),
        added_lines=total_added,
        ai_lines=total_ai,
    )


def _ranges(lines: Iterable[int]) -> tuple[tuple[int, int], ...]:
    from codeaudit.change.gitdiff import ranges

    return ranges(lines)


def _to_worktree(f: Finding, mapper: LineMapper) -> Finding:
    line = mapper.map(f.line)
    if line is None:  # the line was edited again after staging: keep the staged line number
        return f
    end = mapper.map(f.end_line) or line
    return replace(f, line=line, end_line=max(end, line))


# --- sources of changes --------------------------------------------------------------------------


def _changed_files(
    root: Path, changes: Sequence[FileChange], paths: Sequence[str] | None
) -> tuple[list[ChangedFile], list[tuple[str, str]]]:
    from codeaudit.change.gitdiff import read_blobs

    wanted = None if paths is None else dict.fromkeys(_relative(p, root) for p in paths)
    todo: list[FileChange] = []
    skipped: list[tuple[str, str]] = []
    if wanted is not None:
        changed = {c.path for c in changes}
        skipped.extend((p, UNCHANGED) for p in wanted if p not in changed)
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
        lines = git_lines(f.content.decode("utf-8", "replace"))
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
