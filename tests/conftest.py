"""Shared fixtures. Everything runs offline on small real data.

Every test, and every process a test starts, uses a cache folder of this session's own
(``CODEAUDIT_CACHE_DIR``), never the user's: set here, before any test module is collected,
so even collection-time work (rule lists read from bandit) stays in it. Artefacts cached there
(the default corpus index, the tiny model, ONNX exports) are built at most once per session, on
first use. ``CODEAUDIT_TEST_CACHE_DIR`` names a folder to use instead (kept afterwards, so a
warm cache can be reused between runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers.git import init_repo
from helpers.paths import DATA, ROOT

__all__ = ["DATA", "ROOT"]  # older test modules import them from here

# No test may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_KEPT_CACHE = os.environ.get("CODEAUDIT_TEST_CACHE_DIR")
SESSION_CACHE = Path(_KEPT_CACHE or tempfile.mkdtemp(prefix="codeaudit-test-cache-"))
os.environ["CODEAUDIT_CACHE_DIR"] = str(SESSION_CACHE)


def pytest_sessionfinish(session, exitstatus):
    if not _KEPT_CACHE:
        shutil.rmtree(SESSION_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def _session_cache(monkeypatch):
    """Puts the session's cache folder back for every test (a test that points
    ``CODEAUDIT_CACHE_DIR`` elsewhere with ``monkeypatch`` gets it undone after it)."""
    monkeypatch.setenv("CODEAUDIT_CACHE_DIR", str(SESSION_CACHE))
    return SESSION_CACHE


@pytest.fixture
def git_repo(tmp_path) -> Path:
    """A new git repository (branch ``main``, no commit yet) in ``tmp_path / "repo"``; use the
    functions of ``helpers.git`` on it."""
    return init_repo(tmp_path / "repo")


@pytest.fixture
def run_cli(tmp_path):
    """Run the real ``codeaudit`` command in a child process; returns CompletedProcess."""

    def run(
        *args: str,
        input: bytes | str | None = None,
        cwd: Path | None = None,
        env: dict | None = None,
    ):
        if isinstance(input, str):
            input = input.encode()
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "codeaudit", *args],
            input=input,
            capture_output=True,
            cwd=cwd or tmp_path,
            env=full_env,
            timeout=600,
        )

    return run
