"""``--format sarif``: SARIF 2.1.0 as GitHub code scanning reads it.

* ``tool.driver.rules`` holds every rule that a result refers to, with its help text and
  Markdown (from the rule's own documentation fields), tags (auditor, ``security``, the CWE) and,
  for rules mapped to a CWE, the ``security-severity`` score GitHub uses to rank alerts.
* Each result has ``ruleId``/``ruleIndex``, a ``level`` from its severity, one physical location
  (the suggestion's ``path``, else its id; lines and columns inside the completion) and
  ``partialFingerprints["codeauditFingerprint/v1"]``: the finding's fingerprint, which holds no
  line number, so an alert keeps its identity when code above it moves.
* Suppressed findings are kept with a ``suppressions`` entry: ``inSource`` for inline ignores,
  ``external`` for allowlists and baselines.
* Input problems and auditor errors are ``toolExecutionNotifications`` of the invocation.

>>> import io, json
>>> from codeaudit.model import Report, Severity
>>> out = io.StringIO()
>>> render(Report(results=(), tool={"name": "codeaudit", "version": "0"}, fail_on=Severity.MEDIUM), out)
>>> doc = json.loads(out.getvalue())
>>> doc["version"], doc["runs"][0]["tool"]["driver"]["name"], doc["runs"][0]["results"]
('2.1.0', 'codeaudit', [])
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from ..model import Severity
from ..redact import Masker, masked
from ._common import plain_json, rules_for
from ._flow import flow_steps

if TYPE_CHECKING:
    from ..model import AuditResult, Finding, Report
    from ..registry import Rule

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "codeauditFingerprint/v1"
INFORMATION_URI = "https://pypi.org/project/codeaudit/"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub buckets security-severity scores as critical > 9.0, high 7.0-8.9, medium 4.0-6.9,
# low 0.1-3.9; each value sits inside its bucket.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
SUPPRESSION_KIND = {"inline": "inSource", "allowlist": "external", "baseline": "external"}
SUPPRESSION_WHY = {
    "inline": "codeaudit: ignore comment in the code",
    "allowlist": "matched the configuration's allowlist",
    "baseline": "known finding recorded in the baseline",
}


def render(
    report: Report,
    stream: TextIO,
    *,
    indent: int | None = 2,
    rules: Mapping[str, Rule] | None = None,
    **_: Any,
) -> None:
    """Write ``report`` as one SARIF run. ``rules`` (id -> Rule) replaces the registry look-up."""
    json.dump(to_sarif(report, rules=rules), stream, indent=indent, ensure_ascii=False)
    stream.write("\n")


def to_sarif(report: Report, *, rules: Mapping[str, Rule] | None = None) -> dict[str, Any]:
    known = rules_for(report, rules)
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    maskers: dict[int, Masker] = {}
    for result, finding in report.findings(include_suppressed=True):
        if finding.rule_id not in index:
            index[finding.rule_id] = len(descriptors)
            descriptors.append(_descriptor(finding, known.get(finding.rule_id)))
        masker = maskers.get(id(result))
        if masker is None:
            masker = maskers[id(result)] = Masker.of(result)
        results.append(_result(result, finding, index[finding.rule_id], masker))

    tool = report.tool
    driver: dict[str, Any] = {
        "name": str(tool.get("name", "codeaudit")),
        "informationUri": INFORMATION_URI,
        "rules": descriptors,
    }
    if tool.get("version"):
        driver["semanticVersion"] = str(tool["version"])
        driver["version"] = str(tool["version"])
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [_invocation(report)],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {"summary": report.summary()},
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _descriptor(finding: Finding, rule: Rule | None) -> dict[str, Any]:
    """A reportingDescriptor from the registered rule, else from what the finding says."""
    severity = rule.severity if rule is not None else finding.severity
    cwe = rule.cwe if rule is not None else finding.cwe
    auditor = rule.auditor if rule is not None else finding.auditor
    tags = [auditor]
    properties: dict[str, Any] = {}
    if cwe is not None:
        tags += ["security", f"external/cwe/cwe-{cwe}"]
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    properties["tags"] = list(dict.fromkeys(tags))  # the schema wants unique tags
    properties["precision"] = {3: "high", 2: "medium", 1: "low"}[
        int(rule.confidence if rule else finding.confidence)
    ]
    out: dict[str, Any] = {"id": finding.rule_id, "name": finding.rule_name}
    if rule is not None:
        out["shortDescription"] = {"text": rule.title}
        out["fullDescription"] = {"text": _plain(rule.description)}
        out["help"] = {"text": _help_text(rule), "markdown": rule.markdown()}
        if rule.cwe is not None:
            out["helpUri"] = f"https://cwe.mitre.org/data/definitions/{rule.cwe}.html"
    else:
        # A plug-in rule the registry does not know: its own message is the best description.
        out["shortDescription"] = {"text": finding.rule_name}
        out["fullDescription"] = {
            "text": f"Rule {finding.rule_id} of the '{finding.auditor}' auditor."
        }
        out["help"] = {
            "text": f"{finding.rule_id} ({finding.rule_name}) of the '{finding.auditor}' auditor; no documentation is registered for it."
        }
    out["defaultConfiguration"] = {"level": LEVELS[severity]}
    out["properties"] = properties
    return out


def _help_text(rule: Rule) -> str:
    parts = [_plain(rule.description), "", "How to fix: " + _plain(rule.fix)]
    if rule.references:
        parts += ["", "References: " + ", ".join(rule.references)]
    return "\n".join(parts)


def _plain(markdown: str) -> str:
    """Markdown to readable plain text: drop emphasis and code ticks, keep link text and URL."""
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", markdown.strip())
    return re.sub(r"(\*\*|__|`)", "", text)


def artifact_uri(result: AuditResult) -> str:
    """The suggestion's path (else its id) as a relative URI reference.

    >>> from codeaudit.model import AuditResult, Suggestion, Verdict
    >>> artifact_uri(AuditResult(suggestion=Suggestion(id="s 1", completion=""), language=None, verdict=Verdict.PASS))
    's%201'
    """
    s = result.suggestion
    where = (s.path or s.id).replace("\\", "/")
    return quote(where, safe="/:@!$&'()*+,;=-._~")


def _result(
    result: AuditResult, finding: Finding, rule_index: int, masker: Masker
) -> dict[str, Any]:
    region: dict[str, Any] = {
        "startLine": finding.line,
        "startColumn": finding.column,
        "endLine": finding.end_line,
    }
    if finding.end_column is not None and (
        finding.end_line > finding.line or finding.end_column > finding.column
    ):
        region["endColumn"] = (
            finding.end_column + 1
        )  # SARIF's endColumn is exclusive; ours is inclusive
    if finding.snippet:
        region["snippet"] = {"text": masker(finding.snippet)}
    out: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        # An auditor that quoted a secret another auditor masked does not get to leak it here.
        "message": {"text": masker(finding.message)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(result)},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "suggestionId": result.id,
            "auditor": finding.auditor,
            "severity": finding.severity.label,
            "confidence": finding.confidence.label,
            "evidence": masked(plain_json(finding.evidence), masker),
        },
    }
    if finding.cwe_id:
        out["properties"]["cwe"] = finding.cwe_id
    steps = flow_steps(finding.evidence)
    if steps:  # a taint finding: its data flow as a SARIF code flow
        out["codeFlows"] = [_code_flow(steps, artifact_uri(result), masker)]
    if finding.suppressed is not None:
        out["suppressions"] = [
            {
                "kind": SUPPRESSION_KIND.get(finding.suppressed, "external"),
                "justification": SUPPRESSION_WHY.get(finding.suppressed, finding.suppressed),
            }
        ]
    return out


def _code_flow(steps: list[tuple[str, int, str]], uri: str, masker: Masker) -> dict[str, Any]:
    """One threadFlow, source to sink; points outside the completion carry only a message."""
    locations = []
    for role, line_no, text in steps:
        location: dict[str, Any] = {"message": {"text": f"{role}: {masker(text)}"}}
        if line_no >= 1:
            location["physicalLocation"] = {
                "artifactLocation": {"uri": uri},
                "region": {"startLine": line_no},
            }
        locations.append({"location": location, "kinds": [_FLOW_KINDS[role]]})
    return {"threadFlows": [{"locations": locations}]}


_FLOW_KINDS = {"source": "taint", "step": "pass-through", "sink": "taint"}


def _invocation(report: Report) -> dict[str, Any]:
    notes = []
    for issue in report.input_errors:
        note: dict[str, Any] = {
            "level": "error" if issue.skipped else "warning",
            "message": {"text": str(issue)},
            "descriptor": {"id": "input-problem"},
        }
        if issue.line is not None:
            note["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": quote(issue.source.replace("\\", "/"), safe="/:@!$&'()*+,;=-._~")
                        },
                        "region": {"startLine": issue.line},
                    }
                }
            ]
        notes.append(note)
    for result in report.results:
        for error in result.errors:
            notes.append(
                {
                    "level": "error",
                    "message": {
                        "text": f"{result.id}: [{error.auditor}/{error.code}] {error.message}"
                    },
                    "descriptor": {"id": f"{error.auditor}/{error.code}"},
                }
            )
    out: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        out["toolExecutionNotifications"] = notes
    return out
