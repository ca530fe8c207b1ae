"""``codeaudit rules list|show|docs``: browse every auditor's rules with their documentation."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import UsageError
from ._common import output_stream

HELP = "list rules, show one rule's documentation, CWE and examples, or write the rule reference"
DESCRIPTION = """\
Browse the rules of every auditor (privacy, security, memorization, tests, and installed plug-ins).

  codeaudit rules list [--auditor NAME] [--language LANG] [--format text|json]
  codeaudit rules show RULE [--format text|json]      RULE is an id (CA4101, B602) or a name
  codeaudit rules docs [-o FILE]                       the Markdown reference (docs/rules.md)
  codeaudit rules docs --auditor NAME [-o FILE]        one auditor's rule pages (for its own page)

bandit's own tests are listed with their ids, names, severities and CWEs; their documentation
comes from the installed bandit (rules show B602) and is not reproduced in the reference."""


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    ls = sub.add_parser("list", help="one line per rule")
    ls.add_argument("--auditor", metavar="NAME", help="only this auditor's rules")
    ls.add_argument(
        "--language",
        metavar="LANG",
        help="only rules for this language (rules without languages always show)",
    )
    ls.add_argument("--format", choices=("text", "json"), default="text")
    show = sub.add_parser("show", help="one rule's documentation, CWE and examples")
    show.add_argument("rule", metavar="RULE", help="rule id or name")
    show.add_argument("--format", choices=("text", "json"), default="text")
    docs = sub.add_parser("docs", help="write the Markdown reference of all rules")
    docs.add_argument(
        "-o", "--output", metavar="FILE", help="where to write it (default: standard output)"
    )
    docs.add_argument(
        "--auditor",
        metavar="NAME",
        help="only this auditor's rule pages, without the index (the generated part of its docs page)",
    )


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "action", None)
    if action == "list":
        rules = _select(all_rules(), args.auditor, args.language)
        if args.format == "json":
            json.dump([rule_record(r) for r in rules], sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(list_text(rules))
        return 0
    if action == "show":
        rule = find_rule(args.rule)
        if args.format == "json":
            json.dump(rule_record(rule, full=True), sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(show_text(rule))
        return 0
    if action == "docs":
        rules = all_rules()
        text = (
            auditor_pages(_select(rules, args.auditor, None))
            if args.auditor
            else reference_markdown(rules)
        )
        with output_stream(args.output) as stream:
            stream.write(text)
        return 0
    raise UsageError("rules: give an action: list, show RULE or docs")


def all_rules() -> list[Any]:
    from ..registry import all_rules as registry_rules

    return registry_rules()


def _select(rules: list[Any], auditor: str | None, language: str | None) -> list[Any]:
    from ..languages import normalize

    if auditor:
        known = sorted({r.auditor for r in rules})
        if auditor not in known:
            raise UsageError(
                f"--auditor: no rules for '{auditor}' (auditors with rules: {', '.join(known)})"
            )
        rules = [r for r in rules if r.auditor == auditor]
    if language:
        lang = normalize(language)
        if lang is None:
            raise UsageError(f"--language: unknown language '{language}'")
        rules = [r for r in rules if not r.languages or lang in r.languages]
    return rules


def find_rule(key: str) -> Any:
    """A rule by id (any case) or name; a usage error naming close matches otherwise."""
    rules = all_rules()
    wanted = key.strip()
    for rule in rules:
        if rule.id.lower() == wanted.lower() or rule.name == wanted.lower():
            return rule
    import difflib

    close = difflib.get_close_matches(wanted, [r.id for r in rules] + [r.name for r in rules], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UsageError(f"no rule '{key}'{hint}; see codeaudit rules list")


def rule_record(rule: Any, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "auditor": rule.auditor,
        "title": rule.title,
        "severity": str(rule.severity),
        "confidence": str(rule.confidence),
        "cwe": rule.cwe_id,
        "languages": list(rule.languages),
    }
    if full:
        out.update(
            description=rule.description,
            fix=rule.fix,
            references=list(rule.references),
            examples={k: list(v) for k, v in rule.examples.items()}
            or {
                "bad": [rule.bad_example] if rule.bad_example else [],
                "good": [rule.good_example] if rule.good_example else [],
            },
        )
    return out


def show_text(rule: Any) -> str:
    """The rule's documentation page, then every example it carries beyond the first pair."""
    parts = [rule.markdown().rstrip(), ""]
    for kind, heading in (("bad", "flagged"), ("good", "not flagged")):
        extra = list(rule.examples.get(kind, ()))[1:]
        if extra:
            parts += [f"### More examples ({heading})", ""]
            for example in extra:
                parts += ["```", example.rstrip(), "```", ""]
    return "\n".join(parts).rstrip() + "\n"


