"""Real git repositories in temporary folders: the one helper every test that needs one uses
(the ``git_repo`` fixture in conftest.py builds on it).

Commits get a fixed identity and date, and the user's own git configuration is not read, so
what a test sees does not depend on the machine it runs on.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs with in tests: the identity above, no user or system config
    (unless ``extra`` names a ``GIT_CONFIG_GLOBAL`` of its own)."""
    return {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, **IDENTITY, **(extra or {})}


def git(
    repo: Path, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
) -> str:
    """Run git in ``repo``; its standard output. A failing git command fails the test."""
    out = subprocess.run(
        ["git", *args], cwd=repo, input=input, capture_output=True, env=git_env(env)
    )
    assert out.returncode == 0, f"git {' '.join(args)}: {out.stderr.decode(errors='replace')}"
    return out.stdout.decode(errors="replace")


def init_repo(path: Path, *, env: Mapping[str, str] | None = None) -> Path:
    """A new repository at ``path`` (created) on branch ``main``, with no commit yet."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main", env=env)
    git(path, "config", "commit.gpgsign", "false", env=env)
    return path


def write(repo: Path, name: str, data: bytes | str) -> Path:
    """Write a file of the working tree (folders created)."""
    p = repo / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def stage(repo: Path, *, env: Mapping[str, str] | None = None) -> None:
    git(repo, "add", "-A", env=env)


def commit(repo: Path, message: str = "c", *, env: Mapping[str, str] | None = None) -> str:
    """Stage everything and commit it; the new commit's id."""
    stage(repo, env=env)
    git(repo, "commit", "-q", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD", env=env).strip()
