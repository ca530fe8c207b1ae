"""suggestions -> auditors -> (disable, severity overrides, allowlist, inline suppressions, baseline) -> report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from . import languages, suppress
from ._version import __version__
from .auditors.base import Auditor, Outcome, Progress
from .config import Config
from .context import split_lines
from .errors import UsageError
from .inputs import duplicate_message, suggestion_from_mapping, unique_id
from .model import (
    AuditError,
    AuditResult,
    Finding,
    InputIssue,
    Report,
    Severity,
    Suggestion,
    Verdict,
    any_value,
    map_strings,
)
from .redact import Masker
from .registry import Rule, load_auditor_class


class Baseline(Protocol):
    """Anything that marks already-known findings (see :mod:`codeaudit.change.baseline`)."""

    def mark(self, suggestion: Suggestion, findings: Sequence[Finding]) -> list[Finding]: ...


SuggestionLike = Suggestion | Mapping[str, Any] | str


@dataclass(frozen=True, slots=True)
class Unit:
    """What one result is made of: the suggestion it reports on (suppressions are read from its
    completion, the baseline keys on its path) and what each auditor found there, as
    ``(auditor name, outcome)`` pairs in report order (a name may repeat: a change layer folds the
    outcomes of several suggestions into one file). ``data`` replaces the auditors' data when set.
    """

    suggestion: Suggestion
    parts: Sequence[tuple[str, Outcome]]
    data: Mapping[str, Any] | None = None


#: Folds the screened outcomes of the admitted suggestions (one ``(name, outcome)`` list per
#: suggestion) into the units the report has one result each for.
Fold = Callable[[Sequence[Suggestion], Sequence[Sequence[tuple[str, Outcome]]]], Sequence[Unit]]
#: The severity at or above which an active finding fails the verdict.
Threshold = Callable[[Finding], Severity]


def audit(
    suggestions: Iterable[SuggestionLike],
    config: Config | None = None,
    *,
    auditors: Sequence[str | Auditor] | None = None,
    baseline: Baseline | None = None,
    input_issues: Iterable[InputIssue] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Audit suggestions and return a :class:`~codeaudit.model.Report`.

    ``suggestions`` may hold :class:`Suggestion` objects, mappings in the batch contract's shape,
    or plain code strings. ``auditors`` overrides ``config.auditors`` with names or ready
    instances (instances are reused and not closed, so a long-running review bot pays set-up once).
    ``progress(done, total)`` is called as work finishes; it counts checks, one suggestion
    through one auditor (``total`` is admitted suggestions × auditors; the auditors run one
    after another, each over the whole batch).

    >>> from codeaudit import audit
    >>> report = audit([{"id": "a", "completion": "key = open('/home/alice/.ssh/id_rsa').read()\\n"}],
    ...                auditors=["privacy"])
    >>> [(f.rule_name, f.evidence["username"]) for _, f in report.findings()]
    [('username-in-path', 'alice')]
    """
    return run(
        suggestions,
        config,
        auditors=auditors,
        baseline=baseline,
        input_issues=input_issues,
        progress=progress,
    )


