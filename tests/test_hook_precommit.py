"""The hook end to end: the real pre-commit framework, real git repositories, the real auditors.

* ``pre-commit try-repo`` runs the published ``.pre-commit-hooks.yaml`` of this checkout (with its
  uncommitted changes to tracked files, as try-repo does): the ``codeaudit`` hook
  (``language: python``) makes pre-commit build its own virtualenv and ``pip install`` this
  repository with all its dependencies. The test stays offline: pip gets ``PIP_NO_INDEX=1`` and
  ``PIP_FIND_LINKS`` pointing at a wheelhouse built once per session by repacking the
  distributions installed in the test environment (a wheel is a zip of the installed files plus
  their metadata; about 2 s). try-repo uses a fresh store each time, so that build (with the
  hook's run, about 10 s here) happens in one test only; everything else uses ``codeaudit-system`` (``language: system``,
  the codeaudit on PATH), the entry for teams that install codeaudit themselves.
* ``git commit`` with the hook installed by ``pre-commit install`` (one shared ``PRE_COMMIT_HOME``
  per session): blocked commits, baselines across a rename, the AI policy, a merge commit.
* ``codeaudit.cli.hook.main(argv)`` called on temporary files, as pre-commit-hooks' own tests do.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import git as shared_git
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from codeaudit.cli.hook import main

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: The hook's default auditors (all but tests).
AUDITORS = ("privacy", "security", "memorization")

#: A line two real auditors flag: a person's home folder (privacy) in a shell command (security).
LEAK = 'subprocess.call("cat /home/alice.smith/" + name, shell=True)\n'


# --- offline wheelhouse -------------------------------------------------------------------------


def _closure(names: list[str]) -> list[md.Distribution]:
    dists = {canonicalize_name(d.metadata["Name"]): d for d in md.distributions()}
    seen: dict[str, md.Distribution] = {}
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen or name not in dists:
            continue
        seen[name] = dists[name]
        for spec in dists[name].requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values())


def repack(dist: md.Distribution, folder: Path) -> Path:
    """A wheel of an installed distribution: its files under site-packages and its metadata.

    Scripts outside site-packages are left out (pip writes console scripts from the entry points
    again); RECORD is written anew with the hashes pip checks.
    """
    info = Path(str(dist._path))  # type: ignore[attr-defined]
    tags = [
        line.split(":", 1)[1].strip()
        for line in (info / "WHEEL").read_text().splitlines()
        if line.startswith("Tag:")
    ]
    parts = [".".join(sorted({t.split("-")[i] for t in tags})) for i in range(3)]
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    target = folder / f"{name}-{dist.version}-{'-'.join(parts)}.whl"
    site = info.parent
    record = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as whl:
        for f in dist.files or []:
            rel = str(f)
            if rel.startswith("..") or "__pycache__" in rel:
                continue
            if rel.startswith(info.name + "/") and rel.rsplit("/", 1)[-1] in (
                "RECORD",
                "INSTALLER",
                "REQUESTED",
                "direct_url.json",
            ):
                continue
            path = site / rel
            if not path.is_file():
                continue
            data = path.read_bytes()
            whl.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{rel},sha256={digest},{len(data)}")
        record.append(f"{info.name}/RECORD,,")
        whl.writestr(f"{info.name}/RECORD", "\n".join(record) + "\n")
    return target


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheelhouse")
    # codeaudit's dependencies, and the build backend pip needs to build codeaudit itself.
    for dist in _closure(["codeaudit", "setuptools"]):
        if canonicalize_name(dist.metadata["Name"]) != "codeaudit":
            repack(dist, folder)
    return folder


@pytest.fixture(scope="session")
def precommit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def env(wheelhouse, precommit_home, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(precommit_home),
        "PRE_COMMIT_COLOR": "never",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # pip reads its negative switches from the environment inverted: this is --no-compile
        # (byte-compiling numpy and scipy is most of the environment's build time).
        "PIP_NO_COMPILE": "0",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        # The user's git configuration stays out; the memorization corpus cache stays shared.
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
    }


def run(cmd: list[str], cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def git(repo: Path, env: dict, *args: str) -> str:
    """The shared helper, with this module's pre-commit environment."""
    return shared_git.git(repo, *args, env=env)


