"""The bundled example batch (``examples/suggestions.jsonl``, used by the README's quick start).

It must parse cleanly, cover the languages and problem kinds it claims, and the findings the
auditors raise on it must be the right ones: people's names where they are, nothing on the
clean suggestions, secrets masked in every output.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.resources import files
from importlib.util import find_spec

import pytest
from helpers.paths import ROOT

from codeaudit.config import Config
from codeaudit.inputs import read_input
from codeaudit.pipeline import admit

EXAMPLE = ROOT / "examples" / "suggestions.jsonl"

LANGUAGES = {"python", "javascript", "java", "c", "go", "csharp", "php", "shell", "yaml", "json"}
#: Suggestions with nothing to report.
CLEAN = {
    "py-slugify",
    "py-context-only",
    "py-cache-dir",
    "js-debounce",
    "c-clamp",
    "go-sum",
    "sh-build",
}
#: Suggestion id -> (username, completion line) of each username inside an absolute path.
USERNAMES = {
    "py-churn-loader": ("mkowalski", 1),  # /home/u/
    "py-report-export": ("jdoe", 1),  # C:\Users\u\ in a raw string
    "java-config-reader": ("priya.raman", 3),  # /Users/u/
    "csharp-user-lookup": ("tnguyen", 1),  # C:\\Users\\u\\ inside a string literal
    "sh-sync-photos": ("lucas.moreau", 1),  # /mnt/c/Users/u/ (WSL)
}
#: Problem kind -> a pattern that shows it in at least one completion.
KINDS = {
    "posix home path": r"/home/[a-z]\w+/",
    "macOS home path": r"/Users/[a-z][\w.]+/",
    "Windows path": r"C:\\Users\\[a-z]",
    "escaped Windows path in a string literal": r"C:\\\\Users\\\\[a-z]",
    "WSL path": r"/mnt/c/Users/[a-z]",
    "credentials in a URL": r"\w+://\w+:[^@\s/]+@",
    "secret": r"ghp_[A-Za-z0-9]{36}",
    "e-mail address": r"[\w.]+@[\w-]+\.(?:com|org|net)\b",
    "IP address": r"\b\d{1,3}(?:\.\d{1,3}){3}\b",
    "ssh/scp remote": r"\b[a-z]+@[\w.-]+\.internal:",
    "SQL injection": r"SELECT .*(?:\+|\. \$id)",
    "shell injection": r"os\.system\(.*\+|shell=True",
    "weak hash": r"hashlib\.md5|\"SHA-1\"",
    "disabled TLS verification": r"InsecureSkipVerify: true|curl -k",
    "unsafe C string functions": r"\bstrcpy\(|\bgets\(",
}


def rows():
    return [
        json.loads(line)
        for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_parses_with_no_input_problems():
    batch = read_input(EXAMPLE)
    assert batch.issues == []
    suggestions, issues = admit(batch.suggestions, Config())
    assert issues == [] and 15 <= len(suggestions) <= 25
    assert {s.language for s in suggestions} >= LANGUAGES


def test_every_line_matches_the_suggestion_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(files("codeaudit").joinpath("schemas/suggestion.schema.json").read_text())
    for row in rows():
        jsonschema.validate(row, schema)


def test_covers_every_problem_kind_and_has_clean_suggestions():
    by_id = {r["id"]: r for r in rows()}
    assert CLEAN <= set(by_id) and set(USERNAMES) <= set(by_id)
    for kind, pattern in KINDS.items():
        assert any(re.search(pattern, r["completion"]) for r in rows()), (
            f"no suggestion shows: {kind}"
        )
    for sid, (user, line) in USERNAMES.items():
        assert user in by_id[sid]["completion"].splitlines()[line - 1]
    # The prompt-only path is context: the name is in the prompt, not in the completion.
    assert (
        "/home/olga/" in by_id["py-context-only"]["prompt"]
        and "olga" not in by_id["py-context-only"]["completion"]
    )


def test_task_has_one_passing_and_one_failing_completion():
    tasks = [r for r in rows() if r.get("tests")]
    assert len(tasks) == 2 and len({r["task_id"] for r in tasks}) == 1
    outcomes = {}
    for r in tasks:
        # Our own example code, still run in a child process (never in the test process).
        program = (
            r["prompt"] + r["completion"] + "\n" + r["tests"] + f"\ncheck({r['entry_point']})\n"
        )
        outcomes[r["id"]] = subprocess.run(
            [sys.executable, "-I", "-c", program], capture_output=True, timeout=60
        ).returncode
    assert sorted(outcomes.values())[0] == 0 and sorted(outcomes.values())[1] != 0


def test_readme_quick_start_uses_this_batch():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "codeaudit audit examples/suggestions.jsonl --format table" in readme


@pytest.fixture(scope="module")
def privacy_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("example") / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "codeaudit",
            "audit",
            str(EXAMPLE),
            "--auditors",
            "privacy",
            "-o",
            str(out),
        ],
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr.decode()  # the batch has findings at or above medium
    return out.read_text(encoding="utf-8")


def test_real_report_matches_the_report_schema(privacy_report):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(files("codeaudit").joinpath("schemas/report.schema.json").read_text())
    jsonschema.validate(json.loads(privacy_report), schema)


def test_privacy_findings_on_the_example(privacy_report):
    report = json.loads(privacy_report)
    by_id = {r["id"]: r for r in report["results"]}
    for sid, (user, line) in USERNAMES.items():
        named = [
            (f["evidence"].get("username"), f["line"])
            for f in by_id[sid]["findings"]
            if "path" in f["evidence"]
        ]
        assert (user, line) in named, (sid, by_id[sid]["findings"])
    for sid in CLEAN:
        assert by_id[sid]["findings"] == [], (sid, by_id[sid]["findings"])
    # Secrets and passwords never leave the auditor.
    for secret in (
        "FAKEexampleTokenForCodeauditDemo0000",
        "Tr1cky-Pa55word",
        "Winter2023Inventory!",
    ):
        assert secret not in privacy_report
    assert by_id["py-github-client"]["findings"] and by_id["js-orders-db"]["findings"]


@pytest.mark.skipif(
    find_spec("codeaudit.auditors.security.auditor") is None,
    reason="the security auditor is not installed",
)
def test_security_findings_on_the_example(tmp_path):
    out = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "codeaudit",
            "audit",
            str(EXAMPLE),
            "--auditors",
            "security",
            "-o",
            str(out),
        ],
        capture_output=True,
        timeout=300,
    )
    by_id = {r["id"]: r for r in json.loads(out.read_text())["results"]}
    flagged = {sid for sid, r in by_id.items() if r["findings"]}
    for sid in (
        "py-ping-check",
        "py-password-hash",
        "c-copy-arg",
        "go-status-client",
        "php-product-page",
        "csharp-user-lookup",
        "js-orders-db",
    ):
        assert sid in flagged, (sid, by_id[sid]["findings"], by_id[sid]["errors"])
    for sid in CLEAN:
        assert by_id[sid]["findings"] == [], (sid, by_id[sid]["findings"])


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "html"])
def test_no_secret_reaches_any_report(tmp_path, fmt):
    # Security rules run too: bandit's hard-coded-password message quotes the string it saw.
    out = tmp_path / "report.out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "codeaudit",
            "audit",
            str(EXAMPLE),
            "--auditors",
            "privacy,security",
            "--format",
            fmt,
            "-o",
            str(out),
        ],
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr.decode()
    text = out.read_text(encoding="utf-8")
    if fmt == "sarif":  # rule help may use any made-up example; only what was found must be masked
        doc = json.loads(text)
        del doc["runs"][0]["tool"]
        text = json.dumps(doc, ensure_ascii=False)
    for secret in (
        "FAKEexampleTokenForCodeauditDemo0000",
        "Tr1cky-Pa55word",
        "Winter2023Inventory!",
    ):
        assert secret not in text and secret not in proc.stderr.decode()
