"""The pipeline with a small auditor written here (a plug-in like any team's own)."""

from __future__ import annotations

import pytest

from codeaudit import Auditor, Confidence, Config, Outcome, Rule, Severity, Suggestion, audit
from codeaudit.config import Allowlist
from codeaudit.context import CodeContext
from codeaudit.model import Verdict


class WordAuditor(Auditor):
    """Flags the word ``danger`` anywhere in prompt + completion; reports only completion lines."""

    name = "security"

    @classmethod
    def rules(cls):
        return [
            Rule(
                id="CA900",
                name="risky-word",
                auditor="security",
                title="the word danger",
                severity=Severity.HIGH,
                confidence=Confidence.HIGH,
                cwe=78,
                description="d",
                fix="f",
            ),
        ]

    def audit_batch(self, batch, progress=None):
        out = []
        for s in batch:
            ctx = CodeContext.of(s)
            o = Outcome()
            start = 0
            while (i := ctx.text.find("danger", start)) >= 0:
                start = i + 1
                where = ctx.locate(i)
                if where:
                    o.findings.append(self.finding(s, "CA900", line=where[0], column=where[1]))
            out.append(o)
            if progress:
                progress(1)
        return out


class CrashingAuditor(WordAuditor):
    name = "privacy"

    def audit_batch(self, batch, progress=None):
        raise RuntimeError("boom")


def test_only_completion_lines_are_reported():
    s = Suggestion(
        id="a", prompt="danger = 1\nx = ", completion="danger()\nok()\n", language="python"
    )
    report = audit([s], auditors=[WordAuditor()])
    (result,) = report.results
    assert [(f.line, f.column) for f in result.findings] == [(1, 1)]
    assert result.verdict is Verdict.FAIL


def test_column_on_first_line_is_relative_to_cursor():
    s = Suggestion(id="a", prompt="call(", completion="1, danger)\n")
    (result,) = audit([s], auditors=[WordAuditor()]).results
    assert (result.findings[0].line, result.findings[0].column) == (1, 4)


def test_severity_override_disable_and_allowlist():
    s = Suggestion(id="a", completion="danger\n")
    low = audit([s], Config(severity={"risky-word": Severity.LOW}), auditors=[WordAuditor()])
    assert low.results[0].findings[0].severity is Severity.LOW
    assert low.results[0].verdict is Verdict.WARN
    off = audit([s], Config(disable=frozenset({"CA900"})), auditors=[WordAuditor()])
    assert off.results[0].findings == ()
    import re

    allowed = audit(
        [s], Config(allowlist=Allowlist(patterns=(re.compile("dang"),))), auditors=[WordAuditor()]
    )
    assert allowed.results[0].findings[0].suppressed == "allowlist"
    assert allowed.results[0].verdict is Verdict.PASS


def test_inline_suppressions_used_unused_and_bare():
    code = (
        "danger  # codeaudit: ignore[CA900]\n"
        "# codeaudit: ignore-next-line[risky-word]\n"
        "danger\n"
        "x = 1  # codeaudit: ignore[B101]\n"
        "danger  # codeaudit: ignore\n"
        "s = 'codeaudit: ignore'; danger\n"
    )
    report = audit(
        [Suggestion(id="a", completion=code, language="python")], auditors=[WordAuditor()]
    )
    r = report.results[0]
    assert [(f.line, f.suppressed) for f in r.findings] == [
        (1, "inline"),
        (3, "inline"),
        (5, "inline"),
        (6, None),
    ]
    summary = report.summary()
    assert summary["bare_suppressions"] == 1
    assert summary["unused_suppressions"] == 1  # the B101 one
    assert summary["suppressed"] == {"inline": 3}


def test_suppression_uses_language_comment_syntax():
    code = "danger; // codeaudit: ignore[CA900]\n"
    py = audit([Suggestion(id="a", completion=code, language="python")], auditors=[WordAuditor()])
    js = audit(
        [Suggestion(id="a", completion=code, language="javascript")], auditors=[WordAuditor()]
    )
    assert py.results[0].findings[0].suppressed is None
    assert js.results[0].findings[0].suppressed == "inline"


def test_crashing_auditor_costs_only_its_findings():
    report = audit(["danger\n", "fine\n"], auditors=[CrashingAuditor(), WordAuditor()])
    assert [len(r.findings) for r in report.results] == [1, 0]
    assert all(r.errors and r.errors[0].code == "auditor-crash" for r in report.results)
    assert report.results[1].verdict is Verdict.WARN


def test_bad_items_are_reported_not_fatal():
    big = "x" * 2_000_000
    report = audit(
        [
            {"completion": 3},
            {"id": "b", "completion": big},
            {"id": "c", "completion": "a\x00b"},
            "ok\n",
        ],
        auditors=[WordAuditor()],
    )
    assert [r.id for r in report.results] == ["item-4"]
    messages = " | ".join(str(i) for i in report.input_errors)
    assert "must be a string" in messages and "byte limit" in messages and "NUL" in messages


def test_duplicate_ids_are_renamed():
    report = audit(
        [{"id": "x", "completion": "a"}, {"id": "x", "completion": "b"}], auditors=[WordAuditor()]
    )
    assert [r.id for r in report.results] == ["x", "x#2"]


def test_language_inferred_from_path_then_content():
    report = audit(
        [
            {"id": "p", "completion": "x", "path": "src/Main.java"},
            {
                "id": "c",
                "completion": '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }\n',
            },
            {"id": "g", "completion": "package main\n\nfunc main() {\n\tif err != nil {\n\t}\n}\n"},
        ],
        auditors=[WordAuditor()],
    )
    assert [r.language for r in report.results] == ["java", "c", "go"]


