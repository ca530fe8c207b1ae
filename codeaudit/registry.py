"""Rules and auditors: one id, one registration.

Every rule has one id (``CA101``, or bandit's ``B602`` for bandit's own tests) and one kebab-case
name for the pattern it flags (``username-in-path``). Either may be used in configuration,
suppressions and reports. Auditors are plug-ins found through the ``codeaudit.auditors``
entry-point group; the built-in ones are registered there by codeaudit's own package metadata and
also listed here so a source checkout works without installation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING

from .errors import ConfigError
from .model import Confidence, Severity

if TYPE_CHECKING:
    from .auditors.base import Auditor

ENTRY_POINT_GROUP = "codeaudit.auditors"

BUILTIN_AUDITORS: dict[str, str] = {
    "privacy": "codeaudit.auditors.privacy.auditor:PrivacyAuditor",
    "security": "codeaudit.auditors.security.auditor:SecurityAuditor",
    "memorization": "codeaudit.auditors.memorization.auditor:MemorizationAuditor",
    "tests": "codeaudit.auditors.passrate.auditor:TestsAuditor",
}

_RULE_ID = re.compile(r"^[A-Z]{1,4}\d{2,5}$")
_RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """What a rule flags, why it matters, and how to fix it. Docs are generated from these fields."""

    id: str
    name: str
    auditor: str
    title: str
    severity: Severity
    confidence: Confidence
    cwe: int | None
    #: What is flagged and why it matters (Markdown).
    description: str
    #: How to fix it (Markdown).
    fix: str
    bad_example: str = ""
    good_example: str = ""
    references: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    #: Lines a test asserts the rule flags / does not flag, when the rule carries its own proof.
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not _RULE_ID.match(self.id):
            problems.append(f"id {self.id!r} must look like CA101 or B602")
        if not _RULE_NAME.match(self.name):
            problems.append(f"name {self.name!r} must be kebab-case")
        if self.cwe is not None and (not isinstance(self.cwe, int) or self.cwe <= 0):
            problems.append(f"cwe {self.cwe!r} must be a positive integer")
        for attr in ("title", "description", "fix"):
            if not str(getattr(self, attr)).strip():
                problems.append(f"'{attr}' is empty")
        if problems:
            raise ValueError(f"rule {self.id}: " + "; ".join(problems))

    @property
    def cwe_id(self) -> str | None:
        return f"CWE-{self.cwe}" if self.cwe is not None else None

    def markdown(self) -> str:
        """The rule's documentation page."""
        parts = [f"## {self.id} `{self.name}` — {self.title}", ""]
        meta = [
            f"auditor: {self.auditor}",
            f"severity: {self.severity}",
            f"confidence: {self.confidence}",
        ]
        if self.cwe is not None:
            meta.append(f"[{self.cwe_id}](https://cwe.mitre.org/data/definitions/{self.cwe}.html)")
        if self.languages:
            meta.append("languages: " + ", ".join(self.languages))
        parts += [
            " · ".join(meta),
            "",
            "### What it flags and why",
            "",
            self.description.strip(),
            "",
        ]
        if self.bad_example:
            parts += ["### Example", "", "```", self.bad_example.rstrip(), "```", ""]
        parts += ["### How to fix", "", self.fix.strip(), ""]
        if self.good_example:
            parts += ["```", self.good_example.rstrip(), "```", ""]
        if self.references:
            parts += ["### References", ""] + [f"- {r}" for r in self.references] + [""]
        return "\n".join(parts)


def auditor_targets() -> dict[str, str]:
    """Auditor name -> ``module:Class`` from built-ins and installed entry points."""
    targets = dict(BUILTIN_AUDITORS)
    targets.update(_installed_targets())
    return targets


@functools.cache
def _installed_targets() -> tuple[tuple[str, str], ...]:
    # Read once per process: it scans the metadata of every installed distribution (~10 ms in a
    # large environment), and one command asks several times (config check, each auditor).
    from importlib.metadata import entry_points

    return tuple((ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP))


