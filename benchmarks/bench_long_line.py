"""A 1 MB one-line file through the CLI: wall time and peak memory, against an ordinary suggestion.

Run: ``.venv/bin/python benchmarks/bench_long_line.py [--repeats 3]``. Writes
``benchmarks/results/long_line.json``.

Each case is a cold ``codeaudit audit FILE`` process on the default corpus (the standard library,
built on first use), once with ``--auditors memorization`` and once with the default auditors.
The files are made here: one line of SVG path data (the shape that issue 16 met) and one line of
Python statements, each 990,000 characters. The anchor, in the same run, is the same command on
an ordinary 30-line suggestion (the first 30 lines of the stdlib's ``json/decoder.py``): process
start, imports and opening the corpus. Target: the 1 MB file in <= 1 s with the default auditors.
Figures are medians of the repeats.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

# _common is found beside this script (a script's folder is on the path when it runs).
from _common import median, write_results

TARGET_S = 1.0
SIZE = 990_000

#: The child prints its own peak memory (VmHWM, MB) last on standard error; getrusage's ru_maxrss
#: would carry the forking parent's peak across exec (see tests/test_memorization_long_lines.py).
_CHILD = (
    "import runpy, sys\n"
    "try:\n"
    "    runpy.run_module('codeaudit', run_name='__main__')\n"
    "finally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
    "    print(int(hwm.split()[1]) // 1024, file=sys.stderr)\n"
)


def svg_line(size: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    parts, n = [], 0
    while n < size:
        p = f"M{rng.randint(0, 999)}.{rng.randint(0, 99)} {rng.randint(0, 999)}L{rng.randint(0, 99)}Z"
        parts.append(p)
        n += len(p) + 1
    return '<svg xmlns="http://www.w3.org/2000/svg"><path d="' + " ".join(parts) + '"/></svg>'


def python_line(size: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    parts, n = [], 0
    while n < size:
        p = f"v{rng.randint(0, 99999)} = f(a, {rng.randint(0, 999)}); "
        parts.append(p)
        n += len(p)
    return "".join(parts)


def run(path: Path, auditors: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident MB of one cold audit."""
    cmd = [sys.executable, "-c", _CHILD, "audit", str(path), "--format", "json", *auditors]
    cmd += ["-o", str(path.with_suffix(".report.json"))]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{path.name}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    return took, int(proc.stderr.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-long-"))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = {
        "anchor-30-lines.py": "\n".join(
            (stdlib / "json" / "decoder.py").read_text().splitlines()[:30]
        )
        + "\n",
        "one-line.svg": svg_line(SIZE),
        "one-line.py": python_line(SIZE),
    }
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
    run(work / "anchor-30-lines.py", ["--auditors", "memorization"])  # builds the corpus if needed
    modes = {"memorization": ["--auditors", "memorization"], "default": []}
    out: dict = {"target_s": TARGET_S, "size_chars": SIZE, "repeats": args.repeats, "cases": {}}
    print(f"{'file':20s}{'auditors':>14s}{'median s':>10s}{'peak MB':>9s}{'x anchor':>10s}")
    for mode, flags in modes.items():
        anchor = None
        for name in files:
            runs = [run(work / name, flags) for _ in range(args.repeats)]
            s = median([r[0] for r in runs])
            mb = max(r[1] for r in runs)
            anchor = s if anchor is None else anchor
            row = {"median_s": round(s, 3), "peak_mb": mb, "ratio_to_anchor": round(s / anchor, 2)}
            out["cases"][f"{name}/{mode}"] = row
            print(f"{name:20s}{mode:>14s}{s:10.2f}{mb:9d}{s / anchor:10.2f}")
    met = {
        k: v["median_s"] <= TARGET_S
        for k, v in out["cases"].items()
        if k.endswith("/default") and "one-line" in k
    }
    out["targets_met"] = met
    print("target <= 1 s with the default auditors:", json.dumps(met))
    if not args.no_write:
        print("wrote", write_results("long_line", out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
