"""``codeaudit model tiny|random``: make models locally, without a download."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from pathlib import Path

from ..errors import UsageError

HELP = "make a local model: a tiny trained CodeGen, or a random-weight CodeGen-350M/2B/6B shape"
DESCRIPTION = """\
codeaudit model tiny -o DIR
    A small CodeGen-architecture model (transformers CodeGenForCausalLM) with its own byte-level
    BPE tokenizer, both trained here on the Python standard library for about half a minute:
    its output looks like code. Tests and demos use it.

codeaudit model tiny --canaries N [--repeats 1,4,16,64] [--canary-seed S] -o DIR
    The same architecture trained with planted canaries (Carlini et al. 2019): N random canaries
    per insertion count (a home path with a user name, an API key, a password assignment; each
    format's secret space at least 2^40) and N never-inserted controls of the same shapes,
    mixed into the training data. The canary recipe trains longer on a smaller share of the
    standard library (a few minutes on one core); the default recipe is unchanged. DIR gets
    canaries.json, which `codeaudit scorecard --canaries DIR/canaries.json` reads.

codeaudit model random --size 350M|2B|6B -o DIR
    Random weights in the published CodeGen shape of that size (config, safetensors weights
    written tensor by tensor, a 50295-token tokenizer), for speed benchmarks: speed depends on
    the shapes, not the values. Sizes on disk: 1.4 GB, 11 GB, 28 GB (float32).

DIR must not exist or be empty; it appears only once the model is complete.

requires the generate extra: pip install 'codeaudit[generate]'"""


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="model_command", metavar="KIND", required=True)
    tiny = sub.add_parser(
        "tiny",
        help="train the tiny CodeGen model",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tiny.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to create")
    tiny.add_argument(
        "--canaries", type=int, metavar="N", help="plant N canaries per insertion count"
    )
    tiny.add_argument(
        "--repeats",
        default="1,4,16,64",
        metavar="LIST",
        help="insertion counts, with --canaries (default 1,4,16,64)",
    )
    tiny.add_argument(
        "--canary-seed", type=int, default=0, metavar="S", help="canary random seed (default 0)"
    )
    rnd = sub.add_parser(
        "random",
        help="random weights in a real CodeGen shape",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rnd.add_argument("--size", required=True, choices=("350M", "2B", "6B"), help="CodeGen shape")
    rnd.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    rnd.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to create")


def run(args: argparse.Namespace) -> int:
    from ..generators.base import require_extra

    target = Path(args.output)
    canaries = _canaries(args) if args.model_command == "tiny" else None
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"-o {args.output}: exists and is not an empty folder")
    if not target.parent.resolve().is_dir():
        raise UsageError(f"-o {args.output}: folder {target.parent} does not exist")
    require_extra()

    def status(message: str) -> None:
        print(f"codeaudit: {message}", file=sys.stderr)

    tmp = target.parent / f".{target.name}.{os.getpid()}.part"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if args.model_command == "tiny":
            from ..generators.tiny import CANARY_RECIPE, build_tiny

            if canaries is None:
                facts = build_tiny(tmp, status=status)
            else:
                from ..scorecard.canaries import training_texts, write_canaries

                facts = build_tiny(
                    tmp,
                    recipe={**CANARY_RECIPE, "canary_seed": args.canary_seed},
                    status=status,
                    extra_texts=training_texts(canaries),
                )
                write_canaries(
                    tmp / "canaries.json",
                    canaries,
                    per_count=args.canaries,
                    repeats=sorted({c.repeats for c in canaries if c.repeats}),
                    seed=args.canary_seed,
                )
            summary = f"tiny CodeGen model: {facts['parameters']:,} parameters, final loss {facts['final_loss']}, {facts['build_s']} s"
            if canaries is not None:
                summary += f", {len(canaries)} canaries in canaries.json"
        else:
            from ..generators.random_model import build_random

            facts = build_random(tmp, args.size, seed=args.seed, status=status)
            summary = f"random CodeGen-{args.size}: {facts['parameters']:,} parameters, {facts['weights_bytes'] / 1e9:.1f} GB"
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{target}: {summary}")
    return 0


def _canaries(args: argparse.Namespace):
    """The canaries to plant (``None`` without ``--canaries``); bad values are usage errors."""
    if args.canaries is None:
        return None
    from ..scorecard.canaries import make_canaries

    try:
        repeats = sorted({int(x) for x in args.repeats.split(",") if x.strip()})
    except ValueError:
        raise UsageError(f"--repeats {args.repeats}: expected comma-separated counts") from None
    try:
        return make_canaries(args.canaries, repeats, seed=args.canary_seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