def load_auditor_class(name: str) -> type[Auditor]:
    targets = auditor_targets()
    if name not in targets:
        known = ", ".join(sorted(targets))
        raise ConfigError(f"unknown auditor '{name}' (known: {known})")
    module_name, _, attr = targets[name].partition(":")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"auditor '{name}' cannot be loaded: {exc}") from exc
    cls = getattr(module, attr, None)
    if cls is None:
        raise ConfigError(f"auditor '{name}': {module_name} has no attribute {attr}")
    return cls


def all_rules(auditor_names: Iterable[str] | None = None) -> list[Rule]:
    """Every rule of the given (default: all known) auditors, sorted by id."""
    rules: list[Rule] = []
    for name in auditor_names or auditor_targets():
        try:
            cls = load_auditor_class(name)
        except ConfigError:
            if auditor_names is not None:
                raise
            continue
        rules.extend(cls.rules())
    return sorted(rules, key=lambda r: (r.auditor, r.id))


def check_unique(rules: Iterable[Rule]) -> None:
    """Fail loudly when two rules share an id or a name."""
    ids: dict[str, Rule] = {}
    names: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in ids:
            raise ValueError(
                f"rule id {rule.id} registered twice ({ids[rule.id].name}, {rule.name})"
            )
        if rule.name in names:
            raise ValueError(
                f"rule name {rule.name} registered twice ({names[rule.name].id}, {rule.id})"
            )
        ids[rule.id] = rule
        names[rule.name] = rule


# --- rules as data ---------------------------------------------------------------------------

_RULE_KEYS = {
    "id",
    "name",
    "title",
    "cwe",
    "severity",
    "confidence",
    "languages",
    "description",
    "fix",
    "references",
    "examples",
}
_REQUIRED = ("id", "name", "title", "severity", "confidence", "description", "fix")
_ANNOTATION = re.compile(r"(?:#|//)\s*(ruleid|ok|todoruleid|todook):\s*([\w, -]+?)\s*$")


@dataclass(frozen=True, slots=True)
class RuleData:
    """An auditor's rules read from YAML (:func:`load_rule_data`)."""

    rules: tuple[Rule, ...]
    #: Per rule id: ``{"bad": [...], "good": [...]}`` as written (a code string, or a mapping
    #: whose ``code`` holds it and whose other keys the auditor's example runner reads).
    examples: Mapping[str, Mapping[str, tuple[object, ...]]]
    #: Top-level keys besides ``auditor``, ``id_prefix`` and ``rules`` (an example corpus …).
    extra: Mapping[str, object]