def list_text(rules: list[Any]) -> str:
    rows = [
        (
            r.id,
            r.name,
            r.auditor,
            str(r.severity),
            r.cwe_id or "-",
            ",".join(r.languages) or "-",
            r.title,
        )
        for r in rules
    ]
    header = ("ID", "NAME", "AUDITOR", "SEVERITY", "CWE", "LANGUAGES", "TITLE")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(6)]
    lines = []
    for row in [header, *rows]:
        lines.append(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:6])) + "  " + row[6]
        )
    lines.append(f"{len(rules)} rules")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _is_third_party(rule: Any) -> bool:
    from codeaudit.auditors.security.auditor import is_bandit_rule

    return is_bandit_rule(rule)


def auditor_pages(rules: list[Any]) -> str:
    """The documentation pages of ``rules``, one after the other: what an auditor's own docs page
    embeds (``codeaudit rules docs --auditor NAME``). The one renderer of rule pages, with
    :func:`reference_markdown`, for every auditor whatever its rules are written in."""
    return "\n".join(r.markdown() for r in rules)


def reference_markdown(rules: list[Any]) -> str:
    """docs/rules.md: an index of every rule, then each codeaudit rule's full documentation."""
    by_auditor: dict[str, list[Any]] = {}
    for rule in rules:
        by_auditor.setdefault(rule.auditor, []).append(rule)
    out = [
        "# Rule reference",
        "",
        "Generated by `codeaudit rules docs -o docs/rules.md` from the rules themselves; "
        "`tests/test_rules.py` fails when this file is stale. `codeaudit rules show RULE` prints "
        "one rule (bandit's tests included, documented from the installed bandit).",
        "",
    ]
    for auditor in sorted(by_auditor):
        group = by_auditor[auditor]
        out += [
            f"## {auditor} ({len(group)} rules)",
            "",
            "| id | name | severity | CWE | languages |",
            "|---|---|---|---|---|",
        ]
        for r in group:
            anchor = f"[{r.id}](#{r.id.lower()})" if not _is_third_party(r) else r.id
            cwe = (
                f"[{r.cwe_id}](https://cwe.mitre.org/data/definitions/{r.cwe}.html)"
                if r.cwe
                else ""
            )
            out.append(
                f"| {anchor} | `{r.name}` | {r.severity} | {cwe} | {', '.join(r.languages)} |"
            )
        out.append("")
        third_party = [r for r in group if _is_third_party(r)]
        if third_party:
            out += [
                f"The {len(third_party)} `B…` rules are bandit's own tests, run in process on Python; "
                "their documentation is bandit's (`codeaudit rules show B602`, or bandit's site).",
                "",
            ]
    for auditor in sorted(by_auditor):
        for rule in by_auditor[auditor]:
            if not _is_third_party(rule):
                out += [
                    f'<a id="{rule.id.lower()}"></a>',
                    "",
                    rule.markdown().replace("## ", "### ", 1).replace("\n### ", "\n#### "),
                    "",
                ]
    return "\n".join(out).rstrip() + "\n"
