"""docs/hook.md and the README's hook section stay true: every hook is listed, the configuration
example is valid, the review-bot example runs on a real repository with the real auditors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from helpers.git import commit, git, git_env, write

from codeaudit.change.hook import HookSettings
from codeaudit.config import config_from_mapping
from codeaudit.model import Severity

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "hook.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def readme_section() -> str:
    m = re.search(
        r"^## Pre-commit hook and review pipelines\n(.*?)(?=^## |\Z)", README, re.S | re.M
    )
    assert m, "README has no hook section"
    return m.group(1)


def test_manifest_is_what_pre_commit_expects():
    from pre_commit.clientlib import load_manifest

    hooks = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert [h["id"] for h in hooks] == ["codeaudit", "codeaudit-system"]
    assert all(h["entry"] == "codeaudit hook" and h["require_serial"] for h in hooks)


def test_readme_and_docs_list_every_hook():
    section = readme_section()
    for hook in HOOKS:
        assert f"`{hook['id']}`" in section, f"README does not list hook {hook['id']}"
        assert f"`{hook['id']}`" in DOC, f"docs/hook.md does not list hook {hook['id']}"


def test_documented_configuration_is_valid():
    (text,) = re.findall(r"```toml\n(.*?)```", DOC, re.S)
    table = tomllib.loads(text)["tool"]["codeaudit"]
    settings = HookSettings.from_config(config_from_mapping(table, source="docs/hook.md"))
    assert (settings.fail_on, settings.ai_fail_on) == (Severity.HIGH, Severity.MEDIUM)
    assert settings.baseline == ".codeaudit-baseline.json"


def test_links_resolve():
    for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", DOC + readme_section()):
        if not target.startswith(("http://", "https://")):
            base = ROOT / "docs" if (ROOT / "docs" / target).exists() else ROOT
            assert (base / target).exists(), target


def test_review_bot_example_runs(git_repo):
    (code,) = re.findall(r"<!-- tested: review-bot -->\n```python\n(.*?)```", DOC, re.S)
    repo = git_repo
    env = git_env()
    write(repo, "app.py", "def ok():\n    return 1\n")
    commit(repo, "base")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")  # as after a fetch
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app.py").write_text(
        "import subprocess\n\n\ndef ok():\n    return 1\n\n\ndef backup(name):\n"
        "    subprocess.call('tar czf /home/jdoe.backup/' + name + '.tgz data', shell=True)\n"
    )
    git(repo, "commit", "-q", "-am", "feature")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    verdict, _, rest = proc.stdout.partition("\n")
    comments = json.loads(rest)
    assert verdict == "fail"
    assert {c["path"] for c in comments} == {"app.py"}
    assert {c["line"] for c in comments if c["blocking"]} == {9}  # the leak in a shell command
    assert {c["line"] for c in comments} <= {1, 9}  # added lines only (line 1: the new import)
    sarif = json.loads((repo / "codeaudit.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert 9 in {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results}
    assert all(r["partialFingerprints"] for r in results)
