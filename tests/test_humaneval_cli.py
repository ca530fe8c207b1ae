"""``codeaudit eval humaneval`` and the HumanEval reader: real problems, real sandbox, bad input."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeaudit.auditors.passrate import humaneval
from codeaudit.errors import InputError


@pytest.fixture(scope="module")
def problems():
    return humaneval.load_problems()


def test_the_164_problems_come_from_the_installed_package(problems):
    assert len(problems) == 164
    assert humaneval.problems_path().name == "HumanEval.jsonl.gz"
    p = problems["HumanEval/163"]
    assert p.entry_point and "def check" in p.test and p.canonical_solution.strip()


@pytest.mark.slow
def test_canonical_self_check_passes_164_of_164(run_cli, tmp_path):
    out = run_cli(
        "eval",
        "humaneval",
        "--canonical",
        "--format",
        "json",
        "--results",
        str(tmp_path / "r.jsonl"),
    )
    assert out.returncode == 0, out.stderr.decode()
    summary = json.loads(out.stdout)
    assert summary["pass_at_k"] == {"pass@1": 1.0}
    assert (summary["tasks"], summary["samples"], summary["outcomes"]) == (
        164,
        164,
        {"passed": 164},
    )
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(records) == 164 and all(r["passed"] for r in records)
    assert set(records[0]) == {"task_id", "completion_id", "passed", "outcome", "duration_s"}


def test_bad_lines_are_named_and_the_batch_goes_on(run_cli, tmp_path, problems):
    good = problems["HumanEval/0"].canonical_solution
    lines = [
        json.dumps({"task_id": "HumanEval/0", "completion": good}).encode(),
        b'{"task_id": "HumanEval/0", "completion": "    return (\\n"}',  # syntax error
        b'{"task_id": "HumanEval/0", "completion": "caf\xe9"}',  # not UTF-8
        b"{not json",
        json.dumps({"completion": good}).encode(),  # no task_id
        json.dumps({"task_id": "HumanEval/999", "completion": good}).encode(),
        json.dumps({"task_id": "HumanEval/0"}).encode(),  # no completion
        json.dumps(
            {"task_id": "HumanEval/0", "completion": "    x = 1\n" * 1_100_000}
        ).encode(),  # 10 MB
        json.dumps({"task_id": "HumanEval/1", "completion": "    return []\n"}).encode(),
        b"",
    ]
    path = tmp_path / "samples.jsonl"
    path.write_bytes(b"\n".join(lines))
    out = run_cli(
        "eval", "humaneval", str(path), "--format", "json", "--results", str(tmp_path / "r.jsonl")
    )
    assert out.returncode == 0, out.stderr.decode()
    err = out.stderr.decode()
    for line, words in (
        (3, "not UTF-8"),
        (4, "not JSON"),
        (5, "'task_id' missing"),
        (6, "unknown task 'HumanEval/999'"),
        (7, "'completion' missing"),
    ):
        assert f"samples.jsonl:{line}: " in err and words in err, (line, err)
    summary = json.loads(out.stdout)
    assert summary["samples"] == 4 and summary["skipped_lines"] == 5
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["completion_id"], r["outcome"]) for r in records] == [
        ("HumanEval/0", 0, "passed"),
        ("HumanEval/0", 1, "error"),
        ("HumanEval/0", 2, "error"),
        ("HumanEval/1", 0, "failed"),
    ]
    assert (
        "SyntaxError" in records[1]["detail"]
        and "over the 1,000,000-byte limit" in records[2]["detail"]
    )
    assert summary["pass_at_k"] == {
        "pass@1": pytest.approx(1 / 6)
    }  # task 0: 1 of 3; task 1: 0 of 1


def test_table_shows_overall_and_per_task(run_cli, tmp_path, problems):
    rows = [
        {"task_id": "HumanEval/3", "completion": problems["HumanEval/3"].canonical_solution}
    ] * 2
    rows += [{"task_id": "HumanEval/4", "completion": "    return 0.0\n"}] * 2
    path = tmp_path / "s.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    out = run_cli("eval", "humaneval", str(path), "-k", "1,2,10")
    assert out.returncode == 0, out.stderr.decode()
    text = out.stdout.decode()
    assert "pass@1" in text and "pass@2" in text and "pass@10" not in text
    assert "HumanEval/3" in text and "HumanEval/4" in text and "0.5000" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x.jsonl", "--canonical"], "either SAMPLES.jsonl or --canonical"),
        ([], "either SAMPLES.jsonl or --canonical"),
        (["--canonical", "-k", "0"], "-k 0"),
        (["--canonical", "-k", "a,b"], "-k a,b"),
        (["--canonical", "--timeout", "0"], "--timeout"),
        (["missing.jsonl"], "cannot read samples"),
        (
            ["--canonical", "--sandbox", "bwrap", "--bwrap", "/nonexistent/bwrap"],
            "bubblewrap not found",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(run_cli, args, message):
    out = run_cli("eval", "humaneval", *args)
    assert out.returncode == 2
    err = out.stderr.decode().strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1, err


def test_nothing_usable_exits_2(run_cli, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task_id": "nope", "completion": ""}\n')
    out = run_cli("eval", "humaneval", str(path))
    assert out.returncode == 2 and "no usable samples" in out.stderr.decode()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=6))
def test_reader_never_crashes(tmp_path_factory, chunks):
    problems = humaneval.load_problems()
    path = tmp_path_factory.mktemp("fuzz") / "s.jsonl"
    path.write_bytes(b"\n".join(chunks))
    try:
        samples, issues = humaneval.read_samples(path, problems)
    except InputError as exc:  # a whole-file problem: only a damaged gzip stream
        assert b"\n".join(chunks)[:2] == b"\x1f\x8b" and "damaged gzip file" in str(exc)
        return
    assert len(samples) + len(issues) <= len(
        [c for c in b"\n".join(chunks).split(b"\n") if c.strip()]
    )
    assert all(i.line >= 1 and str(i).startswith(str(path)) for i in issues)


def test_options_may_come_before_the_samples_file(run_cli, tmp_path):
    # argparse refuses an optional positional after options when a first positional precedes it;
    # `humaneval` is a sub-command so that `--timeout 5 samples.jsonl` works.
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return False\\n"}\n')
    out = run_cli("eval", "humaneval", "--timeout", "5", "--format", "json", str(samples))
    assert out.returncode == 0, out.stderr.decode()
    assert json.loads(out.stdout)["samples"] == 1
