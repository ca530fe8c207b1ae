"""``codeaudit audit`` end to end, in child processes: formats, options, exit codes, bad input."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

#: Every run here uses the privacy auditor: fast, no corpus, no sandbox.
AUDITORS = ("--auditors", "privacy")
LEAK = "DATA = '/home/mkowalski/data/customers.csv'\n"
CLEAN = "def add(a, b):\n    return a + b\n"


def line(**fields) -> str:
    return json.dumps(fields)


@pytest.fixture
def batch(tmp_path) -> Path:
    path = tmp_path / "batch.jsonl"
    path.write_text(
        line(id="leak", completion=LEAK, language="python")
        + "\n"
        + line(id="clean", completion=CLEAN, language="python")
        + "\n",
        encoding="utf-8",
    )
    return path


def no_traceback(proc):
    err = proc.stderr.decode()
    assert "Traceback" not in err, err
    return err


# -- formats -----------------------------------------------------------------------------------
def test_json_to_stdout_by_default_when_not_a_terminal(run_cli, batch):
    proc = run_cli("audit", str(batch), *AUDITORS)
    assert proc.returncode == 1, no_traceback(proc)
    report = json.loads(proc.stdout)
    assert report["schema"] == "codeaudit.report/1" and report["summary"]["failed"] is True
    (finding,) = [f for r in report["results"] if r["id"] == "leak" for f in r["findings"]]
    assert finding["evidence"]["username"] == "mkowalski" and finding["line"] == 1


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "html"])
def test_each_format_to_stdout(run_cli, batch, fmt):
    proc = run_cli("audit", str(batch), *AUDITORS, "--format", fmt)
    assert proc.returncode == 1, no_traceback(proc)
    out = proc.stdout.decode()
    if fmt == "json":
        assert json.loads(out)["summary"]["findings"] == 1
    elif fmt == "sarif":
        assert (
            json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
                "artifactLocation"
            ]["uri"]
            == "leak"
        )
    elif fmt == "html":
        assert out.startswith("<!DOCTYPE html>") and "mkowalski" in out
    else:
        assert "mkowalski" in out and "\x1b[" not in out and "❱ 1" in out


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("report.json", lambda t: json.loads(t)["schema"] == "codeaudit.report/1"),
        ("report.sarif", lambda t: json.loads(t)["version"] == "2.1.0"),
        ("report.html", lambda t: t.startswith("<!DOCTYPE html>")),
        ("report.htm", lambda t: t.startswith("<!DOCTYPE html>")),
        ("report.txt", lambda t: t.startswith("codeaudit ") and "\x1b[" not in t),
    ],
)
def test_output_file_format_from_extension(run_cli, batch, tmp_path, name, check):
    target = tmp_path / name
    proc = run_cli("audit", str(batch), *AUDITORS, "-o", str(target))
    assert proc.returncode == 1, no_traceback(proc)
    assert proc.stdout == b""
    assert check(target.read_text(encoding="utf-8"))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_no_output_file_when_nothing_could_be_audited(run_cli, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    proc = run_cli("audit", str(empty), *AUDITORS, "-o", str(tmp_path / "r.json"))
    assert proc.returncode == 2
    assert not (tmp_path / "r.json").exists()


def test_output_into_a_missing_folder_is_a_usage_error(run_cli, batch, tmp_path):
    proc = run_cli("audit", str(batch), *AUDITORS, "-o", str(tmp_path / "nope" / "r.json"))
    assert proc.returncode == 2 and "does not exist" in no_traceback(proc)


def test_output_to_a_device_or_pipe_is_written_in_place(run_cli, batch, tmp_path):
    """`-o /dev/null` must not rename a report over the device: a named pipe stands in for it."""
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run_cli("audit", str(batch), *AUDITORS, "--format", "json", "-o", str(fifo))
    if reader.is_alive():  # nothing opened the pipe for writing: unblock the reader
        with open(fifo, "wb"):
            pass
    reader.join(10)
    assert proc.returncode == 1, no_traceback(proc)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["summary"]["findings"] >= 1


# -- options -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("level", "code"), [("info", 1), ("medium", 1), ("critical", 0)])
def test_fail_on(run_cli, batch, level, code):
    proc = run_cli("audit", str(batch), *AUDITORS, "--fail-on", level)
    assert proc.returncode == code, no_traceback(proc)
    report = json.loads(proc.stdout)
    assert report["summary"]["fail_on"] == level
    verdict = {r["id"]: r["verdict"] for r in report["results"]}
    assert verdict == {"leak": "fail" if code else "warn", "clean": "pass"}


def test_bad_fail_on_and_unknown_auditor_are_usage_errors(run_cli, batch):
    proc = run_cli("audit", str(batch), *AUDITORS, "--fail-on", "severe")
    assert (
        proc.returncode == 2
        and "--fail-on" in no_traceback(proc)
        and "critical" in proc.stderr.decode()
    )
    proc = run_cli("audit", str(batch), "--auditors", "privacy,nosuch")
    err = no_traceback(proc)
    assert proc.returncode == 2 and "unknown auditor 'nosuch'" in err and "privacy" in err


def test_auditors_option_selects_auditors(run_cli, batch):
    report = json.loads(run_cli("audit", str(batch), *AUDITORS).stdout)
    assert list(report["tool"]["auditors"]) == ["privacy"]
    assert {f["auditor"] for r in report["results"] for f in r["findings"]} == {"privacy"}


def test_config_option(run_cli, batch, tmp_path):
    cfg = tmp_path / "strict.toml"
    cfg.write_text('fail_on = "critical"\nauditors = ["privacy"]\n', encoding="utf-8")
    proc = run_cli("audit", str(batch), "--config", str(cfg))
    assert proc.returncode == 0, no_traceback(proc)
    assert json.loads(proc.stdout)["tool"]["config"] == str(cfg)
    proc = run_cli("audit", str(batch), "--config", str(tmp_path / "missing.toml"))
    assert proc.returncode == 2 and "missing.toml" in no_traceback(proc)


def test_progress_bar_on_request(run_cli, batch):
    proc = run_cli("audit", str(batch), *AUDITORS, "--progress")
    err = no_traceback(proc)
    assert "auditing 2 suggestions" in err and "2/2 checks" in err
    # The count is of checks (suggestion × auditor), labelled so: never "4/4" for 2 suggestions.
    proc = run_cli("audit", str(batch), "--auditors", "privacy,security", "--progress")
    err = no_traceback(proc)
    assert "auditing 2 suggestions" in err and "4/4 checks" in err
    proc = run_cli("audit", str(batch), *AUDITORS)
    assert "auditing" not in proc.stderr.decode()  # not a terminal: no bar unless asked


# -- inputs ------------------------------------------------------------------------------------
def test_stdin_jsonl_and_stdin_source(run_cli, batch):
    proc = run_cli("audit", "-", *AUDITORS, input=batch.read_bytes())
    assert proc.returncode == 1, no_traceback(proc)
    assert {r["id"] for r in json.loads(proc.stdout)["results"]} == {"leak", "clean"}
    proc = run_cli("audit", "-", *AUDITORS, input="import os\n\n" + LEAK)
    assert proc.returncode == 1, no_traceback(proc)
    (result,) = json.loads(proc.stdout)["results"]
    assert result["id"] == "<stdin>" and result["language"] == "python"


def test_folder_input_ids_are_relative_paths(run_cli, tmp_path):
    root = tmp_path / "repo"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "src" / "pkg" / "load.py").write_text(LEAK)
    (root / "scripts" / "run.sh").write_text("#!/bin/sh\ncd /home/tkowal/app && make\n")
    (root / "scripts" / "deploy").write_text(
        "#!/usr/bin/env bash\necho ok\n"
    )  # shebang, no extension
    (root / "node_modules" / "x" / "index.js").write_text("var p = '/home/someone/x';\n")
    (root / "notes.bin").write_bytes(b"\x00\x01")
    proc = run_cli("audit", str(root), *AUDITORS)
    assert proc.returncode == 1, no_traceback(proc)
    results = {r["id"]: r for r in json.loads(proc.stdout)["results"]}
    assert set(results) == {"src/pkg/load.py", "scripts/run.sh", "scripts/deploy"}
    assert results["scripts/run.sh"]["language"] == "shell"
    assert results["scripts/run.sh"]["findings"][0]["evidence"]["username"] == "tkowal"


def test_a_source_file_is_one_suggestion(run_cli, tmp_path):
    src = tmp_path / "Main.java"
    src.write_text('class Main { String p = "/Users/anna.berg/app/conf"; }\n')
    proc = run_cli("audit", str(src), *AUDITORS)
    assert proc.returncode == 1, no_traceback(proc)
    (result,) = json.loads(proc.stdout)["results"]
    assert (
        result["language"] == "java"
        and result["findings"][0]["evidence"]["username"] == "anna.berg"
    )


def test_several_inputs_in_one_run(run_cli, batch, tmp_path):
    src = tmp_path / "x.py"
    src.write_text(CLEAN)
    proc = run_cli("audit", str(batch), str(src), *AUDITORS)
    assert {r["id"] for r in json.loads(proc.stdout)["results"]} == {"leak", "clean", str(src)}


# -- bad input ---------------------------------------------------------------------------------
BAD_LINES = [
    (b'{"id": "broken", "completion": ', "malformed JSON"),
    (line(id="nocomp", prompt="x").encode(), "field 'completion': missing (required)"),
    (b'{"id": "utf8", "completion": "caf\xe9"}', "invalid UTF-8"),
    (line(id="huge", completion="x = 1\n" * 1_750_000).encode(), "byte limit"),  # ~10.5 MB
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00", "binary content"),
    (line(id="nul", completion="a\x00b").encode(), "binary content"),
    (
        line(id="cobol", completion=LEAK, language="cobol-85").encode(),
        "unknown language 'cobol-85'",
    ),
    (
        line(id=3, completion=CLEAN, meta="not-an-object").encode(),
        "field 'meta': must be an object",
    ),
]


def test_each_bad_line_is_reported_with_its_line_and_the_rest_is_audited(run_cli, tmp_path):
    lines = [line(id="first", completion=LEAK).encode()]
    lines += [bad for bad, _ in BAD_LINES]
    lines.append(line(id="last", completion=LEAK).encode())
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    proc = run_cli("audit", str(path), *AUDITORS)
    err = no_traceback(proc)
    assert proc.returncode == 1, (
        err
    )  # findings in the good suggestions; input problems alone never give 2
    messages = [m for m in err.splitlines() if m.startswith("codeaudit: input: ")]
    assert len(messages) == len(BAD_LINES)
    numbers = [int(m.split(f"{path}:")[1].split(":")[0]) for m in messages]
    assert numbers == sorted(numbers)  # in input order, though found in two passes
    for number, (_, expected) in enumerate(BAD_LINES, start=2):
        (message,) = [m for m in messages if m.startswith(f"codeaudit: input: {path}:{number}: ")]
        assert expected in message, message
    report = json.loads(proc.stdout)
    audited = {r["id"] for r in report["results"]}
    assert audited == {
        "first",
        "cobol",
        "3",
        "last",
    }  # unknown language and bad meta: audited anyway
    cobol = next(r for r in report["results"] if r["id"] == "cobol")
    assert cobol["findings"] and cobol["findings"][0]["evidence"]["username"] == "mkowalski"
    assert {e["line"] for e in report["input_errors"]} == set(range(2, 2 + len(BAD_LINES)))
    assert report["summary"]["skipped_inputs"] == 6


def test_strict_makes_any_input_problem_fatal(run_cli, tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(
        line(id="ok", completion=LEAK)
        + "\n"
        + line(id="x", completion="y", language="klingon")
        + "\n"
    )
    out = tmp_path / "r.json"
    proc = run_cli("audit", str(path), *AUDITORS, "--strict", "-o", str(out))
    err = no_traceback(proc)
    assert proc.returncode == 2 and f"{path}:2: field 'language'" in err and "--strict" in err
    assert not out.exists()
    proc = run_cli("audit", str(path), *AUDITORS, "-o", str(out))
    assert proc.returncode == 1 and out.exists()


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"", "empty.jsonl", "empty input"),
        (b"\n  \n", "blank.jsonl", "empty input"),
        (b'{"completion": \n', "allbad.jsonl", ":1: malformed JSON"),
        (b"\x00\x01\x02\x03" * 100, "blob.py", "binary content"),
        (b"", "empty.py", "empty input"),
    ],
)
def test_nothing_to_audit_exits_2_with_a_message(run_cli, tmp_path, content, name, expected):
    path = tmp_path / name
    path.write_bytes(content)
    proc = run_cli("audit", str(path), *AUDITORS)
    err = no_traceback(proc)
    assert proc.returncode == 2 and expected in err and "nothing to audit" in err
    assert proc.stdout == b""


def test_missing_input_and_empty_folder(run_cli, tmp_path):
    proc = run_cli("audit", str(tmp_path / "nope.jsonl"), *AUDITORS)
    assert proc.returncode == 2 and "nope.jsonl: no such file or folder" in no_traceback(proc)
    (tmp_path / "empty").mkdir()
    proc = run_cli("audit", str(tmp_path / "empty"), *AUDITORS)
    assert proc.returncode == 2 and "no source files found" in no_traceback(proc)


def test_invalid_utf8_source_file_is_audited_with_a_warning(run_cli, tmp_path):
    src = tmp_path / "legacy.py"
    src.write_bytes(b"# caf\xe9\n" + LEAK.encode())
    proc = run_cli("audit", str(src), *AUDITORS)
    err = no_traceback(proc)
    assert proc.returncode == 1 and "not valid UTF-8 (byte 6)" in err
    (result,) = json.loads(proc.stdout)["results"]
    assert result["findings"][0]["line"] == 2


# -- no secret in input errors (issue 16) ------------------------------------------------------
#: Credential-shaped values, built here so that no scanner of this repository takes them for real.
SECRETS = [
    "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2,
    "AKIA" + "Q3EGRWZ7JXK2LM5N",
    "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_input_errors_never_echo_a_secret_shaped_value(run_cli, tmp_path, secret):
    """Each field whose value an input message quotes today (language, a repeated id, a field
    name with surrogate escapes) with a secret-shaped value: the messages on standard error and
    in the report say what is wrong without it."""
    path = tmp_path / "b.jsonl"
    key = json.dumps(secret + "\ud800")[1:-1]  # a field name with an unpaired surrogate escape
    path.write_text(
        line(id="a", completion=CLEAN, language=secret)
        + "\n"
        + line(id=secret, completion=CLEAN)
        + "\n"
        + line(id=secret, completion=CLEAN)
        + "\n"
        + f'{{"id": "k", "completion": "x = 1", "{key}": 1}}\n',
        encoding="utf-8",
    )
    proc = run_cli("audit", str(path), *AUDITORS)
    err = no_traceback(proc)
    messages = [m for m in err.splitlines() if m.startswith("codeaudit: input: ")]
    assert len(messages) == 3, err
    assert "unknown language (a value of" in messages[0]
    assert "duplicate id (not shown" in messages[1] and "renamed with suffix '#3'" in messages[1]
    assert "a field whose name is not shown" in messages[2]
    assert secret not in err and secret[:12] not in err
    for issue in json.loads(proc.stdout)["input_errors"]:
        assert secret[:12] not in issue["message"] and secret[:12] not in (issue["field"] or "")


def test_short_plain_values_are_still_quoted(run_cli, tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(
        line(id="task/7", completion=CLEAN, language="cobol-85")
        + "\n"
        + line(id="task/7", completion=CLEAN)
        + "\n",
        encoding="utf-8",
    )
    err = no_traceback(run_cli("audit", str(path), *AUDITORS))
    assert "unknown language 'cobol-85'" in err
    assert "duplicate id 'task/7' (first on line 1); renamed to 'task/7#2'" in err
