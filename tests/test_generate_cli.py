"""The generation commands end to end: generate, run, bench, model; and every kind of bad input."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from codeaudit.cli import main
from codeaudit.generators.tiny import tiny_model
from codeaudit.inputs import read_input


@pytest.fixture(scope="session")
def tiny_dir():
    return tiny_model()


@pytest.fixture
def prompts(tmp_path):
    f = tmp_path / "prompts.jsonl"
    rows = [
        {"id": "fib", "prompt": "def fibonacci(n):\n", "language": "python"},
        {
            "id": "cfg",
            "prompt": "import os\n\nclass Config:\n    def __init__(self, path):\n",
            "path": "app/config.py",
        },
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f


def _no_output_left(folder, name):
    assert not (folder / name).exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(f".{name}.")], (
        "a partial file was left behind"
    )


def test_generate_writes_a_batch_that_audit_reads(run_cli, tiny_dir, prompts, tmp_path):
    out = tmp_path / "suggestions.jsonl"
    proc = run_cli(
        "generate",
        str(prompts),
        "--model",
        str(tiny_dir),
        "--engine",
        "onnx-int8",
        "--max-new-tokens",
        "24",
        "--seed",
        "3",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    batch = read_input(out)
    assert batch.issues == [] and [s.id for s in batch.suggestions] == ["fib", "cfg"]
    fib, cfg = batch.suggestions
    assert (
        fib.prompt == "def fibonacci(n):\n"
        and fib.language == "python"
        and cfg.path == "app/config.py"
    )
    assert fib.model == str(tiny_dir)
    meta = fib.meta
    assert meta["engine"]["name"] == "onnx-int8" and meta["engine"]["precision"] == "int8"
    assert (
        meta["sampling"]["seed"] == 3 and meta["raw"] == fib.completion
    )  # no stops: raw == completion
    assert meta["timings"]["new_tokens"] <= 24 and meta["timings"]["first_token_ms"] > 0
    assert meta["stop_reason"] in ("eos", "length")
    # ... and the audit command takes it as it is.
    assert run_cli("audit", str(out), "--format", "json", "--auditors", "privacy").returncode in (
        0,
        1,
    )


def test_humaneval_batch_feeds_eval(tiny_dir, tmp_path, capsys):
    out = tmp_path / "he.jsonl"
    code = main(
        [
            "generate",
            "--humaneval",
            "--limit",
            "3",
            "--model",
            str(tiny_dir),
            "--engine",
            "onnx",
            "--max-new-tokens",
            "48",
            "-o",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["task_id"] for r in records] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    for r in records:
        assert r["tests"].lstrip().startswith("METADATA") or "def check(candidate)" in r["tests"]
        assert r["entry_point"] and r["language"] == "python"
        raw, completion = r["meta"]["raw"], r["completion"]
        assert raw.startswith(completion)
        assert not any(
            stop in completion for stop in ("\ndef", "\nclass", "\nif", "\nprint", "\n#")
        )
        assert r["meta"]["sampling"]["stop"] == ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]
    # The batch is a valid sample file for `codeaudit eval humaneval` (the tiny model passes none).
    capsys.readouterr()
    assert (
        main(["eval", "humaneval", str(out), "--format", "json", "-k", "1", "--workers", "1"]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["samples"] == 3 and summary["tasks"] == 3


def test_sampling_several_samples_per_prompt(tiny_dir, prompts, tmp_path):
    out = tmp_path / "s.jsonl"
    args = [
        "generate",
        str(prompts),
        "--model",
        str(tiny_dir),
        "--engine",
        "onnx",
        "-n",
        "3",
        "--temperature",
        "0.8",
        "--top-p",
        "0.95",
        "--seed",
        "9",
        "--max-new-tokens",
        "16",
        "-o",
        str(out),
    ]
    assert main(args) == 0
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in first] == [f"{p}/sample-{k}" for p in ("fib", "cfg") for k in range(3)]
    assert [r["meta"]["sampling"]["sample_index"] for r in first] == [0, 1, 2, 0, 1, 2]
    assert main(args) == 0
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["meta"]["raw"] for r in again] == [
        r["meta"]["raw"] for r in first
    ]  # same seed, same samples


def test_run_generates_and_audits(tiny_dir, prompts, tmp_path, capsys):
    report = tmp_path / "report.json"
    kept = tmp_path / "kept.jsonl"
    code = main(
        [
            "run",
            str(prompts),
            "--model",
            str(tiny_dir),
            "--engine",
            "onnx-int8",
            "--max-new-tokens",
            "16",
            "--auditors",
            "privacy,security",
            "--suggestions",
            str(kept),
            "-o",
            str(report),
        ]
    )
    assert code in (0, 1), capsys.readouterr().err
    data = json.loads(report.read_text())
    assert data["schema"] == "codeaudit.report/1" and data["summary"]["suggestions"] == 2
    assert [r["id"] for r in data["results"]] == ["fib", "cfg"]
    assert data["results"][0]["meta"]["engine"]["name"] == "onnx-int8"
    assert len(kept.read_text().splitlines()) == 2


def test_bench_prints_the_latency_table_as_json(run_cli, tiny_dir):
    proc = run_cli(
        "bench",
        "generate",
        "--model",
        str(tiny_dir),
        "--engines",
        "onnx-int8,ctranslate2-int8",
        "--format",
        "json",
        "--repeats",
        "1",
        "--prompt-tokens",
        "16",
        "--new-tokens",
        "8",
        "--batch",
        "1,4",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert result["cpu"] and result["bandwidth_gbs"] > 0 and result["batches"] == [1, 4]
    assert [r["engine"] for r in result["rows"]] == ["onnx-int8", "ctranslate2-int8"]
    for row in result["rows"]:
        by_batch = row["tokens_per_s_by_batch"]
        assert set(by_batch) == {"1", "4"} and min(by_batch.values()) > 0
    assert "export_s" in result["rows"][1]  # the CTranslate2 conversion, timed
    for row in result["rows"]:
        for key in (
            "engine",
            "ms_per_token",
            "first_token_ms",
            "tokens_per_s",
            "peak_rss_mb",
            "model_mb",
            "load_s",
        ):
            assert key in row
        assert row["ms_per_token"] > 0 and row["peak_rss_mb"] > 50 and row["bound_ms"] > 0
    assert "export_s" in result["rows"][0]


def test_bench_table_format(run_cli, tiny_dir):
    proc = run_cli(
        "bench",
        "generate",
        "--model",
        str(tiny_dir),
        "--engines",
        "onnx",
        "--repeats",
        "1",
        "--prompt-tokens",
        "8",
        "--new-tokens",
        "4",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    text = proc.stdout.decode()
    assert "ms/token" in text and "memory bandwidth" in text and "onnx (codegen)" in text


# ----------------------------------------------------------------------------- bad input


def _fails(capsys, argv, *needles):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("codeaudit: error: ") and "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize("engine", ["torch", "onnx-int8"])
def test_missing_model_folder(capsys, prompts, tmp_path, engine):
    out = tmp_path / "out.jsonl"
    _fails(
        capsys,
        [
            "generate",
            str(prompts),
            "--model",
            str(tmp_path / "nope"),
            "--engine",
            engine,
            "-o",
            str(out),
        ],
        "no such folder",
    )
    _no_output_left(tmp_path, "out.jsonl")


def test_folder_that_is_not_a_model(capsys, prompts, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _fails(
        capsys,
        ["generate", str(prompts), "--model", str(empty), "-o", str(tmp_path / "o.jsonl")],
        "no config.json",
    )
    _no_output_left(tmp_path, "o.jsonl")


@pytest.mark.parametrize("engine", ["torch", "torch-int8", "onnx", "onnx-int8"])
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_checkpoint(capsys, prompts, tmp_path, tiny_dir, engine, damage):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dir, broken)
    weights = broken / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(
        data[: len(data) // 2] if damage == "truncated" else b"\x00not a checkpoint" * 100
    )
    out = tmp_path / "out.jsonl"
    _fails(
        capsys,
        ["generate", str(prompts), "--model", str(broken), "--engine", engine, "-o", str(out)],
        "corrupt checkpoint model.safetensors",
    )
    _no_output_left(tmp_path, "out.jsonl")


@pytest.mark.parametrize("engine", ["torch", "onnx-int8"])
def test_unsupported_architecture(capsys, prompts, tmp_path, tiny_dir, engine):
    other = tmp_path / "t5"
    shutil.copytree(tiny_dir, other)
    (other / "config.json").write_text(
        json.dumps({"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]})
    )
    out = tmp_path / "out.jsonl"
    _fails(
        capsys,
        ["generate", str(prompts), "--model", str(other), "--engine", engine, "-o", str(out)],
        "unsupported architecture 't5'",
    )
    _no_output_left(tmp_path, "out.jsonl")


def test_checkpoint_that_does_not_fit_the_architecture(capsys, prompts, tmp_path, tiny_dir):
    """A config whose shapes disagree with the weights is refused, not filled with random values."""
    other = tmp_path / "mismatch"
    shutil.copytree(tiny_dir, other)
    config = json.loads((other / "config.json").read_text())
    config["n_layer"] += 1
    (other / "config.json").write_text(json.dumps(config))
    for engine in ("torch", "onnx-int8"):
        _fails(
            capsys,
            [
                "generate",
                str(prompts),
                "--model",
                str(other),
                "--engine",
                engine,
                "-o",
                str(tmp_path / "o.jsonl"),
            ],
            "transformer.h.2",
        )
    _no_output_left(tmp_path, "o.jsonl")


def test_prompt_longer_than_the_context_window_fails_on_request(capsys, tmp_path, tiny_dir):
    f = tmp_path / "long.jsonl"
    f.write_text(
        json.dumps({"id": "short", "prompt": "def f():\n"})
        + "\n"
        + json.dumps({"id": "long", "prompt": "x = 1\n" * 600})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    argv = ["generate", str(f), "--model", str(tiny_dir), "--engine", "onnx-int8", "-o", str(out)]
    _fails(
        capsys, [*argv, "--long-prompts", "fail"], "prompt 'long'", "context window of 512 tokens"
    )
    _no_output_left(tmp_path, "out.jsonl")
    # --max-new-tokens that leaves no room for any prompt is a usage error, whatever the policy.
    _fails(capsys, [*argv, "--max-new-tokens", "600"], "--max-new-tokens 600 leaves no room")
    _no_output_left(tmp_path, "out.jsonl")


def _long_prompts_file(tmp_path):
    lines = "".join(f"value_{i} = compute({i}, 'item number {i}')\n" for i in range(200))
    f = tmp_path / "long.jsonl"
    rows = [
        {"id": "short", "prompt": "def f():\n"},
        {"id": "long", "prompt": lines + "def tail(x):\n"},
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f, rows


def test_long_prompts_are_cut_at_a_line_or_skipped(tmp_path, tiny_dir, capsys):
    f, rows = _long_prompts_file(tmp_path)
    out = tmp_path / "cut.jsonl"
    base = ["generate", str(f), "--model", str(tiny_dir), "--engine", "onnx", "--max-new-tokens"]
    assert main([*base, "16", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    named = [line for line in err.splitlines() if "prompt 'long'" in line]
    assert len(named) == 1 and "cut from the left" in named[0] and "'short'" not in err, err
    short, long = [json.loads(line) for line in out.read_text().splitlines()]
    assert "prompt_fit" not in short["meta"]
    fit = long["meta"]["prompt_fit"]
    # The suggestion keeps the whole prompt; the model saw its last lines, within 512 - 16.
    assert long["prompt"] == rows[1]["prompt"]
    assert fit["action"] == "cut" and fit["boundary"] == "line" and fit["room"] == 512 - 16
    assert fit["prompt_tokens"] > 512 - 16 >= fit["model_prompt_tokens"] > 400
    assert (
        fit["dropped_lines"] > 0
        and long["meta"]["timings"]["prompt_tokens"] == (fit["model_prompt_tokens"])
    )
    # With -n 3, the prompt is still named once.
    out3 = tmp_path / "n3.jsonl"
    sampled = [*base, "8", "-n", "3", "--temperature", "0.5", "-o", str(out3)]
    assert main(sampled) == 0
    assert capsys.readouterr().err.count("prompt 'long'") == 1
    assert len(out3.read_text().splitlines()) == 6
    # Skipped: no suggestion for it, named once.
    skipped = tmp_path / "skip.jsonl"
    assert main([*base, "16", "--long-prompts", "skip", "-o", str(skipped)]) == 0
    err = capsys.readouterr().err
    assert err.count("prompt 'long'") == 1 and "skipped" in err
    assert [json.loads(line)["id"] for line in skipped.read_text().splitlines()] == ["short"]


def test_cut_keeps_the_longest_run_of_last_lines_that_fits(tiny_dir):
    from codeaudit.generators.decode import Tokenizer, fit_prompts
    from codeaudit.generators.source import resolve_model

    tok = Tokenizer.load(resolve_model(str(tiny_dir)))
    text = "".join(f"    total += weights[{i}] * values[{i}]\n" for i in range(120)) + "    return"
    (fitted,) = fit_prompts(tok, [text], context_length=512, max_new_tokens=100)
    lines = text.splitlines(keepends=True)
    kept = "".join(lines[fitted.dropped_lines :])
    assert fitted.ids == tok.encode(kept) and len(fitted.ids) <= 412
    # One line more would not fit: the cut is as late as it must be, no later.
    assert len(tok.encode(lines[fitted.dropped_lines - 1] + kept)) > 412
    # A single line longer than the room is cut inside it, keeping its last tokens.
    one_line = "x" * 5000
    (fitted,) = fit_prompts(tok, [one_line], context_length=512, max_new_tokens=100)
    assert fitted.boundary == "token" and fitted.ids == tok.encode(one_line)[-412:]


def test_readme_humaneval_command_runs_as_written(run_cli, tiny_dir, tmp_path):
    """The README's command, verbatim, with ``tiny/`` being the tiny model: 164 suggestions,
    the prompts that do not fit named on standard error and cut."""
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    (line,) = re.findall(
        r"^codeaudit generate --humaneval --model tiny/[^#\n]*", readme, re.MULTILINE
    )
    argv = shlex.split(line)
    (tmp_path / "tiny").symlink_to(tiny_dir, target_is_directory=True)
    proc = run_cli(*argv[1:], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    records = [json.loads(x) for x in (tmp_path / "he.jsonl").read_text().splitlines()]
    assert len(records) == 164
    err = proc.stderr.decode()
    cut = {r["id"] for r in records if "prompt_fit" in r["meta"]}
    assert "HumanEval/129" in cut  # 637 tokens for the tiny model's 512-token window
    for task in cut:
        assert err.count(f"prompt '{task}'") == 1
    assert err.count("cut from the left") == len(cut)
    from codeaudit.generators.prompts import humaneval_prompts

    assert [r["prompt"] for r in records] == [p.text for p in humaneval_prompts()]


def test_empty_prompt_file(capsys, tmp_path, tiny_dir):
    f = tmp_path / "empty.jsonl"
    f.write_text("")
    _fails(
        capsys,
        ["generate", str(f), "--model", str(tiny_dir), "-o", str(tmp_path / "out.jsonl")],
        "no prompts",
    )
    _no_output_left(tmp_path, "out.jsonl")


def test_usage_errors(capsys, prompts, tmp_path, tiny_dir):
    _fails(
        capsys,
        ["generate", str(prompts), "--humaneval", "--model", str(tiny_dir)],
        "either PROMPTS.jsonl or --humaneval",
    )
    _fails(capsys, ["generate", "--model", str(tiny_dir)], "either PROMPTS.jsonl or --humaneval")
    _fails(
        capsys,
        ["generate", str(prompts), "--model", str(tiny_dir), "--engine", "tensorrt"],
        "unknown engine 'tensorrt'",
    )
    _fails(capsys, ["generate", str(prompts), "--model", str(tiny_dir), "-n", "2"], "greedy")
    _fails(
        capsys,
        [
            "generate",
            str(prompts),
            "--model",
            str(tiny_dir),
            "--engine",
            "onnx",
            "--device",
            "cuda",
        ],
        "runs on the CPU",
    )
    _fails(
        capsys,
        ["bench", "generate", "--model", str(tiny_dir), "--engines", "onnx,bogus"],
        "unknown engine 'bogus'",
    )
    _fails(
        capsys,
        ["bench", "generate", "--model", str(tiny_dir), "--prompt-tokens", "500"],
        "context window",
    )
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x").write_text("x")
    _fails(capsys, ["model", "tiny", "-o", str(occupied)], "not an empty folder")
    with pytest.raises(SystemExit) as exc:
        main(["model", "random", "--size", "7B", "-o", str(tmp_path / "m")])
    assert exc.value.code == 2


def test_gpu_check_script_runs_on_the_cpu_up_to_the_cuda_calls(tiny_dir, tmp_path):
    """benchmarks/gpu_check.sh --dry-run: every step of the GPU check, on the CPU, small shapes."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    out = tmp_path / "gpu.json"
    env = {**os.environ, "PYTHON": sys.executable, "GPU_CHECK_OUT": str(out)}
    proc = subprocess.run(
        [
            "bash",
            str(root / "benchmarks" / "gpu_check.sh"),
            "--dry-run",
            str(wheels),
            str(tiny_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(out.read_text())
    assert record["dry_run"] and record["versions"]["torch"]
    tiny = record["tiny"]
    assert tiny["agreement_met"] and tiny["teacher_forced"]["tokens"] == 8 * 16
    for size in ("350M", "2B"):
        row = record["latency"][size]
        assert row["ms_per_token"] > 0 and row["tokens_per_s_batch_16"] > 0, row
    ct2 = record["ctranslate2"]
    assert ct2["ctranslate2"]["tiny_greedy_identical_to_cpu_fp32"] == "4 of 4", ct2
    # A folder that is not a model: one line, exit 2.
    bad = subprocess.run(
        ["bash", str(root / "benchmarks" / "gpu_check.sh"), "--dry-run", str(wheels), str(wheels)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
