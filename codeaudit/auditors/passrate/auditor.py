"""The tests auditor: run each suggestion's unit tests in the sandbox and report what failed.

A suggestion with ``tests`` runs as ``prompt + completion + suffix`` inside the sandbox
(:mod:`codeaudit.sandbox`); the tests run in their own process and, when ``entry_point`` is
given, ``check(entry_point)`` is called as in HumanEval. Every attempt that does not pass gets one
finding (CA501–CA505, by outcome) with the outcome in its evidence; a sandbox failure is an
error, not a finding, because it says nothing about the code. Suggestions without tests are left
alone. The report summary carries the pass rate and, for suggestions that share a ``task_id``,
pass@k with the unbiased estimator.

Options (``[tool.codeaudit.tests]``)::

    timeout = 3.0          # seconds per attempt (wall clock; CPU time is capped near it too)
    memory_mb = 512        # per process (address space)
    max_procs = 16         # processes and threads of one attempt (root: exact, own uid)
    max_files = 64         # open files per process
    max_output_bytes = 1048576
    workers = 0            # 0 = two per CPU core
    sandbox = "auto"       # auto | bwrap | rlimit
    bwrap = ""             # path of bubblewrap ("" = bwrap on PATH, else /usr/bin/bwrap)
    k = [1, 10, 100]       # pass@k values reported where every task has at least k attempts

>>> from codeaudit import Suggestion
>>> auditor = TestsAuditor()                                       # doctest: +SKIP
>>> (outcome,) = auditor.audit_batch([Suggestion(id="a", completion="def inc(x):\\n    return x\\n",
...     tests="def check(f):\\n    assert f(1) == 2\\n", entry_point="inc")])   # doctest: +SKIP
>>> outcome.findings[0].rule_id, outcome.data["outcome"]            # doctest: +SKIP
('CA501', 'failed')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from codeaudit.auditors.base import Auditor, Outcome, Progress
from codeaudit.config import Config
from codeaudit.context import split_lines
from codeaudit.errors import ConfigError
from codeaudit.model import AuditResult, Suggestion
from codeaudit.registry import Rule, load_rule_data

#: The rules, their documentation and examples: data, in rules.yaml beside this module.
RULE_DATA = load_rule_data("codeaudit.auditors.passrate")
RULES: tuple[Rule, ...] = RULE_DATA.rules

_RULE_BY_OUTCOME = {
    "failed": "CA501",
    "error": "CA502",
    "timeout": "CA503",
    "oom": "CA504",
    "killed": "CA505",
}


class TestsAuditor(Auditor):
    """Runs each suggestion's tests in the sandbox (see the module documentation)."""

    __test__ = False  # not a pytest test class, whatever its name says
    name = "tests"
    options_spec = {
        "timeout": 3.0,
        "memory_mb": 512,
        "max_procs": 16,
        "max_files": 64,
        "max_output_bytes": 1 << 20,
        "workers": 0,
        "sandbox": "auto",
        "bwrap": "",
        "k": [1, 10, 100],
    }

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        from codeaudit.sandbox import MODES, Limits, SandboxConfig

        o = self.options
        where = "[tool.codeaudit.tests]" + (
            f" in {self.config.source}" if self.config.source else ""
        )
        if o["sandbox"] not in MODES:
            raise ConfigError(
                f"{where}.sandbox must be one of {', '.join(MODES)}, not {o['sandbox']!r}"
            )
        ks = o["k"]
        if not ks or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in ks):
            raise ConfigError(f"{where}.k must be a list of positive integers, not {ks!r}")
        try:
            self.sandbox_config = SandboxConfig(
                mode=o["sandbox"],
                bwrap=o["bwrap"] or None,
                workers=o["workers"],
                limits=Limits(
                    timeout_s=float(o["timeout"]),
                    memory_mb=o["memory_mb"],
                    max_procs=o["max_procs"],
                    max_files=o["max_files"],
                    max_output_bytes=o["max_output_bytes"],
                ),
            )
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        self._sandbox = None

    @classmethod
    def rules(cls) -> Sequence[Rule]:
        return RULES

    def _get_sandbox(self):
        if self._sandbox is None:
            from codeaudit.sandbox import Sandbox

            self._sandbox = Sandbox(self.sandbox_config)
        return self._sandbox

    def audit_batch(
        self, suggestions: Sequence[Suggestion], progress: Progress | None = None
    ) -> list[Outcome]:
        from codeaudit.sandbox import Job

        outcomes = [Outcome() for _ in suggestions]
        jobs: list[Job] = []
        slots: list[int] = []
        for i, s in enumerate(suggestions):
            if not s.tests:
                continue
            if s.language not in (None, "python"):
                outcomes[i].errors.append(
                    self.error(
                        "unsupported-language", f"tests run for Python only, not {s.language}"
                    )
                )
                continue
            entry = s.entry_point.strip() if s.entry_point else None
            if entry is not None and not entry.isidentifier():
                outcomes[i].errors.append(
                    self.error(
                        "bad-entry-point",
                        f"entry_point {s.entry_point!r} is not a Python identifier",
                    )
                )
                continue
            jobs.append(Job(setup=s.prompt + s.completion + s.suffix, tests=s.tests, call=entry))
            slots.append(i)
        if progress is not None and len(suggestions) > len(jobs):
            progress(len(suggestions) - len(jobs))
        if not jobs:
            return outcomes
        sandbox = self._get_sandbox()
        for i, result in zip(slots, sandbox.run_all(jobs, progress)):
            s = suggestions[i]
            data = {**result.to_dict(), "sandbox": sandbox.mode}
            outcomes[i].data.update(data)
            if result.passed:
                continue
            if result.outcome == "sandbox-error":
                outcomes[i].errors.append(
                    self.error(
                        "sandbox-error",
                        f"the sandbox failed, the code was not judged: {result.detail}",
                    )
                )
                continue
            outcomes[i].findings.append(self._finding(s, result))
        return outcomes

    def _finding(self, s: Suggestion, result: Any):
        rule = self.rule(_RULE_BY_OUTCOME[result.outcome])
        line = 1
        n_lines = max(1, len(split_lines(s.completion)))
        if result.sample_line is not None:
            prompt_lines = s.prompt.count("\n")
            local = result.sample_line - prompt_lines
            if 1 <= local <= n_lines:
                line = local
        evidence: dict[str, Any] = {"outcome": result.outcome, "detail": result.detail}
        if result.error_type:
            evidence["error_type"] = result.error_type
        if result.tests_line is not None:
            evidence["tests_line"] = result.tests_line
        return self.finding(
            s,
            rule,
            line=line,
            end_line=line if result.sample_line else n_lines,
            message=f"{rule.title}: {result.detail}",
            evidence=evidence,
            identity=f"{result.outcome}:{result.error_type}:{result.tests_line}",
        )

    def summarize(self, results: Sequence[AuditResult]) -> Mapping[str, Any] | None:
        from codeaudit.auditors.passrate.passk import mean_pass_at_k

        runs = [(r.suggestion, r.data[self.name]) for r in results if self.name in r.data]
        if not runs:
            return None
        outcomes = Counter(d["outcome"] for _, d in runs)
        judged = [(s, d) for s, d in runs if d["outcome"] != "sandbox-error"]
        passed = sum(1 for _, d in judged if d["passed"])
        groups: dict[str, list[int]] = {}
        for s, d in judged:
            n_c = groups.setdefault(s.task_id or f"id:{s.id}", [0, 0])
            n_c[0] += 1
            n_c[1] += bool(d["passed"])
        summary: dict[str, Any] = {
            "sandbox": runs[0][1].get("sandbox"),
            "with_tests": len(runs),
            "passed": passed,
            "pass_rate": passed / len(judged) if judged else None,
            "outcomes": dict(sorted(outcomes.items())),
            "tasks": len(groups),
        }
        pass_k = mean_pass_at_k([tuple(v) for v in groups.values()], self.options["k"])
        if pass_k:
            summary["pass_at_k"] = pass_k
        return summary

    def describe(self) -> Mapping[str, Any]:
        from codeaudit.sandbox import detect_mode

        info = detect_mode(self.sandbox_config)
        return {
            "sandbox": info.mode,
            "sandbox_reason": info.reason,
            "timeout_s": self.sandbox_config.limits.timeout_s,
        }

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
