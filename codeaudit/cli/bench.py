"""``codeaudit bench generate --model M``: the generation latency table, one row per engine."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import UsageError
from ._common import output_stream

HELP = "measure generation latency per engine (load time, first token, ms per token, memory)"
DESCRIPTION = """\
codeaudit bench generate --model M [--engines torch,onnx-int8,onnx-int4,ctranslate2-int8,...]
                         [--batch 1,4,16] [--format table|json]

Runs every engine on the same model and prompt (random token ids; speed does not depend on
the text), each in a fresh process, and prints one row per engine: load time (model already
exported and cached), first-token latency, ms per new token, tokens/s, peak memory (RSS) and
file size, with the CPU model and the memory bandwidth measured in the same run. The bound
column is the weight bytes read per token divided by that bandwidth: no engine can decode
faster. ONNX exports and CTranslate2 conversions run once before the measurement (timed:
export_s) and are cached. --batch 1,4,16 adds tokens/s with that many different prompts
decoded together (decode_rows; ended rows leave the batch).

--format json prints {"cpu", "bandwidth_gbs", "rows": [{"engine", "ms_per_token",
"first_token_ms", "tokens_per_s", "tokens_per_s_by_batch", "peak_rss_mb", "model_mb",
"load_s", ...}], ...}.

requires the generate extra: pip install 'codeaudit[generate]'"""

DEFAULT_ENGINES = "torch,torch-int8,onnx,onnx-int8"


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    g = sub.add_parser(
        "generate",
        help="latency of the generation engines",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("--model", required=True, metavar="M", help="model folder, hub id, or 'tiny'")
    g.add_argument(
        "--engines",
        default=DEFAULT_ENGINES,
        metavar="LIST",
        help=f"comma-separated engines, an ONNX one optionally with its graph: onnx-int8:optimum (default {DEFAULT_ENGINES})",
    )
    g.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format (default table)"
    )
    g.add_argument(
        "--prompt-tokens",
        type=int,
        default=128,
        metavar="N",
        help="prompt length in tokens (default 128)",
    )
    g.add_argument(
        "--new-tokens", type=int, default=64, metavar="N", help="tokens to generate (default 64)"
    )
    g.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="K",
        help="threads per engine, and for the bandwidth measurement (default 1: decoding is bound by "
        "memory bandwidth, and one thread is the steadiest on a shared machine)",
    )
    g.add_argument(
        "--repeats",
        type=int,
        default=3,
        metavar="R",
        help="measured runs per engine; medians are reported (default 3)",
    )
    g.add_argument(
        "--graph",
        choices=("auto", "optimum", "codegen"),
        default="auto",
        help="ONNX graph (default auto)",
    )
    g.add_argument(
        "--batch",
        default="1",
        metavar="LIST",
        help="batch sizes (comma-separated, e.g. 1,4,16) at which to report tokens/s: that many "
        "different prompts decoded together with decode_rows (default 1)",
    )
    g.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")


def run(args: argparse.Namespace) -> int:
    from ..generators.base import engine_names, require_extra
    from ..generators.bench import render_table, run_bench

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [
        e
        for e in engines
        if e.partition(":")[0] not in engine_names()
        or e.partition(":")[2] not in ("", "auto", "optimum", "codegen")
    ]
    if not engines or unknown:
        raise UsageError(
            f"--engines: unknown engine '{unknown[0] if unknown else ''}' (one of: {', '.join(engine_names())})"
        )
    for name, value, least in (
        ("--prompt-tokens", args.prompt_tokens, 1),
        ("--new-tokens", args.new_tokens, 2),
        ("--threads", args.threads, 1),
        ("--repeats", args.repeats, 1),
    ):
        if value < least:
            raise UsageError(f"{name} must be at least {least}, not {value}")
    try:
        batches = sorted({int(b) for b in args.batch.split(",") if b.strip()})
    except ValueError:
        raise UsageError(
            f"--batch: expected comma-separated integers, not {args.batch!r}"
        ) from None
    if not batches or batches[0] < 1:
        raise UsageError(f"--batch: batch sizes must be at least 1, not {args.batch!r}")
    for engine in engines:
        require_extra(engine.partition(":")[0])
    # Fail on a bad model here, in one line, rather than in every child process.
    from ..generators.base import EngineOptions
    from ..generators.batch import resolve

    status = (
        (lambda message: print(f"codeaudit: {message}", file=sys.stderr))
        if sys.stderr.isatty()
        else None
    )
    source = resolve(args.model, EngineOptions(status=status))
    if args.prompt_tokens + args.new_tokens > source.context_length:
        raise UsageError(
            f"--prompt-tokens + --new-tokens = {args.prompt_tokens + args.new_tokens} exceeds the model's "
            f"context window of {source.context_length} tokens"
        )
    try:
        result = run_bench(
            str(source.path),
            engines,
            prompt_tokens=args.prompt_tokens,
            new_tokens=args.new_tokens,
            threads=args.threads,
            repeats=args.repeats,
            graph=args.graph,
            status=status,
            batches=batches,
        )
    except RuntimeError as exc:
        from ..generators.base import ModelError

        raise ModelError(str(exc)) from None
    result["model"] = args.model
    with output_stream(args.output) as stream:
        if args.format == "json":
            stream.write(json.dumps(result, indent=2) + "\n")
        else:
            render_table(result, stream)
    return 0