def run(
    suggestions: Iterable[SuggestionLike],
    config: Config | None = None,
    *,
    auditors: Sequence[str | Auditor] | None = None,
    baseline: Baseline | None = None,
    input_issues: Iterable[InputIssue] = (),
    progress: Callable[[int, int], None] | None = None,
    fold: Fold | None = None,
    threshold: Threshold | None = None,
    fail_on: Severity | None = None,
) -> Report:
    """:func:`audit`, with what a layer above (the change layer) needs to report on other units
    than the suggestions: ``fold`` groups the auditors' screened outcomes into :class:`Unit`\\ s
    (before suppressions, the baseline and the verdict, which are made here once per unit);
    ``threshold(finding)`` is the severity at which a finding fails (default: ``fail_on``, itself
    defaulting to ``config.fail_on``), so a stricter policy for some findings needs no second
    verdict.
    """
    config = config or Config()
    path_policy(config)  # a bad [tool.codeaudit.paths] stops the run before any work
    fail_on = config.fail_on if fail_on is None else fail_on
    admitted, issues = admit(suggestions, config)
    issues = [*input_issues, *issues]

    owned: list[Auditor] = []
    instances: list[Auditor] = []
    for item in auditors if auditors is not None else config.auditors:
        if isinstance(item, Auditor):
            instances.append(item)
        elif isinstance(item, str):
            inst = load_auditor_class(item)(config)
            owned.append(inst)
            instances.append(inst)
        else:
            raise UsageError(f"auditors: expected a name or an Auditor, got {type(item).__name__}")

    total = len(admitted) * len(instances)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    per_suggestion: list[list[Outcome]] = [[] for _ in admitted]
    timings: dict[str, float] = {}
    names = [a.name for a in instances]
    try:
        for auditor in instances:
            started = time.perf_counter()
            before = done
            outcomes = _run_auditor(auditor, admitted, advance)
            # auditors that report no progress still finish
            advance(len(admitted) - (done - before))
            timings[auditor.name] = round(time.perf_counter() - started, 4)
            for slot, outcome in zip(per_suggestion, outcomes):
                slot.append(outcome)
        screened = [_screened(s, names, outs, config) for s, outs in zip(admitted, per_suggestion)]
        units = (
            fold(admitted, screened)
            if fold is not None
            else [Unit(s, parts) for s, parts in zip(admitted, screened)]
        )
        results = tuple(_result(u, baseline, threshold or (lambda f: fail_on)) for u in units)
        summaries: dict[str, Mapping[str, Any]] = {}
        described: dict[str, Any] = {}
        for auditor in instances:
            described[auditor.name] = {**auditor.describe(), "seconds": timings.get(auditor.name)}
            summary = auditor.summarize(results)
            if summary:
                summaries[auditor.name] = summary
    finally:
        for auditor in owned:
            auditor.close()

    tool = {
        "name": "codeaudit",
        "version": __version__,
        "auditors": described,
        "config": config.source,
    }
    return Report(
        results=results,
        tool=tool,
        fail_on=fail_on,
        input_errors=tuple(issues),
        auditor_summaries=summaries,
        rules=cited_rules(instances, results),
    )


def cited_rules(auditors: Iterable[Auditor], results: Iterable[AuditResult]) -> dict[str, Rule]:
    """The declared rules (id -> Rule) that ``results`` cite, suppressed findings included.

    A plug-in whose ``rules()`` fails costs its help text in the reports, not the report. Only
    auditors that reported a finding are asked (the security auditor's rule packs take a tenth
    of a second to load, which a file it had nothing to say about should not pay).
    """
    cited = {f.rule_id for r in results for f in r.findings}
    reporting = {f.auditor for r in results for f in r.findings}
    found: dict[str, Rule] = {}
    for auditor in auditors:
        if auditor.name not in reporting:
            continue
        try:
            declared = auditor.rules()
        except Exception:  # noqa: BLE001 - a broken plug-in costs its help text, not the report
            continue
        for rule in declared:
            if rule.id in cited:
                found.setdefault(rule.id, rule)
    return found


def admit(
    items: Iterable[SuggestionLike], config: Config
) -> tuple[list[Suggestion], list[InputIssue]]:
    """Turn input into auditable suggestions with their languages set; what cannot be audited
    (too large, binary, not a suggestion) is left out with an :class:`InputIssue` saying why."""
    issues: list[InputIssue] = []
    out: list[Suggestion] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        if isinstance(item, Suggestion):
            s = item
        elif isinstance(item, str):
            s = Suggestion(id=f"item-{index}", completion=item)
        elif isinstance(item, Mapping):
            s, problems = suggestion_from_mapping(
                item, default_id=f"item-{index}", origin=f"<api>[{index - 1}]"
            )
            for fld, message, skipped in problems:
                issues.append(
                    InputIssue(
                        source="<api>",
                        line=index,
                        field=fld,
                        message=message,
                        skipped=skipped,
                        suggestion_id=s.id if s else None,
                    )
                )
            if s is None:
                continue
        else:
            raise UsageError(
                f"suggestions[{index - 1}]: expected a Suggestion, a mapping or a string, got {type(item).__name__}"
            )

        source, line = _origin(s, index)
        size = len(s.completion.encode("utf-8", "surrogatepass"))
        if size > config.max_completion_bytes:
            issues.append(
                InputIssue(
                    source=source,
                    line=line,
                    field="completion",
                    suggestion_id=s.id,
                    message=f"completion of {size:,} bytes is over the {config.max_completion_bytes:,}-byte limit (max_completion_bytes); suggestion skipped",
                )
            )
            continue
        if "\x00" in s.completion:
            issues.append(
                InputIssue(
                    source=source,
                    line=line,
                    field="completion",
                    suggestion_id=s.id,
                    message="binary content (NUL characters) in completion; suggestion skipped",
                )
            )
            continue
        if s.id in seen:
            new_id = unique_id(s.id, index, seen)
            issues.append(
                InputIssue(
                    source=source,
                    line=line,
                    field="id",
                    suggestion_id=new_id,
                    skipped=False,
                    message=duplicate_message(s.id, new_id),
                )
            )
            s = replace(s, id=new_id)
        seen.add(s.id)
        out.append(_with_language(s))
    return out, issues


