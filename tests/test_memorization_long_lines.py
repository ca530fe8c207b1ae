"""A 1 MB one-line file is audited in time and memory, and a copy inside a huge file is found.

The one-line files are built here (SVG path data, a long line of Python); the corpus is the
standard library's ``json`` package, indexed at run time. Each audit runs in a child process with
a time limit of three times the target (1 s), as the suite's other pathological-input tests do,
and a bound on the child's peak memory.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from codeaudit import Config, audit
from codeaudit.corpus.build import build_index
from codeaudit.corpus.sources import FolderSource

STDLIB = Path(sysconfig.get_paths()["stdlib"])
DECODER = (STDLIB / "json" / "decoder.py").read_text().splitlines()
TARGET_S = 1.0
#: Peak memory of the child auditing 1 MB (it was 840 MB before the matcher was bounded).
MAX_RSS_MB = 400

#: Runs the CLI and prints the process's peak memory (MB) as the last line of standard error:
#: VmHWM, the peak of this process's own memory map. (getrusage's ru_maxrss would not do: Linux
#: carries the forked parent's peak across exec, so under a large pytest process it reads the
#: suite's size.)
_CHILD = (
    "import runpy, sys\n"
    "try:\n"
    "    runpy.run_module('codeaudit', run_name='__main__')\n"
    "finally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
    "    print(int(hwm.split()[1]) // 1024, file=sys.stderr)\n"
)


def _audit_child(*args: str) -> tuple[subprocess.CompletedProcess, float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, "audit", *args],
        capture_output=True,
        text=True,
        timeout=3 * TARGET_S + 60,
    )
    took = time.perf_counter() - t0
    return proc, took, int(proc.stderr.strip().splitlines()[-1])


def svg_line(size: int, seed: int = 0) -> str:
    """One line of SVG with ``size`` characters of path data, made up here."""
    rng = random.Random(seed)
    parts, n = [], 0
    while n < size:
        p = f"M{rng.randint(0, 999)}.{rng.randint(0, 99)} {rng.randint(0, 999)}L{rng.randint(0, 99)}Z"
        parts.append(p)
        n += len(p) + 1
    return '<svg xmlns="http://www.w3.org/2000/svg"><path d="' + " ".join(parts) + '"/></svg>'


def python_line(size: int, seed: int = 0) -> str:
    """One line of Python statements, ``size`` characters long."""
    rng = random.Random(seed)
    parts, n = [], 0
    while n < size:
        p = f"v{rng.randint(0, 99999)} = f(a, {rng.randint(0, 999)}); "
        parts.append(p)
        n += len(p)
    return "".join(parts)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("long") / "json.idx"
    build_index([FolderSource(str(STDLIB / "json"), repo="cpython/json", license="PSF-2.0")], out)
    return out


@pytest.mark.parametrize("name,make", [("image.svg", svg_line), ("gen.py", python_line)])
def test_a_one_megabyte_line_is_audited_by_memorization_in_time(corpus, tmp_path, name, make):
    path = tmp_path / name
    path.write_text(make(990_000), encoding="utf-8")
    out = tmp_path / "report.json"
    proc, took, rss = _audit_child(
        str(path), "-o", str(out), "--format", "json", "--auditors", "memorization",
        "--corpus", str(corpus),
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    (result,) = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert not result["errors"]
    assert took <= 3 * TARGET_S, f"{name}: {took:.2f} s"
    assert rss <= MAX_RSS_MB, f"{name}: {rss} MB"


def test_a_one_megabyte_svg_line_is_audited_by_the_default_auditors_in_time(corpus, tmp_path):
    path = tmp_path / "logo.svg"
    path.write_text(svg_line(990_000), encoding="utf-8")
    out = tmp_path / "report.json"
    proc, took, _ = _audit_child(
        str(path), "-o", str(out), "--format", "json", "--corpus", str(corpus)
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert len(json.loads(out.read_text(encoding="utf-8"))["results"]) == 1
    assert took <= 3 * TARGET_S, f"{took:.2f} s"


def test_a_copy_inside_a_huge_file_is_still_found(corpus):
    copy = "\n".join(DECODER[40:76])
    completion = python_line(500_000, seed=1) + "\n" + copy + "\n" + python_line(400_000, seed=2)
    config = Config(options={"memorization": {"corpora": [str(corpus)]}})
    report = audit(
        [{"id": "s", "completion": completion, "language": "python"}],
        config,
        auditors=["memorization"],
    )
    (f,) = [f for _, f in report.findings()]
    assert f.evidence["source"]["path"].endswith("decoder.py")
    assert 2 <= f.line <= 4 and f.end_line >= 30  # the copy, on its lines
