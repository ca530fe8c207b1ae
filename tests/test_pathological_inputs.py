"""Every static auditor finishes on inputs shaped to hurt regexes and parsers.

Each case runs in a child process with a time limit, so a regression (catastrophic backtracking,
a parser stuck on deep nesting) fails on the timeout instead of hanging the suite. The inputs are
built here; the corpus is the stdlib's json package, read at run time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from codeaudit.corpus.build import build_index
from codeaudit.corpus.sources import FolderSource

STDLIB = Path(sysconfig.get_paths()["stdlib"])

CASES = {
    "escapes-unclosed": "p = join('/home', 'a') + b'" + "\\x8a" * 400,
    "escapes-closed": "DATA = b'" + "\\x8a\\\\" * 2000 + "'",
    "one-long-line": "x = " + " + ".join(f"'/home/u{i}/f'" for i in range(3000)),
    "quotes": "'\"" * 20000,
    "backslashes": "C:" + "\\" * 50000 + "Users\\bob",
    "deep-nesting": "x = " + "(" * 5000 + "1" + ")" * 5000,
    "deep-nesting-unclosed": "f(" * 20000,
    "many-urls": " ".join(f"https://u{i}:p{i}@h{i}.corp/x" for i in range(2000)),
    "many-emails": " ".join(f"a{i}@b{i}.example.org" for i in range(5000)),
    "at-signs": "@" * 100000,
    "long-identifier": "a" * 200000,
    "controls": "x = 1\x01\x02\x1b[31m\ufeff\u202e\n"
    * 2000,  # (NUL makes it binary: skipped, see test_pipeline)
    "crlf-mixed": "import os\r\nos.system(x)\r" * 3000,
    "many-lines": "y = 1\n" * 100000,
    "surrogate-like": "s = '\\ud800\\udfff'\n" * 5000,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("patho") / "json.idx"
    build_index([FolderSource(str(STDLIB / "json"), repo="cpython/json", license="PSF-2.0")], out)
    return out


@pytest.mark.parametrize("language", ["python", "c", "javascript", "shell"])
def test_static_auditors_finish_on_pathological_input(corpus, tmp_path, language):
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        "".join(
            json.dumps({"id": name, "language": language, "completion": text}) + "\n"
            for name, text in CASES.items()
        ),
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "codeaudit",
            "audit",
            str(batch),
            "--format",
            "json",
            "-o",
            str(out),
            "--auditors",
            "privacy,security,memorization",
            "--corpus",
            str(corpus),
            "--fail-on",
            "critical",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in report["results"]] == list(CASES)
    crashed = {
        r["id"]: r["errors"]
        for r in report["results"]
        if any(e.get("code") == "internal-error" for e in r["errors"])
    }
    assert not crashed


@pytest.mark.parametrize("fmt", ["sarif", "html", "table"])
def test_every_report_format_renders_thousands_of_findings_in_time(tmp_path, fmt):
    # Thousands of findings on one minified line once made SARIF quadratic (a masker rebuilt per finding).
    batch = tmp_path / "batch.jsonl"
    rows = [
        {"id": k, "language": "python", "completion": CASES[k]}
        for k in ("one-long-line", "many-urls")
    ]
    batch.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / f"report.{fmt}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "codeaudit",
            "audit",
            str(batch),
            "--format",
            fmt,
            "-o",
            str(out),
            "--auditors",
            "privacy",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    text = out.read_text(encoding="utf-8")
    if fmt == "sarif":
        assert len(json.loads(text)["runs"][0]["results"]) == 5000
    else:
        assert "u2999" in text and "many-urls" in text
