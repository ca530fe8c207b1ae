"""The suite's own rules: every test stays out of the user's cache, and test modules reach their
helpers as a package (``tests/helpers``), not by editing ``sys.path``."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import SESSION_CACHE
from helpers.paths import ROOT

from codeaudit.cache import cache_dir

#: Modules that still edit sys.path (none left: benchmark modules come through helpers.bench).
NOT_YET: set[str] = set()


def test_tests_and_their_processes_use_the_session_cache(tmp_path):
    from platformdirs import user_cache_dir

    assert cache_dir() == SESSION_CACHE
    assert (
        SESSION_CACHE.resolve() != __import__("pathlib").Path(user_cache_dir("codeaudit")).resolve()
    )
    child = subprocess.run(
        [sys.executable, "-c", "from codeaudit.cache import cache_dir; print(cache_dir())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert child.stdout.strip() == str(SESSION_CACHE)


def test_a_test_that_moves_the_cache_gets_it_back(monkeypatch, tmp_path):
    monkeypatch.setenv("CODEAUDIT_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path  # undone after this test, checked by the next one


def test_the_cache_is_back_after_a_test_moved_it():
    assert cache_dir() == SESSION_CACHE


def test_test_modules_do_not_edit_sys_path():
    edits = re.compile(r"^\s*sys\.path\.(?:insert|append)\(", re.M)
    offenders = sorted(
        p.relative_to(ROOT).as_posix()
        for p in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("bench_mem*.py")]
        if p.name not in NOT_YET and edits.search(p.read_text(encoding="utf-8"))
    )
    assert offenders == []
