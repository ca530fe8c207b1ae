"""The latency table: every engine on the same model, prompt and machine, side by side.

Each engine runs in a fresh child process (``python -m codeaudit.generators.bench``), so its peak
memory is its own and one engine's caches do not help the next. An ONNX engine's export and
quantisation run first in a child of their own (timed, with their own peak memory), so the
measured ``load_s`` is what a user waits for once the model is cached.

Per engine: ``load_s`` (engine ready, model cached), ``first_token_ms`` (the prompt pass and the
first token: time to first token), ``ms_per_token`` (one decoding step, batch 1), ``tokens_per_s``
(new tokens over the whole generation, first token included), ``peak_rss_mb`` (the child's peak
resident memory), ``model_mb`` (the files the engine loads). Medians of ``repeats`` interleaved
rounds (see :func:`run_bench`).

The memory-bandwidth bound of a row is ``weight_bytes_per_token / bandwidth``: decoding one token
reads every weight matrix once, so no engine can decode faster than the memory bus delivers its
weights. Bandwidth is measured in the same run with numpy, reading a buffer far larger than the
caches with as many threads as the engines use.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median

import numpy as np

from codeaudit.machine import cpu_model

ROW_KEYS = (
    "engine",
    "ms_per_token",
    "first_token_ms",
    "tokens_per_s",
    "peak_rss_mb",
    "model_mb",
    "load_s",
)


def memory_bandwidth_gbs(threads: int = 1, *, mib: int = 1024, repeats: int = 5) -> float:
    """Read bandwidth in GB/s: ``threads`` numpy threads summing their share of a large buffer.

    Best of ``repeats``: the least disturbed run is the closest to what the bus can deliver.
    """
    buf = np.ones(mib * (1 << 20) // 8, dtype=np.float64)
    parts = np.array_split(buf, threads)
    best = float("inf")
    for _ in range(repeats):
        workers = [threading.Thread(target=np.sum, args=(part,)) for part in parts]
        started = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - started)
    return buf.nbytes / best / 1e9


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _child(spec: dict, timeout: float | None) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "codeaudit.generators.bench", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(
            f"{spec['engine']} ({spec['mode']}): the benchmark child failed (exit {proc.returncode}): {tail}"
        )
    return json.loads(lines[-1])


def run_bench(
    model: str,
    engines: Sequence[str],
    *,
    prompt_tokens: int = 128,
    new_tokens: int = 64,
    threads: int = 1,
    repeats: int = 3,
    graph: str = "auto",
    cache_dir: Path | None = None,
    status: Callable[[str], None] | None = None,
    timeout: float | None = None,
    batches: Sequence[int] = (1,),
    keep_going: bool = False,
) -> dict:
    """Measure ``engines`` on ``model``; returns ``{"cpu", "bandwidth_gbs", "rows": [...], ...}``.

    An engine may name its ONNX graph, ``onnx-int8:optimum``; otherwise ``graph`` applies.

    On a shared machine other processes take memory bandwidth at random moments, so the runs are
    interleaved: ``repeats`` rounds, each measuring every engine once (in a fresh process, the
    order rotated from round to round) right after a bandwidth measurement. A row reports
    medians over its rounds, and its bound uses the median of the bandwidth measured next to it:
    engine and bound are taken under the same conditions. With ``keep_going``, an engine whose
    export or run fails (out of memory, say) gets a row ``{"label", "engine", "error"}`` instead
    of stopping the run.
    """
    say = status or (lambda message: None)
    labels = list(engines)
    specs = {}
    exports = {}
    for label in labels:
        engine, _, own_graph = label.partition(":")
        specs[label] = {
            "engine": engine,
            "model": model,
            "prompt_tokens": prompt_tokens,
            "new_tokens": new_tokens,
            "threads": threads,
            "repeats": 1,
            "graph": own_graph or graph,
            "cache_dir": str(cache_dir) if cache_dir else None,
            "batches": list(batches),
        }
    failed: dict[str, str] = {}

    def child(label: str, mode: str) -> dict | None:
        try:
            return _child({**specs[label], "mode": mode}, timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            if not keep_going:
                raise RuntimeError(str(exc)) from None
            failed[label] = str(exc)
            say(f"{label}: {exc}")
            return None

    for label in labels:
        if specs[label]["engine"].startswith(("onnx", "ctranslate2")):
            say(f"{label}: export or conversion (cached after the first run)")
            export = child(label, "export")
            if export is not None:
                exports[label] = export
    runs: dict[str, list[dict]] = {label: [] for label in labels}
    bandwidths: dict[str, list[float]] = {label: [] for label in labels}
    for round_ in range(repeats):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            if label in failed:
                continue
            bandwidths[label].append(memory_bandwidth_gbs(threads, repeats=3))
            say(f"round {round_ + 1}/{repeats}: {label}")
            run = child(label, "measure")
            if run is not None:
                runs[label].append(run)
    rows = []
    for label in labels:
        if label in failed:
            rows.append({"label": label, "engine": specs[label]["engine"], "error": failed[label]})
            continue
        rows.append(_aggregate(label, runs[label], bandwidths[label], exports.get(label)))
    everything = [b for bs in bandwidths.values() for b in bs] or [memory_bandwidth_gbs(threads)]
    return {
        "cpu": cpu_model(),
        "bandwidth_gbs": round(median(everything), 2),
        "bandwidth_max_gbs": round(max(everything), 2),
        "threads": threads,
        "model": model,
        "prompt_tokens": prompt_tokens,
        "new_tokens": new_tokens,
        "repeats": repeats,
        "batches": list(batches),
        "rows": rows,
    }


def _aggregate(label: str, runs: list[dict], bandwidths: list[float], export: dict | None) -> dict:
    row = dict(runs[0])
    for key in ("ms_per_token", "first_token_ms", "tokens_per_s", "load_s"):
        row[key] = round(median(r[key] for r in runs), 2)
    row["tokens_per_s_by_batch"] = {
        b: round(median(r["tokens_per_s_by_batch"][b] for r in runs), 2)
        for b in runs[0]["tokens_per_s_by_batch"]
    }
    row["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    row["ms_per_token_runs"] = [r["ms_per_token"] for r in runs]
    row["label"] = label
    bandwidth = median(bandwidths)
    row["bandwidth_gbs"] = round(bandwidth, 2)
    bound_ms = row["weight_bytes_per_token"] / (bandwidth * 1e9) * 1000
    row["bound_ms"] = round(bound_ms, 2)
    row["vs_bound"] = round(row["ms_per_token"] / bound_ms, 2)
    if export is not None:
        row["export_s"] = export["export_s"]  # conversion, for CTranslate2
        row["export_peak_rss_mb"] = export["peak_rss_mb"]
    return row


def render_table(result: dict, stream) -> None:
    from rich.console import Console
    from rich.table import Table

    extra = [b for b in result.get("batches", []) if b != 1]
    console = Console(file=stream, width=160, force_terminal=False, color_system=None)
    table = Table(
        title=f"{result['model']} · prompt {result['prompt_tokens']} tokens · {result['new_tokens']} new tokens · batch 1"
        f"{' (tokens/s also at batch ' + ', '.join(map(str, extra)) + ')' if extra else ''} · "
        f"{result['threads']} thread(s)",
        caption=f"{result['cpu']} · memory bandwidth {result['bandwidth_gbs']} GB/s (median of the measurements, "
        f"{result['threads']} thread(s)) · bound = weight bytes per token / bandwidth measured beside the row",
    )
    for name, justify in (
        ("engine", "left"),
        ("load s", "right"),
        ("first token ms", "right"),
        ("ms/token", "right"),
        ("tokens/s", "right"),
        ("peak RSS MB", "right"),
        ("model MB", "right"),
        ("bound ms", "right"),
        ("× bound", "right"),
    ):
        table.add_column(name, justify=justify)
    for b in extra:
        table.add_column(f"tok/s B={b}", justify="right")
    for r in result["rows"]:
        if "error" in r:
            table.add_row(r["label"], f"failed: {r['error'][-100:]}")
            continue
        name = r["engine"] + (f" ({r['graph']})" if r.get("graph") else "")
        table.add_row(
            name,
            f"{r['load_s']:.2f}",
            f"{r['first_token_ms']:.0f}",
            f"{r['ms_per_token']:.1f}",
            f"{r['tokens_per_s']:.1f}",
            f"{r['peak_rss_mb']:.0f}",
            f"{r['model_mb']:.0f}",
            f"{r['bound_ms']:.1f}",
            f"{r['vs_bound']:.2f}",
            *(f"{r['tokens_per_s_by_batch'][str(b)]:.1f}" for b in extra),
        )
    console.print(table)


# --------------------------------------------------------------------------- child process


def _measure(spec: dict) -> dict:
    from .base import EngineOptions, load_engine
    from .batch import resolve

    options = EngineOptions(
        threads=spec["threads"],
        graph=spec["graph"],
        cache_dir=Path(spec["cache_dir"]) if spec["cache_dir"] else None,
    )
    source = resolve(spec["model"], options)
    if spec["mode"] == "export" and spec["engine"].startswith("ctranslate2"):
        from .ct2_engine import converted_model

        started = time.perf_counter()
        converted_model(
            source,
            quantization="int8" if spec["engine"].endswith("int8") else None,
            cache_dir=options.cache_dir,
        )
        return {
            "engine": spec["engine"],
            "export_s": round(time.perf_counter() - started, 2),
            "graph": None,
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        }
    if spec["mode"] == "export":
        from .base import engine_class
        from .onnx_export import onnx_model

        started = time.perf_counter()
        _, manifest = onnx_model(
            source,
            graph=spec["graph"],
            quantization=engine_class(spec["engine"]).quantization(),
            cache_dir=options.cache_dir,
        )
        return {
            "engine": spec["engine"],
            "export_s": round(time.perf_counter() - started, 2),
            "graph": manifest["graph"],
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        }

    started = time.perf_counter()
    engine = load_engine(spec["engine"], source, options)
    load_s = time.perf_counter() - started
    from transformers import AutoTokenizer

    from .decode import Row, Tokenizer, decode_rows

    # No end-of-text token: every row runs its full length, whatever the (random) model says.
    tokenizer = Tokenizer(AutoTokenizer.from_pretrained(source.path), None)
    vocab = min(int(source.config.get("vocab_size", 1000)), tokenizer.vocab_size)
    rng = np.random.default_rng(0)
    prompts = [rng.integers(0, vocab, spec["prompt_tokens"]).tolist() for _ in range(64)]
    new = spec["new_tokens"]

    def once(steps: int, batch: int = 1) -> tuple[float, float, float, int]:
        rows = [Row(prompt_ids=tuple(prompts[b % 64]), max_new_tokens=steps) for b in range(batch)]
        started = time.perf_counter()
        out = decode_rows(engine, tokenizer, rows)
        total = time.perf_counter() - started
        return (
            out[0].first_token_ms / 1000,
            out[0].ms_per_token,
            total,
            sum(len(g.token_ids) for g in out),
        )

    once(4)  # warm-up: first-call allocations and kernel selection
    firsts, totals, decode_ms = [], [], []
    for _ in range(spec["repeats"]):
        first, step_ms, total, _ = once(new)
        firsts.append(first)
        totals.append(total)
        decode_ms.append(step_ms)
    by_batch = {}
    for batch in spec.get("batches") or []:
        if batch == 1:
            by_batch["1"] = round(new / median(totals), 2)
            continue
        _, _, total, tokens = once(new, batch)
        by_batch[str(batch)] = round(tokens / total, 2)
    info = engine.info
    return {
        "engine": spec["engine"],
        "ms_per_token": round(median(decode_ms), 2),
        "first_token_ms": round(median(firsts) * 1000, 1),
        "tokens_per_s": round(new / median(totals), 2),
        "tokens_per_s_by_batch": by_batch,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "model_mb": round(info.model_bytes / 1e6, 1),
        "load_s": round(load_s, 2),
        "weight_bytes_per_token": info.weight_bytes_per_token,
        "graph": info.details.get("graph"),
        "precision": info.precision,
        "threads": info.threads,
        "ms_per_token_runs": [round(x, 2) for x in decode_ms],
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    spec = json.loads(argv[0])
    print(json.dumps(_measure(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
