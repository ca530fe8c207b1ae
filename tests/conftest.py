"""Shared fixtures. Everything runs offline on small real data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

# No test may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
