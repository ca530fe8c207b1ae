"""Auditors run at once in forked processes give the same findings as in process; failures in a
child behave as they do in process (a configuration error stops the run, a crash costs only that
auditor's findings)."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest
from helpers.git import git

from codeaudit import Confidence, Rule, Severity, registry
from codeaudit.auditors.base import Auditor
from codeaudit.change.hook import ChangedFile, audit_files, audit_staged
from codeaudit.config import Config, config_from_mapping
from codeaudit.errors import ConfigError

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")

LEAK = 'subprocess.call("cat /home/alice.smith/" + name, shell=True)\n'


def key(result):
    return sorted(
        (
            r.suggestion.path,
            f.line,
            f.end_line,
            f.column,
            f.rule_id,
            f.fingerprint,
            f.severity,
            f.message,
            f.suppressed,
            sorted(map(str, f.evidence.items())),
        )
        for r, f in result.findings(include_suppressed=True)
    )


def test_parallel_and_in_process_runs_agree(git_repo, monkeypatch):
    repo = git_repo
    (repo / "a.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    # A privacy leak, a security smell, and real standard-library code (a memorised copy).
    lines = (
        (Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py")
        .read_text()
        .splitlines(keepends=True)
    )
    starts = [i for i, line in enumerate(lines) if line.startswith("def ")]
    copied = "".join(lines[starts[-3] : starts[-1]])  # two whole functions
    (repo / "a.py").write_text(
        "import subprocess\nx = 1\n\n\ndef run(name):\n    " + LEAK + "\n" + copied
    )
    (repo / "notes.md").write_text("Ask bob.jones@corp-mail.example.org for the key\n")
    git(repo, "add", "-A")
    monkeypatch.chdir(repo)
    config = Config()
    together = audit_staged(repo, config=config, parallel=True)
    apart = audit_staged(repo, config=config)
    assert key(together) == key(apart)
    assert {f.auditor for _, f in apart.findings()} == {"privacy", "security", "memorization"}
    assert together.report.tool["auditors"].keys() == apart.report.tool["auditors"].keys()
    assert together.failed == apart.failed is True


def test_a_configuration_error_in_a_child_stops_the_run():
    files = [ChangedFile(path="a.py", content=b"x = 1\n", added=frozenset({1}))]
    config = config_from_mapping({"privacy": {"no_such_option": 1}})
    with pytest.raises(ConfigError, match="no_such_option"):
        audit_files(files, config, auditors=["privacy", "security"], parallel=True)


class Crashing(Auditor):
    name = "security"

    @classmethod
    def rules(cls):
        return [
            Rule(
                id="CA999",
                name="never",
                auditor="security",
                title="t",
                severity=Severity.LOW,
                confidence=Confidence.LOW,
                cwe=None,
                description="d",
                fix="f",
            )
        ]

    def audit_batch(self, batch, progress=None):
        raise RuntimeError("boom")


class Vanishing(Crashing):
    def audit_batch(self, batch, progress=None):
        os._exit(7)  # the child dies without answering


@pytest.mark.parametrize(
    "broken, message", [(Crashing, "RuntimeError: boom"), (Vanishing, "without an answer")]
)
def test_a_crashing_child_costs_only_its_own_findings(monkeypatch, broken, message):
    real = registry.load_auditor_class
    monkeypatch.setattr(
        registry, "load_auditor_class", lambda name: broken if name == "security" else real(name)
    )
    files = [ChangedFile(path="a.py", content=b"p = '/home/alice.smith/x'\n", added=frozenset({1}))]
    result = audit_files(files, Config(), auditors=["privacy", "security"], parallel=True)
    (r,) = result.report.results
    assert [f.auditor for f in r.findings] == ["privacy"]
    assert [e.code for e in r.errors] == ["auditor-crash"] and message in r.errors[0].message


def test_input_problems_are_reported_in_parallel_too():
    big = ChangedFile(
        path="big.py", content=b"x = 1\n" * 300_000, added=frozenset(range(1, 300_001))
    )
    small = ChangedFile(path="a.py", content=b"p = '/home/alice.smith/x'\n", added=frozenset({1}))
    config = Config(max_completion_bytes=100_000)
    together = audit_files([big, small], config, auditors=["privacy", "security"], parallel=True)
    apart = audit_files([big, small], config, auditors=["privacy", "security"])
    assert [str(i) for i in together.report.input_errors] == [
        str(i) for i in apart.report.input_errors
    ]
    assert any("big.py" in str(i) and "limit" in str(i) for i in together.report.input_errors)
    assert key(together) == key(apart) and key(apart)