def _origin(s: Suggestion, index: int) -> tuple[str, int | None]:
    if s.origin and ":" in s.origin:
        source, _, line = s.origin.rpartition(":")
        if line.isdigit():
            return source, int(line)
    return s.origin or "<api>", None if s.origin else index


def _with_language(s: Suggestion) -> Suggestion:
    if s.language:
        canonical = languages.normalize(s.language)
        return s if canonical in (None, s.language) else replace(s, language=canonical)
    guess = languages.from_path(s.path) or languages.detect(s.prompt[-4000:] + s.completion)
    return replace(s, language=guess) if guess else s


def _run_auditor(auditor: Auditor, batch: list[Suggestion], advance: Progress) -> list[Outcome]:
    if not batch:
        return []
    try:
        outcomes = auditor.audit_batch(batch, advance)
        if len(outcomes) != len(batch):
            raise RuntimeError(f"returned {len(outcomes)} outcomes for {len(batch)} suggestions")
        return outcomes
    except Exception as exc:  # noqa: BLE001 - a crashing plug-in costs its own findings, never the report
        message = f"auditor '{auditor.name}' failed: {type(exc).__name__}: {exc}"
        return [
            Outcome(
                errors=[AuditError(auditor=auditor.name, code="auditor-crash", message=message)]
            )
            for _ in batch
        ]


def _screened(
    s: Suggestion, names: Sequence[str], outcomes: Sequence[Outcome], config: Config
) -> list[tuple[str, Outcome]]:
    """Each auditor's outcome for ``s`` with the configuration applied finding by finding: only
    findings inside the completion (the prompt and suffix are context), disabled rules left out,
    severity overrides, the path policy, the allowlist; then secrets masked everywhere and long
    text cut (see :func:`_shown_finding`)."""
    n_lines = max(1, len(split_lines(s.completion)))
    policy = path_policy(config) if s.path else None  # no path: nothing to judge by
    kept: list[list[Finding]] = []
    for outcome in outcomes:
        mine: list[Finding] = []
        for f in outcome.findings:
            if f.line > n_lines:
                continue  # outside the completion: the prompt and suffix are context only
            if f.rule_id in config.disable or f.rule_name in config.disable:
                continue
            override = config.severity.get(f.rule_id) or config.severity.get(f.rule_name)
            if override is not None and override != f.severity:
                f = replace(f, severity=override)
            if f.end_line > n_lines:
                f = replace(f, end_line=n_lines)
            if policy is not None and f.severity > policy.ceiling:
                where = policy.kind(s.path)
                if where is not None:
                    f = replace(
                        f,
                        severity=policy.ceiling,
                        evidence={**f.evidence, "path_policy": f"{where} ({f.severity.label})"},
                    )
            if config.allowlist and config.allowlist.matches(f.evidence, f.snippet):
                f = replace(f, suppressed="allowlist")
            mine.append(f)
        kept.append(mine)
    masker = Masker.of_findings(s.completion, [f for mine in kept for f in mine])
    lines = split_lines(s.completion)
    return [
        (
            name,
            Outcome(
                findings=[_shown_finding(f, masker, lines) for f in mine],
                errors=[replace(e, message=masker(e.message)) for e in o.errors]
                if masker
                else list(o.errors),
                data=o.data,
            ),
        )
        for name, o, mine in zip(names, outcomes, kept)
    ]


