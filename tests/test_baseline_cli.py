"""``codeaudit baseline create|update|check``, ``audit --baseline`` and ``audit --diff`` as a user
runs them: the real command, real git repositories, the real auditors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.git import git

LEAK = 'subprocess.call("cat /home/alice.smith/" + name, shell=True)\n'
OTHER = 'subprocess.call("rm -rf /home/bob.jones/" + target, shell=True)\n'
CONFIG = '[tool.codeaudit]\nauditors = ["privacy", "security", "memorization"]\n'


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "codeaudit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def repo(git_repo) -> Path:
    r = git_repo
    (r / "pyproject.toml").write_text(CONFIG)
    (r / "app.py").write_text(
        "import subprocess\n\n\ndef show(name):\n    " + LEAK + "    return 0\n"
    )
    (r / "notes.txt").write_text("nothing to see\n")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "base")
    return r


def entries(repo: Path) -> list[dict]:
    data = json.loads((repo / ".codeaudit-baseline.json").read_text())
    return [dict(e, path=p) for p, items in data["results"].items() for e in items]


def test_create_check_update_cycle(repo):
    created = run(repo, "baseline", "create")
    assert created.returncode == 0, created.stderr
    assert "wrote .codeaudit-baseline.json" in created.stdout
    known = entries(repo)
    assert known and {e["path"] for e in known} == {"app.py"}
    assert {e["auditor"] for e in known} >= {"privacy", "security"}
    data = json.loads((repo / ".codeaudit-baseline.json").read_text())
    assert data["parameters"]["auditors"] == ["privacy", "security", "memorization"]
    assert len(data["parameters"]["config_hash"]) == 16

    again = run(repo, "baseline", "create")
    assert again.returncode == 2 and "exists" in again.stderr

    check = run(repo, "baseline", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 new finding(s), 0 stale entries" in check.stdout

    # Lines moving around does not matter; a new finding does, and a fixed one leaves a stale entry.
    (repo / "app.py").write_text(
        "import subprocess\n\n# moved down\n\n\ndef show(name):\n    " + LEAK + "    return 0\n"
    )
    assert run(repo, "baseline", "check").returncode == 0
    (repo / "tool.py").write_text("import subprocess\n" + OTHER)
    git(repo, "add", "tool.py")
    (repo / "app.py").write_text("def show(name):\n    return 0\n")
    check = run(repo, "baseline", "check")
    assert check.returncode == 1
    assert "tool.py:2:" in check.stdout and "stale baseline entry" in check.stdout
    assert "app.py:5: stale baseline entry" in check.stdout

    before = (repo / ".codeaudit-baseline.json").read_bytes()
    updated = run(repo, "baseline", "update")
    assert updated.returncode == 0 and "new" in updated.stdout and "stale removed" in updated.stdout
    assert {e["path"] for e in entries(repo)} == {"tool.py"}
    assert (repo / ".codeaudit-baseline.json").read_bytes() != before
    snapshot = (repo / ".codeaudit-baseline.json").read_bytes()
    assert run(repo, "baseline", "update").returncode == 0
    assert (
        repo / ".codeaudit-baseline.json"
    ).read_bytes() == snapshot  # no timestamps, stable order


def test_check_lists_unused_suppressions_and_strict_fails_on_them(repo):
    assert run(repo, "baseline", "create").returncode == 0
    (repo / "calm.py").write_text("total = 1  # codeaudit: ignore[B602]\n")
    git(repo, "add", "calm.py")
    check = run(repo, "baseline", "check")
    assert check.returncode == 0 and "calm.py:1: note: unused suppression" in check.stdout
    assert run(repo, "baseline", "check", "--strict").returncode == 1


def test_audit_with_baseline_reports_only_new_findings(repo):
    assert run(repo, "baseline", "create").returncode == 0
    (repo / "app.py").write_text(
        (repo / "app.py").read_text() + "\n\ndef more(target):\n    " + OTHER
    )
    proc = run(
        repo, "audit", "app.py", "--baseline", ".codeaudit-baseline.json", "--format", "json"
    )
    report = json.loads(proc.stdout)
    findings = report["results"][0]["findings"]
    active = {f["line"] for f in findings if f["suppressed"] is None}
    known = {f["line"] for f in findings if f["suppressed"] == "baseline"}
    assert active == {10} and 5 in known
    assert proc.returncode == 1


def test_audit_diff_reports_head_lines_in_sarif(repo):
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app.py").write_text(
        "import subprocess\n\n\ndef show(name):\n    "
        + LEAK
        + "    return 0\n\n\ndef more(target):\n    "
        + OTHER
    )
    git(repo, "commit", "-q", "-am", "more")
    proc = run(repo, "audit", "--diff", "main...feature", "--format", "sarif", "-o", "out.sarif")
    assert proc.returncode == 1, proc.stderr
    results = json.loads((repo / "out.sarif").read_text())["runs"][0]["results"]
    assert results
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        "app.py"
    }
    assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results} == {10}
    # Only paths given are audited; a bad range is a usage error.
    assert (
        run(repo, "audit", "--diff", "main...feature", "notes.txt", "--format", "json").returncode
        == 0
    )
    bad = run(repo, "audit", "--diff", "main", "--format", "json")
    assert bad.returncode == 2 and "BASE..HEAD" in bad.stderr


def test_bad_baseline_is_a_one_line_error(repo):
    (repo / "bl.json").write_text(
        '{"schema": "codeaudit.change.baseline/1", "results": {"a.py": [{"rule_id": "X1"}]}}'
    )
    proc = run(repo, "baseline", "check", "-b", "bl.json")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "field 'fingerprint'" in proc.stderr


def test_outside_git_the_source_files_of_a_folder_are_used(tmp_path):
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("import subprocess\n" + LEAK)
    proc = run(tmp_path, "baseline", "create", "src")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / ".codeaudit-baseline.json").read_text())
    assert list(data["results"]) == ["src/a.py"] and data["parameters"]["paths"] == ["src"]