@pytest.fixture
def repo(tmp_path, env) -> Path:
    r = shared_git.init_repo(tmp_path / "project", env=env)
    (r / "pyproject.toml").write_text(f"[tool.codeaudit.hook]\nauditors = {list(AUDITORS)!r}\n")
    helpers = "".join(
        f"\n\ndef helper_{i}(value):\n    return value * {i} + len(str(value))\n" for i in range(8)
    )
    (r / "app.py").write_text(
        "import subprocess\n\n\ndef show():\n    " + LEAK + "    return 0\n" + helpers
    )
    git(r, env, "add", "-A")
    git(r, env, "commit", "-q", "-m", "base (with a finding that predates the hook)")
    return r


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def out(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


# --- pre-commit try-repo ------------------------------------------------------------------------


def test_try_repo_python_hook_blocks_a_new_finding_and_ignores_old_ones(repo, env):
    """The published ``codeaudit`` hook in its own pip-installed environment, offline."""
    write(
        repo / "app.py", (repo / "app.py").read_text() + "\n\ndef other():\n    return 1\n"
    )  # harmless edit
    write(repo / "tools/deploy.py", "import subprocess\n\n" + LEAK)
    git(repo, env, "add", "-A")
    proc = run(
        [str(BIN / "pre-commit"), "try-repo", str(ROOT), "codeaudit", "--verbose"],
        repo,
        env,
        timeout=600,
    )
    text = out(proc)
    assert proc.returncode == 1, text
    assert "tools/deploy.py:3:" in text and "error:" in text
    assert "app.py:5" not in text  # the old finding sits on an unchanged line
    assert "Installing environment" in text  # pre-commit really built the hook's environment


def test_try_repo_system_hook_passes_when_only_unchanged_lines_have_findings(repo, env):
    write(
        repo / "app.py",
        (repo / "app.py").read_text().replace("    return 0\n", "    return 0  # done\n"),
    )
    git(repo, env, "add", "-A")
    proc = run(
        [str(BIN / "pre-commit"), "try-repo", str(ROOT), "codeaudit-system", "--verbose"], repo, env
    )
    assert proc.returncode == 0, out(proc)
    assert "Passed" in out(proc)


# --- git commit with the hook installed ---------------------------------------------------------


@pytest.fixture
def installed(repo, env) -> Path:
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    write(
        repo / ".pre-commit-config.yaml",
        f"repos:\n- repo: {ROOT}\n  rev: {rev}\n  hooks:\n  - id: codeaudit-system\n",
    )
    git(repo, env, "add", ".pre-commit-config.yaml")
    git(repo, env, "commit", "-q", "--no-verify", "-m", "pre-commit config")
    proc = run([str(BIN / "pre-commit"), "install"], repo, env)
    assert proc.returncode == 0, out(proc)
    return repo


def commit(repo: Path, env: dict, message: str = "change") -> subprocess.CompletedProcess:
    return run(["git", "commit", "-m", message], repo, env)


def head(repo: Path, env: dict) -> str:
    return git(repo, env, "rev-parse", "HEAD").strip()


def test_commit_is_blocked_by_a_new_finding_and_allowed_without_it(installed, env):
    repo = installed
    before = head(repo, env)
    write(repo / "lib/run.py", "import subprocess\n\n\ndef go():\n    " + LEAK)
    git(repo, env, "add", "-A")
    proc = commit(repo, env)
    assert proc.returncode != 0 and head(repo, env) == before, out(proc)
    assert "lib/run.py:5:" in out(proc)
    write(
        repo / "lib/run.py", "import subprocess\n\n\ndef go():\n    subprocess.call(['ls', '-l'])\n"
    )
    git(repo, env, "add", "-A")
    proc = commit(repo, env)
    assert proc.returncode == 0 and head(repo, env) != before, out(proc)


def test_baselined_finding_does_not_refire_after_a_rename(installed, env):
    repo = installed
    proc = run([str(BIN / "codeaudit"), "baseline", "create"], repo, env)
    assert proc.returncode == 0, out(proc)
    assert (repo / ".codeaudit-baseline.json").is_file()
    write(
        repo / "pyproject.toml",
        (repo / "pyproject.toml").read_text() + 'baseline = ".codeaudit-baseline.json"\n',
    )
    git(repo, env, "add", "-A")
    assert commit(repo, env, "baseline").returncode == 0
    # Move the file and re-indent the known line: git sees a rename; the line is "added".
    body = (
        (repo / "app.py")
        .read_text()
        .replace("def show():\n    " + LEAK, "def show():\n    if True:\n        " + LEAK)
    )
    git(repo, env, "mv", "app.py", "moved_app.py")
    write(repo / "moved_app.py", body)
    git(repo, env, "add", "-A")
    proc = commit(repo, env, "move")
    assert proc.returncode == 0, out(proc)
    # The same line pasted into another existing file is new, and blocks.
    write(repo / "second.py", "import subprocess\n" + LEAK)
    git(repo, env, "add", "-A")
    proc = commit(repo, env, "copy")
    assert proc.returncode != 0 and "second.py:2:" in out(proc), out(proc)


def test_ai_generated_lines_get_the_stricter_policy(installed, env):
    repo = installed
    write(
        repo / "pyproject.toml",
        (repo / "pyproject.toml").read_text() + 'fail_on = "critical"\nai_fail_on = "low"\n',
    )
    git(repo, env, "add", "-A")
    assert commit(repo, env, "policy").returncode == 0
    write(repo / "human.py", "import subprocess\n" + LEAK)
    git(repo, env, "add", "-A")
    proc = commit(repo, env, "human")
    assert proc.returncode == 0, out(proc)  # reported as warnings, below the human threshold
    assert "human.py:2:" in out(proc) or "Passed" in out(proc)
    write(
        repo / "bot.py",
        "import subprocess\n# codeaudit: ai-generated-begin\n"
        + LEAK
        + "# codeaudit: ai-generated-end\n",
    )
    git(repo, env, "add", "-A")
    proc = commit(repo, env, "bot")
    assert proc.returncode != 0, out(proc)
    assert re.search(r"bot\.py:3:\d+: error: .*\[AI-generated\]", out(proc)), out(proc)


def test_merge_commit_checks_only_what_the_merge_adds(installed, env):
    repo = installed
    lines = [f"value_{i} = {i}\n" for i in range(12)]
    write(repo / "m.py", "".join(lines))
    git(repo, env, "add", "-A")
    assert commit(repo, env, "m").returncode == 0
    git(repo, env, "checkout", "-q", "-b", "feature")
    feature = lines.copy()
    feature[2] = "import subprocess\n" + LEAK.replace(
        "subprocess.call", "value_2 = subprocess.call"
    )
    feature[8] = "value_8 = 'feature'\n"
    write(repo / "m.py", "".join(feature))
    git(repo, env, "add", "-A")
    assert (
        run(
            ["git", "commit", "-q", "--no-verify", "-m", "feature (committed past the hook)"],
            repo,
            env,
        ).returncode
        == 0
    )
    git(repo, env, "checkout", "-q", "main")
    main_lines = lines.copy()
    main_lines[8] = "value_8 = 'main'\n"
    write(repo / "m.py", "".join(main_lines))
    git(repo, env, "add", "-A")
    assert commit(repo, env, "main").returncode == 0
    assert run(["git", "merge", "feature"], repo, env).returncode != 0  # conflict on value_8
    text = (repo / "m.py").read_text()
    resolved = re.sub(r"<<<<<<< HEAD\n.*?>>>>>>> feature\n", "value_8 = 'both'\n", text, flags=re.S)
    write(repo / "m.py", resolved)
    git(repo, env, "add", "m.py")
    proc = run(["git", "commit", "--no-edit"], repo, env)
    assert proc.returncode == 0, out(
        proc
    )  # the feature's finding was added on its branch, not here
    assert len(git(repo, env, "log", "-1", "--format=%P").split()) == 2


# --- main(argv) on temporary files --------------------------------------------------------------


def test_main_on_temporary_files_outside_git(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\n" + LEAK)
    good = tmp_path / "good.py"
    good.write_text("def add(a, b):\n    return a + b\n")
    assert main([str(good), "--auditors", ",".join(AUDITORS)]) == 0
    assert main([str(bad), "--auditors", ",".join(AUDITORS)]) == 1
    assert "bad.py:2:" in capsys.readouterr().out
    assert main(["--fail-on", "bogus", str(good)]) == 2
    assert "--fail-on" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.py")]) == 2


def test_main_in_a_repository_audits_the_index(repo, env, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    write(repo / "new.py", "x = 1\n")
    git(repo, env, "add", "new.py")
    write(repo / "new.py", "x = 1\n" + LEAK)  # unstaged: not part of the commit
    assert main(["new.py"]) == 0
    git(repo, env, "add", "new.py")
    assert main(["new.py"]) == 1
    assert "new.py:2:" in capsys.readouterr().out


def test_main_under_pre_push_audits_the_pushed_range(repo, env, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    base = git(repo, env, "rev-parse", "HEAD").strip()
    write(repo / "pushed.py", "import subprocess\n" + LEAK)
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-q", "-m", "to push")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    assert main(["pushed.py"]) == 1  # nothing is staged: the pushed commits are what is audited
    assert "pushed.py:2:" in capsys.readouterr().out


# --- files given that the change does not touch (pre-commit run --all-files) --------------------

HINT = "the hook audits only the lines a commit adds, so findings already committed are not audited"


def test_all_files_run_says_committed_findings_are_not_audited(repo, env):
    """``pre-commit run --all-files`` passes every tracked file; the committed finding in app.py
    still passes (only added lines count), and pre-commit shows the one-line note saying so."""
    write(repo / "new.py", "x = 1\n")
    git(repo, env, "add", "-A")
    proc = run(
        [str(BIN / "pre-commit"), "try-repo", str(ROOT), "codeaudit-system", "--all-files"],
        repo,
        env,
    )
    text = out(proc)
    assert proc.returncode == 0, text
    (note,) = [line for line in text.splitlines() if HINT in line]
    assert note.startswith("codeaudit: 2 of the 3 given file(s) have no staged change"), note
    assert "`codeaudit audit .`" in note
    # The command the note names does audit the committed finding.
    audited = run([str(BIN / "codeaudit"), "audit", ".", "--format", "json"], repo, env)
    assert audited.returncode == 1 and "app.py" in audited.stdout, out(audited)


def test_no_note_when_every_given_file_is_staged(repo, env, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    write(repo / "new.py", "x = 1\n")
    git(repo, env, "add", "new.py")
    assert main(["new.py"]) == 0
    assert HINT not in capsys.readouterr().err
    assert main(["new.py", "app.py", "pyproject.toml"]) == 0  # app.py's finding is committed
    captured = capsys.readouterr()
    assert HINT not in captured.out
    (note,) = [line for line in captured.err.splitlines() if HINT in line]
    assert note.startswith("codeaudit: 2 of the 3 given file(s) have no staged change")
    assert main(["new.py", "app.py", "-v"]) == 0
    assert "app.py: skipped (not in the change)" in capsys.readouterr().out


def test_note_under_pre_push_names_the_pushed_range(repo, env, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    base = git(repo, env, "rev-parse", "HEAD").strip()
    write(repo / "pushed.py", "y = 2\n")
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-q", "-m", "to push")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    assert main(["pushed.py", "app.py"]) == 0
    (note,) = [line for line in capsys.readouterr().err.splitlines() if HINT in line]
    assert "1 of the 2 given file(s) have no change in the pushed range" in note
