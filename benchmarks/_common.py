"""Helpers shared by the benchmarks: machine facts, robust statistics, cold-process timing, results.

Kept tiny and additive: each benchmark imports what it needs.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from codeaudit.machine import cpu_model

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": _dt.date.today().isoformat(),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def time_process(
    cmd: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: dict | None = None,
    ok: Sequence[int] = (0,),
) -> float:
    """Wall seconds of one cold run of ``cmd`` (a new process); fails on an unexpected exit code."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise RuntimeError(
            f"{' '.join(map(str, cmd[:3]))} … exited {proc.returncode}: {proc.stderr.decode()[-2000:]}"
        )
    return elapsed


def write_results(area: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"{area}.json"
    target.write_text(json.dumps({"machine": machine(), **data}, indent=2) + "\n")
    return target