def _result(unit: Unit, baseline: Baseline | None, threshold: Threshold) -> AuditResult:
    """Suppressions, the baseline and the verdict: made here once, for every kind of unit."""
    s = unit.suggestion
    findings: list[Finding] = []
    errors: list[AuditError] = []
    data: dict[str, Any] = {}
    for name, outcome in unit.parts:
        errors.extend(outcome.errors)
        if outcome.data:
            data[name] = outcome.data
        findings.extend(outcome.findings)
    if unit.data is not None:
        data = dict(unit.data)
    findings, suppressions = suppress.apply(findings, suppress.parse(s.completion, s.language))
    if baseline is not None:
        findings = baseline.mark(s, findings)
    findings.sort(key=lambda f: (f.line, f.column, f.auditor, f.rule_id))
    return AuditResult(
        suggestion=s,
        language=s.language,
        verdict=verdict(findings, errors, threshold),
        findings=tuple(findings),
        errors=tuple(errors),
        suppressions=tuple(suppressions),
        data=data,
    )


#: Path conventions of code that is not a production path: tests (fuzzing harnesses included),
#: documentation samples, example apps, and build and release tooling that is not shipped (shell
#: patterns over the suggestion's path, ``/``-separated; see :func:`_glob`).
DEFAULT_NON_PRODUCTION = {
    "test": (
        "tests/*",
        "test/*",
        "testing/*",
        "*/tests/*",
        "*/test/*",
        "*/testing/*",
        "__tests__/*",
        "*/__tests__/*",
        "spec/*",
        "*/spec/*",
        "specs/*",
        "*/specs/*",
        "test_*.py",
        "*/test_*.py",
        "*_test.py",
        "*_test.go",
        "*_test.rs",
        "*.test.js",
        "*.test.ts",
        "*.spec.js",
        "*.spec.ts",
        "*.test.jsx",
        "*.test.tsx",
        "*Test.java",
        "*Tests.java",
        "*Test.kt",
        "*Tests.cs",
        "*Test.php",
        "*_spec.rb",
        "conftest.py",
        "*/conftest.py",
        "testdata/*",
        "*/testdata/*",
        "fixtures/*",
        "*/fixtures/*",
        # fuzzing harnesses: OSS-Fuzz and libFuzzer conventions, cargo-fuzz, atheris
        "fuzz/*",
        "*/fuzz/*",
        "fuzzing/*",
        "*/fuzzing/*",
        "fuzzers/*",
        "*/fuzzers/*",
        "ossfuzz/*",
        "*/ossfuzz/*",
        "oss-fuzz/*",
        "*/oss-fuzz/*",
        "*_fuzzer.c",
        "*_fuzzer.cc",
        "*_fuzzer.cpp",
        "*_fuzzer.py",
        "fuzz_*.c",
        "fuzz_*.cc",
        "fuzz_*.cpp",
        "fuzz_*.py",
    ),
    "docs": (
        "docs/*",
        "doc/*",
        "*/docs/*",
        "*/doc/*",
        "documentation/*",
        "*/documentation/*",
        "*.md",
        "*.rst",
        "*.adoc",
        "man/*",
        "*/man/*",
    ),
    "example": (
        "examples/*",
        "example/*",
        "*/examples/*",
        "*/example/*",
        "samples/*",
        "sample/*",
        "*/samples/*",
        "*/sample/*",
        "demo/*",
        "demos/*",
        "*/demo/*",
        "*/demos/*",
        "tutorial/*",
        "tutorials/*",
        "*/tutorial/*",
        "*/tutorials/*",
    ),
    # Build and release tooling by name: scripts that build, package or bootstrap the project
    # and are not part of what it ships (generated autotools scripts, build-tool wrappers, Python
    # packaging and task files). Left out: Makefiles, CMake, Gradle and Maven build files (they
    # also hold deployment steps, where a credential is real) and names that are also module
    # names (build.rs, setup.py below the top folder: a package may have a setup module).
    "build": (
        "/setup.py",
        "noxfile.py",
        "configure",
        "config.guess",
        "config.sub",
        "install-sh",
        "depcomp",
        "ltmain.sh",
        "aclocal.m4",
        "m4/*.m4",
        "*/m4/*.m4",
        "mvnw",
        "mvnw.cmd",
        "gradlew",
        "gradlew.bat",
    ),
}


