"""The tests auditor through the real pipeline: findings per outcome, pass rate and pass@k."""

from __future__ import annotations

import json

import pytest

from codeaudit import audit
from codeaudit.auditors.passrate.auditor import RULES, TestsAuditor
from codeaudit.config import Config, config_from_mapping
from codeaudit.errors import ConfigError

CHECK = "def check(candidate):\n    assert candidate(2) == 4\n"
GOOD = "def double(x):\n    return x * 2\n"


def _s(id, completion, **kw):
    return {
        "id": id,
        "completion": completion,
        "tests": CHECK,
        "entry_point": "double",
        "language": "python",
        **kw,
    }


@pytest.fixture(scope="module")
def auditor():
    a = TestsAuditor(
        config_from_mapping({"tests": {"timeout": 2.0, "memory_mb": 256, "workers": 2}})
    )
    yield a
    a.close()


def test_one_finding_per_non_pass_with_the_outcome_in_evidence(auditor):
    batch = [
        _s("pass", GOOD),
        _s("fail", "def double(x):\n    return x + 1\n"),
        _s("error", "# helper first\ndef double(x):\n    return x / 0\n"),
        _s("timeout", "def double(x):\n    while True:\n        pass\n"),
        _s("oom", "def double(x):\n    return [0] * 10 ** 10\n"),
        _s(
            "killed",
            "import os, signal\ndef double(x):\n    os.kill(os.getpid(), signal.SIGABRT)\n",
        ),
        {"id": "no-tests", "completion": GOOD, "language": "python"},
    ]
    report = audit(batch, auditors=[auditor])
    by_id = {r.id: r for r in report.results}
    assert by_id["pass"].findings == () and by_id["pass"].data["tests"]["outcome"] == "passed"
    assert by_id["no-tests"].findings == () and "tests" not in by_id["no-tests"].data
    expected = {
        "fail": ("CA501", "failed"),
        "error": ("CA502", "error"),
        "timeout": ("CA503", "timeout"),
        "oom": ("CA504", "oom"),
        "killed": ("CA505", "killed"),
    }
    for sid, (rule_id, outcome) in expected.items():
        (f,) = by_id[sid].findings
        assert (f.rule_id, f.auditor, f.evidence["outcome"]) == (rule_id, "tests", outcome), sid
        assert by_id[sid].data["tests"]["outcome"] == outcome
    err = by_id["error"].findings[0]
    assert err.line == 3 and err.evidence["error_type"] == "ZeroDivisionError"
    assert "tests line 2" in err.message
    summary = report.summary()["auditors"]["tests"]
    assert summary["with_tests"] == 6 and summary["passed"] == 1
    assert summary["pass_rate"] == pytest.approx(1 / 6)
    assert summary["outcomes"] == {
        "error": 1,
        "failed": 1,
        "killed": 1,
        "oom": 1,
        "passed": 1,
        "timeout": 1,
    }
    json.dumps(report.to_dict())  # serialisable


def test_pass_at_k_over_suggestions_sharing_a_task_id(auditor):
    batch = [
        _s(f"a{i}", GOOD if i < 3 else "def double(x):\n    return x\n", task_id="A")
        for i in range(12)
    ]
    batch += [_s(f"b{i}", GOOD, task_id="B") for i in range(12)]
    summary = audit(batch, auditors=[auditor]).summary()["auditors"]["tests"]
    assert summary["tasks"] == 2
    # A: n=12, c=3; B: n=12, c=12; pass@100 needs 100 attempts per task and is left out.
    assert set(summary["pass_at_k"]) == {"pass@1", "pass@10"}
    assert summary["pass_at_k"]["pass@1"] == pytest.approx((3 / 12 + 1) / 2)
    assert summary["pass_at_k"]["pass@10"] == pytest.approx(
        (1 - 0 + 1) / 2
    )  # C(9,10)=0: A certainly passes


def test_prompt_lines_shift_to_completion_lines(auditor):
    s = {
        "id": "p",
        "prompt": "import math\n\n",
        "completion": "def double(x):\n    return math.nope(x)\n",
        "tests": CHECK,
        "entry_point": "double",
        "language": "python",
    }
    (f,) = audit([s], auditors=[auditor]).results[0].findings
    assert f.line == 2 and f.evidence["error_type"] == "AttributeError"


def test_other_languages_and_bad_entry_points_are_errors_not_findings(auditor):
    report = audit(
        [
            {
                "id": "js",
                "completion": "function f() {}",
                "tests": "assert(f())",
                "language": "javascript",
            },
            _s("bad-entry", GOOD, entry_point="double; import os"),
        ],
        auditors=[auditor],
    )
    for r in report.results:
        assert r.findings == ()
        assert [e.code for e in r.errors] in (["unsupported-language"], ["bad-entry-point"])


def test_rules_are_registered_once_with_docs():
    ids = [r.id for r in RULES]
    assert ids == ["CA501", "CA502", "CA503", "CA504", "CA505"]
    assert len({r.name for r in RULES}) == len(RULES)
    for r in RULES:
        assert r.auditor == "tests" and r.description and r.fix and r.bad_example
        assert "### How to fix" in r.markdown()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"sandbox": "docker"}, "sandbox must be one of"),
        ({"timeout": "fast"}, "timeout must be float"),
        ({"k": [0]}, "k must be a list of positive integers"),
        ({"memory_mb": 8}, "memory_mb must be at least 64"),
        ({"nope": 1}, "unknown key 'nope'"),
    ],
)
def test_options_are_checked(table, message):
    with pytest.raises(ConfigError, match=message):
        TestsAuditor(config_from_mapping({"tests": table}, source="pyproject.toml"))


def test_missing_bubblewrap_in_config_uses_the_weaker_mode(tmp_path):
    config = Config(options={"tests": {"bwrap": str(tmp_path / "none"), "workers": 1}})
    auditor = TestsAuditor(config)
    try:
        report = audit([_s("x", GOOD)], config, auditors=[auditor])
        assert report.results[0].data["tests"]["sandbox"] == "rlimit"
        assert auditor.describe()["sandbox"] == "rlimit"
    finally:
        auditor.close()


def test_the_failing_test_line_is_quoted_as_python_numbers_it(auditor):
    """A form feed inside the tests does not end a line for Python, so it does not shift the
    line the evidence quotes."""
    tests = "def check(candidate):\n    # page\x0cbreak\n    assert candidate(2) == 5\n"
    report = audit([_s("ff", GOOD, tests=tests)], auditors=[auditor])
    (finding,) = report.results[0].findings
    assert finding.evidence["tests_line"] == 3
    assert "assert candidate(2) == 5" in finding.message
