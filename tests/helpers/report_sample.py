"""A fixed report, built here from the real model classes, that every reporter test renders.

It holds one of each thing a reporter must show: findings of every auditor and severity, a masked
secret, memorization and test-outcome evidence, inline and allowlist suppressions, a bare and an
unused suppression, an auditor error, input problems, a plug-in auditor with no registered rules,
and hostile text (HTML, ``</script>``, control characters) in ids, paths, messages and code.
"""

from __future__ import annotations

from codeaudit.model import (
    AuditError,
    AuditResult,
    Confidence,
    Finding,
    InputIssue,
    Report,
    Severity,
    Suggestion,
    Suppression,
    Verdict,
    fingerprint,
)
from codeaudit.registry import Rule

#: A made-up token in the code; only the privacy finding's snippet masks it.
SECRET = "ghp_Zx81Qm0aLk29Vb7Nc4Hd6Jf3Ps5Tw2Ry8Ue1"
HOSTILE = '</script><script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


def _f(
    auditor,
    rule_id,
    name,
    sev,
    line,
    *,
    end_line=None,
    column=1,
    cwe=None,
    message,
    evidence=None,
    snippet="",
    suppressed=None,
    confidence=Confidence.HIGH,
):
    return Finding(
        auditor=auditor,
        rule_id=rule_id,
        rule_name=name,
        severity=sev,
        confidence=confidence,
        cwe=cwe,
        line=line,
        end_line=end_line or line,
        column=column,
        end_column=None,
        message=message,
        snippet=snippet,
        evidence=evidence or {},
        fingerprint=fingerprint(rule_id, f"{name}:{message}"),
        suppressed=suppressed,
    )


RULES = {
    r.id: r
    for r in (
        Rule(
            id="CA101",
            name="username-in-path",
            auditor="privacy",
            title="A person's username inside an absolute path",
            severity=Severity.MEDIUM,
            confidence=Confidence.HIGH,
            cwe=359,
            description="Absolute paths under a home folder name the account of the person who wrote them.",
            fix="Build the path from `Path.home()` or a setting.",
            bad_example="open('/home/alice/x')",
            good_example="open(Path.home() / 'x')",
            references=("https://cwe.mitre.org/data/definitions/359.html",),
        ),
        Rule(
            id="CA201",
            name="secret-in-code",
            auditor="privacy",
            title="A secret in the code",
            severity=Severity.HIGH,
            confidence=Confidence.MEDIUM,
            cwe=798,
            description="Keys and passwords in code end up in every copy of it.",
            fix="Read it from the environment.",
        ),
        Rule(
            id="B602",
            name="subprocess-popen-with-shell-equals-true",
            auditor="security",
            title="subprocess call with shell=True",
            severity=Severity.HIGH,
            confidence=Confidence.HIGH,
            cwe=78,
            description="A shell parses the command, so data in it can run commands.",
            fix="Pass a list and no shell.",
        ),
        Rule(
            id="CA301",
            name="near-copy-of-corpus",
            auditor="memorization",
            title="Near-copy of a corpus file",
            severity=Severity.LOW,
            confidence=Confidence.MEDIUM,
            cwe=None,
            description="The completion reproduces a known file.",
            fix="Check the licence before use.",
        ),
        Rule(
            id="CA501",
            name="tests-fail",
            auditor="tests",
            title="The completion fails its unit tests",
            severity=Severity.MEDIUM,
            confidence=Confidence.HIGH,
            cwe=None,
            description="The suggestion does not do what its tests ask.",
            fix="Do not accept it.",
        ),
    )
}

PY_CODE = (
    "import subprocess\n"
    "\n"
    "def backup(name):\n"
    "    src = '/home/alice/projects/data'\n"
    "    subprocess.call('tar czf ' + name + ' ' + src, shell=True)\n"
    f"    token = '{SECRET}'\n"
    "    return src\n"
)
JS_CODE = (
    "// render the comment\n"
    f"el.innerHTML = '{HOSTILE}';\n"
    "const home = 'C:\\\\Users\\\\bob\\\\app';  // codeaudit: ignore[CA101]\n"
    "let x = 1;  // codeaudit: ignore[B101]\n"
)
MEM_CODE = 'def add(a, b):\n    """Add."""\n    return a + b\n'
TEST_CODE = "def is_even(n):\n    return n % 2 == 1\n"