class PathPolicy:
    """Where a finding stands: in test code (fuzzing harnesses included), documentation,
    example code or build tooling (by path convention, :data:`DEFAULT_NON_PRODUCTION`) a finding
    is shown at most at ``ceiling`` (default ``low``), with ``evidence.path_policy`` naming the
    kind and the severity it had.

    ``[tool.codeaudit.paths]``: ``enabled`` (true), ``ceiling`` ("low"), ``test``, ``docs``,
    ``example``, ``build`` (lists of shell patterns replacing that kind's defaults),
    ``production`` (patterns that are never lowered). ``--no-path-policy`` switches it off; a
    suggestion without a path is never lowered.

    >>> p = PathPolicy()
    >>> p.kind("pkg/tests/test_api.py"), p.kind("src/api.py"), p.kind("cmd/server_test.go")
    ('test', None, 'test')
    >>> p.kind("projects/png/libpng_read_fuzzer.cc"), p.kind("setup.py"), p.kind("pkg/setup.py")
    ('test', 'build', None)
    """

    def __init__(self, table: Mapping[str, Any] | None = None, where: str = "paths") -> None:
        import re as _re

        table = dict(table or {})
        known = {"enabled", "ceiling", "production", *DEFAULT_NON_PRODUCTION}
        unknown = sorted(set(table) - known)
        if unknown:
            raise UsageError(
                f"[tool.codeaudit.{where}]: unknown key '{unknown[0]}' (known: {', '.join(sorted(known))})"
            )
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise UsageError(f"[tool.codeaudit.{where}].enabled must be true or false")
        self.enabled = enabled
        try:
            self.ceiling = Severity.parse(table.get("ceiling", "low"))
        except ValueError as exc:
            raise UsageError(f"[tool.codeaudit.{where}].ceiling: {exc}") from None

        def patterns(key: str, default: tuple[str, ...]) -> Any:
            value = table.get(key, default)
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"[tool.codeaudit.{where}].{key} must be a list of strings")
            if not value:
                return None
            return _re.compile("|".join(_glob(v) for v in value), _re.IGNORECASE)

        self._kinds = [(k, patterns(k, v)) for k, v in DEFAULT_NON_PRODUCTION.items()]
        self._production = patterns("production", ())

    def kind(self, path: str | None) -> str | None:
        """``test``, ``docs``, ``example`` or ``build`` when ``path`` is such code, else ``None``."""
        if not self.enabled or not path:
            return None
        path = path.replace("\\", "/").lstrip("./")
        if self._production is not None and self._production.fullmatch(path):
            return None
        for kind, pattern in self._kinds:
            if pattern is not None and pattern.fullmatch(path):
                return kind
        return None


def _glob(pattern: str) -> str:
    """A path pattern as a regular expression: ``*`` stays within one folder name, a leading
    ``*/`` means any depth, a trailing ``/*`` anything below, a pattern without ``/`` names a
    file at any depth, and a leading ``/`` anchors it at the top folder (as in ``.gitignore``).

    >>> import re
    >>> [bool(re.fullmatch(_glob("*/test_*.py"), p)) for p in ("a/test_x.py", "test_a/x.py")]
    [True, False]
    >>> [bool(re.fullmatch(_glob("/setup.py"), p)) for p in ("setup.py", "pkg/setup.py")]
    [True, False]
    """
    import re as _re

    anchored = pattern.startswith("/")
    body = pattern.strip("/")
    lead = "(?:.*/)?" if body.startswith("*/") or ("/" not in body and not anchored) else ""
    if body.startswith("*/"):
        body = body[2:]
    tail = ""
    if body.endswith("/*"):
        body, tail = body[:-2], "/.*"
    core = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else _re.escape(c) for c in body)
    return f"(?:{lead}{core}{tail})"


_POLICIES: dict[int, tuple[Config, PathPolicy]] = {}


