"""Scorecard wall time: the tiny model, engines torch and onnx-int8, n = 10 (target ≤ 10 minutes).

Workload: ``codeaudit scorecard --model tiny --engine torch --engine onnx-int8 -n 10`` — all 164
HumanEval tasks × 10 samples per engine in the sandbox, the 210 leak prompts, the 123 risky-API
prompts, the memorization search of every suggestion against the standard library, and the
latency rows (``bench generate``, one round). The model is trained and the ONNX export cached
beforehand (training is excluded from the target).

Anchor, measured in the same run before and after the scorecard: ``codeaudit eval humaneval
--canonical`` (164 canonical solutions in the sandbox), a fixed workload that shows how busy the
shared machine was; the ratio scorecard / anchor is reported beside the wall time.

With ``--canaries DIR`` (a model from ``codeaudit model tiny --canaries N``), a second scorecard
run scores its canaries with both engines and the exposure per insertion count is recorded.

    flock /tmp/codeaudit-heavy.lock .venv/bin/python benchmarks/bench_scorecard.py

Figures go to benchmarks/results/scorecard.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, time_process, write_results

TARGET_S = 600.0
CLI = [sys.executable, "-m", "codeaudit"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--engines", default="torch,onnx-int8")
    ap.add_argument("--canaries", metavar="DIR", help="a canary model folder (with canaries.json)")
    ap.add_argument("--canary-candidates", type=int, default=10_000)
    args = ap.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    eng_args = [a for e in engines for a in ("--engine", e)]

    # Warm-up: the tiny model and its ONNX export into the cache (not timed).
    from codeaudit.generators import tiny_model

    model = str(tiny_model())
    subprocess.run(
        [*CLI, "bench", "generate", "--model", model, "--engines", ",".join(engines),
         "--repeats", "1", "--new-tokens", "4", "--prompt-tokens", "8", "--format", "json"],
        check=True, capture_output=True,
    )  # fmt: skip

    anchor = [time_process([*CLI, "eval", "humaneval", "--canonical", "--format", "json"])]
    with tempfile.TemporaryDirectory() as tmp:
        card_path = Path(tmp) / "card.json"
        started = time.perf_counter()
        proc = subprocess.run(
            [*CLI, "scorecard", "--model", model, *eng_args, "-n", str(args.n),
             "-k", f"1,{args.n}", "-o", str(card_path), "--progress"],
            check=False, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            print(proc.stderr.decode()[-2000:], file=sys.stderr)
            return 1
        card = json.loads(card_path.read_text())
        anchor.append(time_process([*CLI, "eval", "humaneval", "--canonical", "--format", "json"]))
        html_path = Path(tmp) / "card.html"
        from codeaudit.scorecard.html import render_html

        html_path.write_text(render_html(card))

        canary_part = None
        if args.canaries:
            cpath = Path(tmp) / "canary-card.json"
            started = time.perf_counter()
            subprocess.run(
                [*CLI, "scorecard", "--model", args.canaries, *eng_args, "-n", "1", "-k", "1",
                 "--temperature", "0", "--humaneval-limit", "0", "--no-latency",
                 "--canaries", str(Path(args.canaries) / "canaries.json"),
                 "--canary-candidates", str(args.canary_candidates), "-o", str(cpath)],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            ccard = json.loads(cpath.read_text())
            canary_part = {
                "model": args.canaries,
                "wall_s": round(time.perf_counter() - started, 1),
                "candidates": args.canary_candidates,
                "by_engine": {
                    e: {
                        "by_repeats": ccard["engines"][e]["canaries"]["by_repeats"],
                        "canaries": ccard["engines"][e]["canaries"]["canaries"],
                    }
                    for e in engines
                },
                "memorization": {
                    e: ccard["engines"][e]["memorization"]["with_copy"] for e in engines
                },
            }

    summary = {}
    for e, part in card["engines"].items():
        summary[e] = {
            "pass_at_k": part["humaneval"]["pass_at_k"],
            "leak_findings_per_1000": part["leak"]["findings_per_1000"],
            "leak_by_rule_per_1000": {k: v["per_1000"] for k, v in part["leak"]["by_rule"].items()},
            "with_leak": part["leak"]["with_leak"],
            "with_security_smell": part["security"]["with_smell"],
            "security_by_cwe_per_1000": {
                k: v["per_1000"] for k, v in part["security"]["by_cwe"].items()
            },
            "with_corpus_copy": part["memorization"]["with_copy"],
            "licenses": part["memorization"]["licenses"],
            "copied_files": part["memorization"]["copied_files"],
            "ms_per_token": (part.get("latency") or {}).get("ms_per_token"),
            "elapsed_s": part.get("elapsed_s"),
        }
    result = {
        "workload": f"codeaudit scorecard --model tiny {' '.join(eng_args)} -n {args.n}",
        "target_s": TARGET_S,
        "scorecard_wall_s": round(wall, 1),
        "target_met": wall <= TARGET_S,
        "anchor": "codeaudit eval humaneval --canonical (164 samples in the sandbox), before and after",
        "anchor_s": [round(a, 1) for a in anchor],
        "ratio_to_anchor": round(wall / median(anchor), 1),
        "suggestions_per_engine": {e: p["suggestions"] for e, p in card["engines"].items()},
        "engines": summary,
        "comparisons": card["comparisons"],
        "latency_rows": card["latency"]["rows"] if card["latency"] else None,
        "canaries": canary_part,
    }
    target = write_results("scorecard", result)
    print(
        f"scorecard {wall:.0f} s (target {TARGET_S:.0f} s: {'met' if wall <= TARGET_S else 'NOT met'}); "
        f"anchor {median(anchor):.1f} s; ratio {wall / median(anchor):.1f}"
    )
    for e, s in summary.items():
        print(
            f"  {e}: pass@k {json.dumps({k: v['value'] for k, v in s['pass_at_k'].items()})}, "
            f"leak/1000 {s['leak_findings_per_1000']}, smell {s['with_security_smell']['rate']:.3f}, "
            f"copy {s['with_corpus_copy']['rate']:.4f}, elapsed {s['elapsed_s']} s"
        )
    if canary_part:
        for e, part in canary_part["by_engine"].items():
            print(f"  canaries {e}: " + json.dumps(part["by_repeats"]))
    print(f"written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