def load_rule_data(package: str, resource: str = "rules.yaml") -> RuleData:
    """Read an auditor's rules from the YAML file ``resource`` of ``package``, in the format of
    the security rule packs (:mod:`codeaudit.auditors.security.rulepack`) without the pattern
    fields: the detection is the auditor's code, the rule's text, severity and examples are data::

        auditor: memorization
        id_prefix: CA30            # every id starts with it
        rules:
          - id: CA301
            name: corpus-copy
            title: …
            cwe: null
            severity: low
            confidence: high
            description: … (Markdown)
            fix: … (Markdown)
            references: [https://…]
            examples:
              bad: [code, …]       # or mappings with a `code` key (the auditor's runner reads
              good: [code, …]      # the others: a suggestion's tests, its entry point …)

    Examples pin lines with comments (see :func:`line_annotations`). A missing or malformed field
    is an internal error naming the file, the rule and the field.

    >>> data = load_rule_data("codeaudit.auditors.memorization")
    >>> [(r.id, r.name, str(r.severity)) for r in data.rules]
    [('CA301', 'corpus-copy', 'low'), ('CA302', 'renamed-corpus-copy', 'low')]
    """
    from importlib import resources

    import yaml

    from .errors import InternalError

    where = f"{package.replace('.', '/')}/{resource}"
    try:
        text = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise InternalError(f"{where}: cannot read the rules: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise InternalError(f"{where}: expected a mapping with a 'rules' list")
    auditor, prefix = raw.get("auditor"), str(raw.get("id_prefix", ""))
    if not isinstance(auditor, str) or not prefix:
        raise InternalError(f"{where}: 'auditor' and 'id_prefix' are required")
    rules: list[Rule] = []
    examples: dict[str, Mapping[str, tuple[object, ...]]] = {}
    for n, item in enumerate(raw["rules"], start=1):
        name = item.get("id", f"#{n}") if isinstance(item, dict) else f"#{n}"
        at = f"{where}: rule {name}"
        if not isinstance(item, dict):
            raise InternalError(f"{at}: expected a mapping")
        unknown = sorted(set(item) - _RULE_KEYS)
        if unknown:
            raise InternalError(f"{at}: unknown field '{unknown[0]}'")
        for key in _REQUIRED:
            if key not in item or item[key] in (None, ""):
                raise InternalError(f"{at}: field '{key}' is required")
        if not str(item["id"]).startswith(prefix):
            raise InternalError(f"{at}: field 'id' must start with {prefix}")
        written = item.get("examples") or {}
        if set(written) - {"bad", "good"}:
            raise InternalError(f"{at}: field 'examples' holds only 'bad' and 'good'")
        codes: dict[str, tuple[str, ...]] = {}
        for kind in ("bad", "good"):
            listed = tuple(written.get(kind) or ())
            codes[kind] = tuple(_example_code(e, f"{at}: field 'examples.{kind}'") for e in listed)
        try:
            rule = Rule(
                id=str(item["id"]),
                name=str(item["name"]),
                auditor=auditor,
                title=str(item["title"]).strip(),
                severity=Severity.parse(str(item["severity"])),
                confidence=Confidence.parse(str(item["confidence"])),
                cwe=item.get("cwe"),
                description=str(item["description"]),
                fix=str(item["fix"]),
                bad_example=codes["bad"][0] if codes["bad"] else "",
                good_example=codes["good"][0] if codes["good"] else "",
                references=tuple(item.get("references") or ()),
                languages=tuple(item.get("languages") or ()),
                examples={k: v for k, v in codes.items() if v},
            )
        except ValueError as exc:
            raise InternalError(f"{at}: {exc}") from None
        rules.append(rule)
        examples[rule.id] = {k: tuple(written.get(k) or ()) for k in ("bad", "good")}
    try:
        check_unique(rules)
    except ValueError as exc:
        raise InternalError(f"{where}: {exc}") from None
    extra = {k: v for k, v in raw.items() if k not in ("auditor", "id_prefix", "rules")}
    return RuleData(rules=tuple(rules), examples=examples, extra=extra)


def _example_code(example: object, where: str) -> str:
    if isinstance(example, str):
        return example
    if isinstance(example, dict) and isinstance(example.get("code"), str):
        return example["code"]
    from .errors import InternalError

    raise InternalError(f"{where}: an example is code, or a mapping with a 'code' string")


def line_annotations(code: str) -> dict[str, dict[int, set[str]]]:
    """The lines an example pins, from comments on the line before them (the convention of
    line-annotated rule fixtures): ``ruleid: ID`` (a finding of ID must start on the next line),
    ``ok: ID`` (none may), and the known misses ``todoruleid: ID`` (one should, and today does
    not: the test fails once it does, so the mark is promoted) and ``todook: ID`` (a known false
    positive). Line numbers are the example's, 1-based, as :func:`codeaudit.context.split_lines`
    counts.

    >>> marks = line_annotations("a = 1\\n# ruleid: CA301, CA302\\nb = 2\\n// ok: CA9\\nc\\n")
    >>> {k: {n: sorted(ids) for n, ids in v.items()} for k, v in marks.items()}
    {'ruleid': {3: ['CA301', 'CA302']}, 'ok': {5: ['CA9']}, 'todoruleid': {}, 'todook': {}}
    """
    from .context import split_lines

    out: dict[str, dict[int, set[str]]] = {k: {} for k in ("ruleid", "ok", "todoruleid", "todook")}
    for number, line in enumerate(split_lines(code), start=1):
        m = _ANNOTATION.search(line)
        if m:
            ids = {i.strip() for i in m.group(2).split(",") if i.strip()}
            out[m.group(1)].setdefault(number + 1, set()).update(ids)
    return out