def path_policy(config: Config) -> PathPolicy:
    """The configuration's path policy (checked once per configuration)."""
    got = _POLICIES.get(id(config))
    if got is None or got[0] is not config:
        got = _POLICIES[id(config)] = (config, PathPolicy(config.auditor_options("paths")))
    return got[1]


def _shown_finding(f: Finding, masker: Masker, lines: Sequence[str]) -> Finding:
    """``f`` with the secrets that any auditor masked in its snippet masked in its message and
    evidence too (an auditor quoting a secret in its message, as bandit's B105 does, cannot leak
    it), whatever an auditor showed in a secret's place (``****``) turned into the one mask
    format, and long snippet lines, message and evidence cut to a window (a report entry stays
    small)."""
    raw = "\n".join(lines[f.line - 1 : f.end_line])
    if masker or "****" in f.snippet or "****" in f.message or _starred(f.evidence):
        f = replace(
            f,
            snippet=masker.shown(f.snippet, raw),
            message=masker.shown(f.message, raw),
            evidence=_shown(f.evidence, masker, raw),
        )
    return _clipped(f)


def _starred(value: Any) -> bool:
    return any_value(value, lambda v: isinstance(v, str) and "****" in v)


def _shown(value: Any, masker: Masker, raw: str) -> Any:
    return map_strings(value, lambda text: masker.shown(text, raw))


#: Longest snippet line, message and evidence string a finding carries (longer: cut, with "…").
MAX_SNIPPET_LINE = 320
MAX_MESSAGE = 1000
MAX_EVIDENCE = 600


def _cut(text: str, limit: int, around: int = 0) -> str:
    if len(text) <= limit:
        return text
    start = max(0, min(around - limit // 3, len(text) - limit))
    end = start + limit
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _clipped(f: Finding) -> Finding:
    """``f`` with over-long snippet lines (cut around the column), message and evidence cut."""
    changes: dict[str, Any] = {}
    if len(f.snippet) > MAX_SNIPPET_LINE:
        shown = split_lines(f.snippet)
        cut = [
            _cut(line, MAX_SNIPPET_LINE, f.column - 1 if i == 0 else 0)
            for i, line in enumerate(shown)
        ]
        if cut != shown:
            changes["snippet"] = "\n".join(cut)
    if len(f.message) > MAX_MESSAGE:
        changes["message"] = _cut(f.message, MAX_MESSAGE)
    if _long(f.evidence):
        changes["evidence"] = _cut_all(f.evidence)
    return replace(f, **changes) if changes else f


#: Most items of one evidence list a finding carries (more: the first ones kept).
MAX_EVIDENCE_ITEMS = 200


def _long(value: Any) -> bool:
    return any_value(
        value,
        lambda v: (
            (isinstance(v, str) and len(v) > MAX_EVIDENCE)
            or (isinstance(v, (list, tuple)) and len(v) > MAX_EVIDENCE_ITEMS)
        ),
    )


def _cut_all(value: Any) -> Any:
    return map_strings(value, lambda text: _cut(text, MAX_EVIDENCE), max_items=MAX_EVIDENCE_ITEMS)


def verdict(
    findings: Sequence[Finding],
    errors: Sequence[AuditError],
    fail_on: Severity | Threshold,
) -> Verdict:
    """``fail``: an active finding at or above ``fail_on`` (a severity, or a function giving each
    finding's); ``warn``: any other active finding or an error.

    >>> from codeaudit.model import Confidence
    >>> f = Finding(auditor="a", rule_id="CA1", rule_name="r", severity=Severity.MEDIUM,
    ...             confidence=Confidence.HIGH, cwe=None, line=1, end_line=1, column=1,
    ...             end_column=None, message="m", snippet="", evidence={}, fingerprint="")
    >>> verdict([f], [], Severity.HIGH).value, verdict([f], [], lambda f: Severity.LOW).value
    ('warn', 'fail')
    """
    threshold = fail_on if callable(fail_on) else (lambda f: fail_on)
    active = [f for f in findings if f.active]
    if any(f.severity >= threshold(f) for f in active):
        return Verdict.FAIL
    if active or errors:
        return Verdict.WARN
    return Verdict.PASS
