"""The privacy rules, read from ``rules.yaml`` beside this module (the rules are data).

The file has the security packs' fields (``id``, ``name``, ``title``, ``severity``,
``confidence``, ``cwe``, ``description``, ``fix``, ``references``, ``examples``) plus the two
examples the docs show (``bad_example``, ``good_example``). Each ``examples`` item is a line of
code (a finding must land on line 1) or a mapping ``{code, line, language, path}``: the test
suite runs them all.

>>> [r.id for r in load_rules()][:3]
['CA101', 'CA102', 'CA103']
>>> example_cases(load_rules()[0])[0]
('bad', "cfg = open('/home/alice/.config/tool.toml')\\n", 1, None, None)
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from codeaudit.model import Confidence, Severity
from codeaudit.registry import Rule

_REQUIRED = ("id", "name", "title", "severity", "confidence", "cwe", "description", "fix")
_OPTIONAL = ("references", "bad_example", "good_example", "examples")
_CASE_KEYS = frozenset({"code", "line", "language", "path"})


class RuleDataError(ValueError):
    """The packaged rules file is malformed (names the rule and the field)."""


def _fail(where: str, message: str) -> RuleDataError:
    return RuleDataError(f"privacy/rules.yaml: {where}: {message}")


def _case(where: str, item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"code": item, "line": 1}
    if not isinstance(item, dict) or not isinstance(item.get("code"), str):
        raise _fail(where, "an example is a string or a mapping with 'code'")
    unknown = set(item) - _CASE_KEYS
    if unknown:
        raise _fail(where, f"unknown example key(s) {sorted(unknown)}")
    line = item.get("line", 1)
    if not isinstance(line, int) or not 1 <= line <= item["code"].count("\n") + 1:
        raise _fail(where, f"'line' {line!r} is not a line of the example")
    return dict(item, line=line)


def parse_rules(raw: Any) -> tuple[Rule, ...]:
    """Rules from the parsed YAML document (checked field by field)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise _fail("top level", "expected a mapping with a 'rules' list")
    rules = []
    for index, entry in enumerate(raw["rules"]):
        where = f"rules[{index}]"
        if not isinstance(entry, dict):
            raise _fail(where, "a rule is a mapping")
        where = f"rule {entry.get('id', index)}"
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise _fail(where, f"missing field(s) {', '.join(missing)}")
        unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
        if unknown:
            raise _fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
        examples = entry.get("examples") or {}
        if not isinstance(examples, dict) or set(examples) - {"bad", "good"}:
            raise _fail(where, "'examples' holds only 'bad' and 'good' lists")
        cases = {
            kind: tuple(
                _case(f"{where}.examples.{kind}[{i}]", item)
                for i, item in enumerate(examples.get(kind) or ())
            )
            for kind in ("bad", "good")
        }
        try:
            rules.append(
                Rule(
                    id=str(entry["id"]),
                    name=str(entry["name"]),
                    auditor="privacy",
                    title=str(entry["title"]),
                    severity=Severity.parse(entry["severity"]),
                    confidence=Confidence.parse(entry["confidence"]),
                    cwe=entry["cwe"],
                    description=str(entry["description"]).strip(),
                    fix=str(entry["fix"]).strip(),
                    bad_example=str(entry.get("bad_example", "")).rstrip("\n"),
                    good_example=str(entry.get("good_example", "")).rstrip("\n"),
                    references=tuple(entry.get("references") or ()),
                    # Rule.examples holds code; where each must land is kept by example_cases().
                    examples={k: tuple(c["code"] for c in v) for k, v in cases.items() if v},
                )
            )
        except ValueError as exc:
            raise _fail(where, str(exc)) from None
        _CASES[entry["id"]] = cases
    return tuple(rules)


_CASES: dict[str, dict[str, tuple[dict[str, Any], ...]]] = {}


@functools.lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    import yaml

    text = resources.files(__package__).joinpath("rules.yaml").read_text(encoding="utf-8")
    return parse_rules(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def example_cases(rule: Rule) -> list[tuple[str, str, int, str | None, str | None]]:
    """``(kind, code, line, language, path)`` for each of the rule's examples."""
    load_rules()
    out = []
    for kind in ("bad", "good"):
        for case in _CASES.get(rule.id, {}).get(kind, ()):
            code = case["code"] if case["code"].endswith("\n") else case["code"] + "\n"
            out.append((kind, code, case["line"], case.get("language"), case.get("path")))
    return out