def sample_report() -> Report:
    py = Suggestion(
        id="py-backup",
        completion=PY_CODE,
        language="python",
        path="tools/backup.py",
        model="codegen-350M-mono",
        origin="batch.jsonl:1",
    )
    js = Suggestion(
        id=f"js<{HOSTILE}>",
        completion=JS_CODE,
        language="javascript",
        path=f"web/{HOSTILE}.js",
        origin="batch.jsonl:2",
    )
    mem = Suggestion(id="mem-1", completion=MEM_CODE, language="python", origin="batch.jsonl:3")
    tst = Suggestion(
        id="task-7",
        completion=TEST_CODE,
        language="python",
        task_id="Demo/7",
        origin="batch.jsonl:4",
    )
    clean = Suggestion(
        id="clean-go",
        completion="package main\n\nfunc main() {}\n",
        language="go",
        origin="batch.jsonl:5",
    )
    odd = Suggestion(
        id="plugin-only",
        completion="print('x')  # codeaudit: ignore\n",
        language="python",
        origin="batch.jsonl:6",
    )

    py_findings = (
        _f(
            "privacy",
            "CA101",
            "username-in-path",
            Severity.MEDIUM,
            4,
            column=12,
            cwe=359,
            message="Username 'alice' in the absolute path '/home/alice/projects/data'",
            evidence={
                "username": "alice",
                "path": "/home/alice/projects/data",
                "style": "posix-home",
            },
            snippet="    src = '/home/alice/projects/data'",
        ),
        _f(
            "security",
            "B602",
            "subprocess-popen-with-shell-equals-true",
            Severity.HIGH,
            5,
            column=5,
            cwe=78,
            message="subprocess call with shell=True and a built-up command string",
            evidence={"call": "subprocess.call", "test_id": "B602"},
            snippet="    subprocess.call('tar czf ' + name + ' ' + src, shell=True)",
        ),
        _f(
            "privacy",
            "CA201",
            "secret-in-code",
            Severity.HIGH,
            6,
            column=13,
            cwe=798,
            confidence=Confidence.MEDIUM,
            message="GitHub Token in a string literal",
            evidence={"type": "GitHub Token", "secret": "ghp_****abcd"},
            snippet="    token = '[REDACTED:5f1c]'",
        ),
        # An auditor that quotes the secret it saw (as bandit's B105 message does): reports must
        # still not show it.
        _f(
            "security",
            "B105",
            "hardcoded-password-string",
            Severity.LOW,
            6,
            column=13,
            cwe=259,
            message=f"Possible hardcoded password: '{SECRET}'",
            evidence={"match": f"token = '{SECRET}'"},
            snippet=f"    token = '{SECRET}'",
        ),
    )
    js_findings = (
        _f(
            "privacy",
            "CA101",
            "username-in-path",
            Severity.MEDIUM,
            3,
            column=15,
            cwe=359,
            message="Username 'bob' in the absolute path",
            evidence={"username": "bob", "path": "C:\\Users\\bob\\app"},
            suppressed="inline",
        ),
        _f(
            "acme",
            "ACME1",
            "raw-html-assignment",
            Severity.CRITICAL,
            2,
            column=1,
            cwe=79,
            message=f"innerHTML set from a literal holding markup: {HOSTILE}",
            evidence={"sink": "innerHTML", "value": HOSTILE},
            snippet=JS_CODE.splitlines()[1],
        ),
        _f(
            "privacy",
            "CA102",
            "email-address",
            Severity.LOW,
            1,
            column=4,
            message="allow-listed e-mail",
            evidence={"email": "dev@corp.example"},
            suppressed="allowlist",
        ),
    )
    mem_findings = (
        _f(
            "memorization",
            "CA301",
            "near-copy-of-corpus",
            Severity.LOW,
            1,
            end_line=3,
            confidence=Confidence.MEDIUM,
            message="Jaccard 0.91 with stdlib/operator.py lines 10-12 (PSF-2.0)",
            evidence={
                "corpus": "stdlib-3.11",
                "source": "operator.py",
                "lines": [10, 12],
                "licence": "PSF-2.0",
                "similarity": 0.91,
            },
        ),
    )
    test_findings = (
        _f(
            "tests",
            "CA501",
            "tests-fail",
            Severity.MEDIUM,
            1,
            end_line=2,
            message="1 of 1 attempts failed: AssertionError",
            evidence={
                "outcome": "failed",
                "detail": "AssertionError: is_even(2)",
                "passed": 0,
                "attempts": 1,
            },
        ),
    )
    results = (
        AuditResult(suggestion=py, language="python", verdict=Verdict.FAIL, findings=py_findings),
        AuditResult(
            suggestion=js,
            language="javascript",
            verdict=Verdict.FAIL,
            findings=js_findings,
            suppressions=(
                Suppression(line=3, rules=("CA101",), used=True),
                Suppression(line=4, rules=("B101",), used=False),
            ),
        ),
        AuditResult(suggestion=mem, language="python", verdict=Verdict.WARN, findings=mem_findings),
        AuditResult(
            suggestion=tst,
            language="python",
            verdict=Verdict.FAIL,
            findings=test_findings,
            data={"tests": {"outcome": "failed", "duration_s": 0.05}},
        ),
        AuditResult(suggestion=clean, language="go", verdict=Verdict.PASS),
        AuditResult(
            suggestion=odd,
            language="python",
            verdict=Verdict.WARN,
            errors=(
                AuditError(
                    auditor="memorization",
                    code="corpus-missing",
                    message="no index for 'stdlib-3.11'",
                ),
            ),
            suppressions=(Suppression(line=1, rules=(), used=False),),
        ),
    )
    tool = {
        "name": "codeaudit",
        "version": "0.0.0-test",
        "auditors": {"privacy": {}, "security": {}, "memorization": {}, "tests": {}, "acme": {}},
        "config": None,
    }
    issues = (
        InputIssue(
            source="batch.jsonl",
            line=7,
            message="malformed JSON at column 3: Expecting value; suggestion skipped",
        ),
        InputIssue(
            source="batch.jsonl",
            line=8,
            field="language",
            message="unknown language 'cobol-ish'; audited with language-independent rules only",
            skipped=False,
            suggestion_id="x",
        ),
    )
    return Report(
        results=results,
        tool=tool,
        fail_on=Severity.MEDIUM,
        input_errors=issues,
        auditor_summaries={"tests": {"tasks": 1, "pass@1": 0.0}},
    )


def expected_findings() -> set[tuple[str, str, int]]:
    """(suggestion id, rule id, line) of every finding in :func:`sample_report`, suppressed ones too."""
    return {(r.id, f.rule_id, f.line) for r in sample_report().results for f in r.findings}
