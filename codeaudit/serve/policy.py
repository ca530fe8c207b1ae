"""What a finding does to a choice: ``block`` it, ``redact`` it, or ``annotate`` it.

The policy is read from ``[tool.codeaudit.serve.policy]``: keys are rule ids (``CA101``), rule
names (``username-in-path``), auditor names (``privacy``) or severities (``high``), looked up in
that order (the most specific wins); ``[tool.codeaudit.serve] default`` covers the rest. The
defaults are what a team would want: secrets (detect-secrets' rules and bandit's hard-coded
passwords), credentials in URLs and usernames redacted, corpus copies blocked (the memorization
auditor reports only copies at or above its threshold) with source and licence named, everything
else annotated.

A choice takes the strongest action of its active findings (block > redact > annotate).
``redact`` replaces, in the text the editor gets, the secrets an auditor masked (by the same
``[REDACTED:<hash>]`` mask reports use) and the account names findings name (by ``<user>``);
a finding with neither is annotated.

>>> from codeaudit import audit
>>> policy = Policy()
>>> r = audit([{"id": "c", "completion": "p = '/home/mkowalski/x.csv'\\n", "language": "python"}],
...           auditors=["privacy"]).results[0]
>>> d = policy.decide(r)
>>> str(d.action), d.text
('redact', "p = '/home/<user>/x.csv'\\n")
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..context import split_lines
from ..errors import ConfigError
from ..model import AuditResult, Finding
from ..redact import mask

#: What replaces an account name in redacted text (a placeholder the privacy auditor ignores).
USER_PLACEHOLDER = "<user>"


class Action(enum.IntEnum):
    PASS = 0
    ANNOTATE = 1
    REDACT = 2
    BLOCK = 3

    def __str__(self) -> str:
        return self.name.lower()


_ACTIONS = {"annotate": Action.ANNOTATE, "redact": Action.REDACT, "block": Action.BLOCK}

#: The defaults; ``[tool.codeaudit.serve.policy]`` entries are laid over them.
DEFAULT_POLICY: dict[str, str] = {
    "memorization": "block",
    "privacy": "annotate",
    "security": "annotate",
    # Account names.
    "CA101": "redact",
    "CA103": "redact",
    # Secrets: credentials in URLs and detect-secrets' plug-ins ...
    "CA102": "redact",
    "CA201": "redact",
    "CA202": "redact",
    "CA203": "redact",
    "CA204": "redact",
    "CA205": "redact",
    # ... and bandit's hard-coded passwords (string, function argument, default argument).
    "B105": "redact",
    "B106": "redact",
    "B107": "redact",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """What the editor gets for one choice."""

    action: Action
    #: The text to send (the completion, redacted where the policy says; ``""`` when blocked).
    text: str
    #: Findings as the ``codeaudit`` annotation shows them (usernames masked where redacted).
    findings: tuple[dict[str, Any], ...]

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK

    def annotation(self) -> dict[str, Any]:
        return {"action": str(self.action), "findings": list(self.findings)}


class Policy:
    """Rule/auditor/severity -> action, and the decision for an audited choice."""

    def __init__(
        self, entries: Mapping[str, str] | None = None, *, default: str = "annotate"
    ) -> None:
        table = {**DEFAULT_POLICY, **dict(entries or {})}
        self.table: dict[str, Action] = {}
        for key, value in table.items():
            if value not in _ACTIONS:
                raise ConfigError(
                    f"[tool.codeaudit.serve.policy].{key}: {value!r} is not an action "
                    f"(one of: {', '.join(_ACTIONS)})"
                )
            self.table[key] = _ACTIONS[value]
        if default not in _ACTIONS:
            raise ConfigError(
                f"[tool.codeaudit.serve].default: {default!r} is not an action "
                f"(one of: {', '.join(_ACTIONS)})"
            )
        self.default = _ACTIONS[default]

    def action(self, f: Finding) -> Action:
        for key in (f.rule_id, f.rule_name, f.auditor, f.severity.label):
            if key in self.table:
                return self.table[key]
        return self.default

    def may_block_copies(self) -> bool:
        """Whether a memorization finding may block (the streaming hold-back asks this)."""
        keys = ("CA301", "CA302", "corpus-copy", "renamed-corpus-copy", "memorization")
        keys += ("info", "low", "medium", "high", "critical")
        return self.default is Action.BLOCK or any(self.table.get(k) is Action.BLOCK for k in keys)

    def decide(self, result: AuditResult, text: str | None = None) -> Decision:
        """The decision for one audited completion (``text`` defaults to the audited one)."""
        text = result.suggestion.completion if text is None else text
        active = [f for f in result.findings if f.active]
        actions = [self.action(f) for f in active]
        redacting = [f for f, a in zip(active, actions) if a is Action.REDACT]
        hidden, users = redaction_targets(text, redacting)
        effective = [
            Action.ANNOTATE if a is Action.REDACT and not _redactable(f, hidden, users) else a
            for f, a in zip(active, actions)
        ]
        action = max(effective, default=Action.PASS)
        shown = [_shown(f, a, users) for f, a in zip(active, effective)]
        if action is Action.BLOCK:
            return Decision(action=action, text="", findings=tuple(shown))
        out = redact_text(text, hidden, users) if action is Action.REDACT else text
        return Decision(action=action, text=out, findings=tuple(shown))


def redaction_targets(text: str, findings: Sequence[Finding]) -> tuple[set[str], set[str]]:
    """The secret values (what auditors masked in their snippets) and account names to redact."""
    lines = split_lines(text)
    hidden: set[str] = set()
    users: set[str] = set()
    for f in findings:
        user = f.evidence.get("username")
        if isinstance(user, str) and user:
            users.add(user)
        shown = split_lines(f.snippet)
        if not f.snippet or len(shown) != f.end_line - f.line + 1:
            continue
        for raw, masked_line in zip(lines[f.line - 1 : f.end_line], shown):
            secret = _difference(raw, masked_line)
            if secret and len(secret.strip()) >= 4:
                hidden.add(secret)
    return hidden, users


def redact_text(text: str, hidden: set[str], users: set[str]) -> str:
    """``text`` with each secret value masked and each account name replaced by ``<user>``."""
    for secret in sorted(hidden, key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    for user in sorted(users, key=len, reverse=True):
        text = _user_pattern(user).sub(USER_PLACEHOLDER, text)
    return text


def _user_pattern(user: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.-])" + re.escape(user) + r"(?![\w-])")


def _difference(raw: str, shown: str) -> str | None:
    """What ``shown`` hides of ``raw``: the middle part after the common head and tail."""
    if raw == shown or raw.strip() == shown.strip():
        return None
    if shown.endswith("…") and not raw.endswith("…"):
        return None  # a shortened snippet, not a redaction
    limit = min(len(raw), len(shown))
    head = 0
    while head < limit and raw[head] == shown[head]:
        head += 1
    tail = 0
    while tail < limit - head and raw[-1 - tail] == shown[-1 - tail]:
        tail += 1
    return raw[head : len(raw) - tail] or None


def _redactable(f: Finding, hidden: set[str], users: set[str]) -> bool:
    return bool(f.evidence.get("username")) or bool(hidden and _is_secret_finding(f))


def _is_secret_finding(f: Finding) -> bool:
    return "secret_hash" in f.evidence or "****" in f.snippet or "[REDACTED" in f.snippet


def _shown(f: Finding, action: Action, users: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule_id": f.rule_id,
        "rule_name": f.rule_name,
        "auditor": f.auditor,
        "severity": f.severity.label,
        "cwe": f.cwe_id,
        "line": f.line,
        "end_line": f.end_line,
        "message": f.message,
        "action": str(action),
    }
    source = f.evidence.get("source")
    if isinstance(source, Mapping):
        out["source"] = {k: source.get(k) for k in ("repo", "path", "start_line", "end_line")}
        out["license"] = source.get("license")
    if users:
        for key in ("message",):
            out[key] = redact_text(out[key], set(), users)
    return out


def policy_from_options(options: Mapping[str, Any]) -> Policy:
    """The policy of a checked ``[tool.codeaudit.serve]`` table."""
    entries = options.get("policy") or {}
    if not isinstance(entries, Mapping):
        raise ConfigError("[tool.codeaudit.serve].policy must be a table of key = action")
    for key, value in entries.items():
        if not isinstance(value, str):
            raise ConfigError(f"[tool.codeaudit.serve.policy].{key} must be a string action")
    return Policy(entries, default=str(options.get("default", "annotate")))