def test_report_json_is_valid_against_schema():
    jsonschema = pytest.importorskip("jsonschema")
    import json
    from importlib.resources import files

    schema = json.loads(files("codeaudit").joinpath("schemas/report.schema.json").read_text())
    report = audit(
        [Suggestion(id="a", completion="danger\n", meta={"k": [1]})], auditors=[WordAuditor()]
    )
    jsonschema.validate(report.to_dict(), schema)
    assert report.to_dict()["results"][0]["meta"] == {"k": [1]}
    assert report.to_dict()["results"][0]["findings"][0]["cwe"] == "CWE-78"


def test_fingerprint_survives_line_shift():
    a = audit([Suggestion(id="a", completion="danger\n")], auditors=[WordAuditor()])
    b = audit([Suggestion(id="a", completion="\n\n    danger\n")], auditors=[WordAuditor()])
    fa, fb = a.results[0].findings[0], b.results[0].findings[0]
    assert fa.line != fb.line and fa.fingerprint == fb.fingerprint


def test_api_report_never_holds_a_secret_an_auditor_quoted():
    # bandit's B105 quotes the string it found in its message; the privacy auditor masks the
    # same token. The Report object itself (not only the reporters) must be masked.
    token = "ghp_" + "Zx81Qm0aLk29Vb7Nc4Hd6Jf3Ps5Tw2Ry8Ue1"
    s = Suggestion(id="a", language="python", completion=f'password = "{token}"\nrun(password)\n')
    report = audit([s], auditors=["security", "privacy"])
    assert {f.rule_id for _, f in report.findings()} >= {"B105"}
    assert token not in report.to_json()
    assert token not in repr([f for _, f in report.findings()])


def test_line_numbers_ignore_form_feeds_and_unicode_separators():
    # str.splitlines() would count \f, \x1c and U+2028 as line breaks; parsers and git do not.
    s = Suggestion(id="a", completion="x = 1\f\x1c\u2028y = 2\ndanger\n")
    (result,) = audit([s], auditors=[WordAuditor()]).results
    (f,) = result.findings
    assert (f.line, f.snippet) == (2, "danger")


class OneAtATimeAuditor(WordAuditor):
    """Implements only audit_one: the base class runs it per suggestion and isolates failures."""

    name = "security"
    audit_batch = Auditor.audit_batch

    def audit_one(self, s):
        if "explode" in s.completion:
            raise ValueError("parser exploded")
        if "nest" in s.completion:
            raise RecursionError("too deep")
        return WordAuditor.audit_batch(self, [s])[0]


def test_default_audit_batch_charges_a_failure_to_its_suggestion_only():
    report = audit(["danger\n", "explode\n", "nest\n"], auditors=[OneAtATimeAuditor()])
    first, second, third = report.results
    assert [f.rule_id for f in first.findings] == ["CA900"] and not first.errors
    assert (
        second.errors[0].code == "internal-error" and "parser exploded" in second.errors[0].message
    )
    assert third.errors[0].code == "too-complex"


# --- run(): a layer's fold and threshold, with suppressions and the verdict made once ----------


def test_a_threshold_function_decides_the_verdict_per_finding():
    from codeaudit.pipeline import run

    s = Suggestion(id="a", completion="danger()\n", language="python")
    config = Config(fail_on=Severity.CRITICAL)
    assert audit([s], config, auditors=[WordAuditor()]).results[0].verdict is Verdict.WARN
    strict = run([s], config, auditors=[WordAuditor()], threshold=lambda f: Severity.MEDIUM)
    assert strict.results[0].verdict is Verdict.FAIL
    assert strict.fail_on is Severity.CRITICAL  # the report's own fail_on is untouched


def test_a_fold_groups_suggestions_and_suppressions_are_read_from_the_unit():
    """Two parts of one file are audited apart and reported as one result; a suppression that
    only the whole file holds (above the second part) silences that part's finding."""
    from codeaudit.pipeline import Unit, run

    whole = "# codeaudit: ignore-next-line[CA900]\ndanger()\nok()\ndanger()\n"
    parts = [
        Suggestion(id="p1", completion="danger()\n", language="python"),
        Suggestion(id="p2", completion="danger()\n", language="python"),
    ]
    offsets = {"p1": 1, "p2": 3}  # where each part starts in the whole file

    def fold(admitted, screened):
        from dataclasses import replace

        moved = []
        for s, outcomes in zip(admitted, screened):
            for name, o in outcomes:
                shifted = [
                    replace(f, line=f.line + offsets[s.id], end_line=f.end_line + offsets[s.id])
                    for f in o.findings
                ]
                moved.append((name, Outcome(findings=shifted, errors=o.errors)))
        return [Unit(Suggestion(id="file.py", completion=whole, language="python"), moved)]

    report = run(parts, Config(), auditors=[WordAuditor()], fold=fold)
    (result,) = report.results
    assert result.suggestion.id == "file.py"
    assert [(f.line, f.suppressed) for f in result.findings] == [(2, "inline"), (4, None)]
    assert [s.used for s in result.suppressions] == [True]
    assert result.verdict is Verdict.FAIL


def test_a_secret_shaped_duplicate_id_is_not_quoted():
    secret = "AKIA" + "Q3EGRWZ7JXK2LM5N"
    report = audit(
        [{"id": secret, "completion": "a"}, {"id": secret, "completion": "b"}],
        auditors=[WordAuditor()],
    )
    (issue,) = report.input_errors
    assert issue.field == "id" and secret not in issue.message
    assert issue.message.endswith("renamed with suffix '#2'")
