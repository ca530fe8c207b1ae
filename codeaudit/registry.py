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
