"""The memorization auditor through the real pipeline: findings, evidence, severity, context,
configuration, and the default corpus built on first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from codeaudit import Config, Severity, audit
from codeaudit.auditors.memorization import cases as mc
from codeaudit.auditors.memorization.auditor import MemorizationAuditor
from codeaudit.corpus.build import build_index
from codeaudit.corpus.sources import FolderSource
from codeaudit.errors import ConfigError, InputError

STDLIB = Path(sysconfig.get_paths()["stdlib"])
DECODER = (STDLIB / "json" / "decoder.py").read_text().splitlines()


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """The same json package indexed under three licences."""
    root = tmp_path_factory.mktemp("mem")
    out = {}
    for lic in ("MIT", "GPL-3.0-only", "NOASSERTION"):
        out[lic] = root / f"{lic}.idx"
        build_index(
            [FolderSource(str(STDLIB / "json"), repo="cpython/json", license=lic)], out[lic]
        )
    return out


def _config(*corpora, **options):
    return Config(options={"memorization": {"corpora": [str(c) for c in corpora], **options}})


def _findings(report):
    return [f for _, f in report.findings()]


def test_a_copy_is_reported_on_its_lines_with_its_source(indexes):
    completion = (
        "\n".join(
            ["import json", "", "# helper written here", *DECODER[40:76], "", "print('done')"]
        )
        + "\n"
    )
    report = audit(
        [{"id": "s", "completion": completion, "language": "python"}],
        _config(indexes["MIT"]),
        auditors=["memorization"],
    )
    (f,) = _findings(report)
    assert (f.rule_id, f.rule_name, f.auditor) == ("CA301", "corpus-copy", "memorization")
    src = f.evidence["source"]
    assert (src["repo"], src["path"], src["license"]) == ("cpython/json", "decoder.py", "MIT")
    assert 41 <= src["start_line"] <= 43 and 74 <= src["end_line"] <= 76
    assert 4 <= f.line <= 6 and 37 <= f.end_line <= 39  # the copied lines of the completion only
    assert f.evidence["similarity"] == 1.0 and f.evidence["matched_chars"] >= 600
    assert "decoder.py" in f.message and f.severity is Severity.MEDIUM
    desc = report.tool["auditors"]["memorization"]["corpora"][0]
    assert desc["name"] == "MIT.idx" and desc["windows"] > 0


def test_severity_grows_with_length_and_with_copyleft_or_unknown_licences(indexes):
    short = "\n".join(DECODER[40:52]) + "\n"  # 150-300 characters of code
    long = "\n".join(DECODER[40:120]) + "\n"
    got = {}
    for lic, idx in indexes.items():
        for name, text in (("short", short), ("long", long)):
            (f,) = _findings(
                audit(
                    [{"id": name, "completion": text, "language": "python"}],
                    _config(idx),
                    auditors=["memorization"],
                )
            )
            got[(lic, name)] = f.severity
    assert got[("MIT", "short")] is Severity.LOW
    assert got[("MIT", "long")] is Severity.HIGH
    assert (
        got[("GPL-3.0-only", "short")] is Severity.MEDIUM
        and got[("GPL-3.0-only", "long")] is Severity.CRITICAL
    )
    assert got[("NOASSERTION", "short")] is Severity.MEDIUM


def test_renamed_copies_are_their_own_rule(indexes):
    import random

    lines = DECODER[
        [i for i, line in enumerate(DECODER) if line.startswith("def py_scanstring")][0] :
    ][:45]
    renamed = mc._rename(lines, random.Random(3))
    assert renamed and renamed != lines
    (f,) = _findings(
        audit(
            [{"id": "r", "completion": "\n".join(renamed) + "\n", "language": "python"}],
            _config(indexes["MIT"]),
            auditors=["memorization"],
        )
    )
    assert (
        f.rule_id == "CA302"
        and f.evidence["similarity"] < 0.9
        and f.evidence["renaming_consistency"] >= 0.9
    )


def test_the_prompt_is_context_only(indexes):
    # The prompt opens a docstring that the completion continues: lexed together, the completion
    # is read right; the copied prompt lines are not reported.
    i = next(i for i, line in enumerate(DECODER) if '"""Scan the string' in line)
    prompt = "\n".join(DECODER[i - 30 : i + 1]) + "\n"
    completion = "\n".join(DECODER[i + 1 : i + 40]) + "\n"
    (f,) = _findings(
        audit(
            [{"id": "p", "prompt": prompt, "completion": completion, "language": "python"}],
            _config(indexes["MIT"]),
            auditors=["memorization"],
        )
    )
    assert f.line == 1 and f.evidence["source"]["start_line"] >= i + 2
    report = audit(
        [{"id": "q", "prompt": prompt, "completion": "x = 1\n", "language": "python"}],
        _config(indexes["MIT"]),
        auditors=["memorization"],
    )
    assert _findings(report) == []


def test_thresholds_are_configurable(indexes):
    text = "\n".join(DECODER[40:52]) + "\n"
    assert _findings(audit([text], _config(indexes["MIT"]), auditors=["memorization"]))
    assert not _findings(
        audit(
            [text], _config(indexes["MIT"], min_chars=2000, min_lines=50), auditors=["memorization"]
        )
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"min_chars": "many"}, "min_chars must be int"),
        ({"medium_chars": 5000}, "medium_chars must not exceed high_chars"),
        ({"verbatim_similarity": 1.5}, "between 0 and 1"),
        ({"window": 3}, "unknown key 'window'"),
    ],
)
def test_bad_options_are_config_errors(indexes, options, message):
    with pytest.raises(ConfigError, match=message):
        MemorizationAuditor(_config(indexes["MIT"], **options))


def test_a_missing_index_stops_the_audit(tmp_path):
    with pytest.raises(InputError, match="not found"):
        audit(["x = 1\n"], _config(tmp_path / "nope.idx"), auditors=["memorization"])


def test_several_corpora_and_the_cli_flag(indexes, run_cli, tmp_path):
    text = "\n".join(DECODER[40:80]) + "\n"
    report = audit(
        [text], _config(indexes["GPL-3.0-only"], indexes["MIT"]), auditors=["memorization"]
    )
    assert len(_findings(report)) == 1  # one copy, reported once, from the first corpus that has it
    sugg = tmp_path / "s.py"
    sugg.write_text(text)
    done = run_cli(
        "audit",
        str(sugg),
        "--auditors",
        "memorization",
        "--corpus",
        str(indexes["MIT"]),
        "--format",
        "json",
    )
    assert done.returncode == 1, done.stderr  # MEDIUM is at the default --fail-on
    (result,) = json.loads(done.stdout)["results"]
    assert result["findings"][0]["evidence"]["source"]["path"] == "decoder.py"


# --- the default corpus -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_cache(tmp_path_factory):
    """Three processes ask for the default corpus at once in an empty cache: one builds it, the
    others wait for it; all succeed and exactly one index is left, with no half-built folder."""
    cache = tmp_path_factory.mktemp("cache")
    env = {**os.environ, "CODEAUDIT_CACHE_DIR": str(cache)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "codeaudit", "corpus", "info", "stdlib"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e.decode() for _, e in outs]
    built = [e for _, e in outs if b"indexed the standard library" in e]
    assert len(built) == 1
    folders = sorted(p.name for p in (cache / "corpora").iterdir() if p.is_dir())
    assert len(folders) == 1 and folders[0].startswith("stdlib-") and ".building" not in folders[0]
    return cache


def test_the_default_corpus_finds_standard_library_code_with_no_setup(
    default_cache, run_cli, tmp_path
):
    sugg = tmp_path / "parse.py"
    sugg.write_text("\n".join(DECODER[40:90]) + "\n")
    done = run_cli(
        "audit",
        str(sugg),
        "--auditors",
        "memorization",
        "--format",
        "json",
        env={"CODEAUDIT_CACHE_DIR": str(default_cache)},
    )
    assert done.returncode == 1, done.stderr
    assert b"indexed the standard library" not in done.stderr  # built once, by the fixture
    f = json.loads(done.stdout)["results"][0]["findings"][0]
    assert f["evidence"]["source"]["repo"] == "python/cpython"
    assert f["evidence"]["source"]["path"] == "Lib/json/decoder.py"
    assert f["evidence"]["source"]["license"] == "PSF-2.0"


def test_a_damaged_default_index_is_rebuilt_not_trusted(default_cache, run_cli, tmp_path):
    (folder,) = [p for p in (default_cache / "corpora").iterdir() if p.is_dir()]
    keys = folder / "lsh.keys"
    data = bytearray(keys.read_bytes())
    data[100] ^= 0xFF
    keys.write_bytes(bytes(data))
    sugg = tmp_path / "parse.py"
    sugg.write_text("\n".join(DECODER[40:90]) + "\n")
    done = run_cli(
        "audit",
        str(sugg),
        "--auditors",
        "memorization",
        "--format",
        "json",
        env={"CODEAUDIT_CACHE_DIR": str(default_cache)},
    )
    assert done.returncode == 1, done.stderr
    assert (
        b"unusable" in done.stderr
        and b"CRC-32" in done.stderr
        and b"indexed the standard library" in done.stderr
    )
    assert (
        json.loads(done.stdout)["results"][0]["findings"][0]["evidence"]["source"]["path"]
        == "Lib/json/decoder.py"
    )


def test_c_code_and_a_suggestion_whose_language_was_misdetected(tmp_path):
    """Real C (numpy's public headers, read at run time): comments stripped from the copy, and the
    suggestion labelled with the wrong language still matches (it is lexed as the index's files)."""
    np_include = Path(__import__("numpy").get_include()) / "numpy"
    build_index([FolderSource(str(np_include), repo="numpy/numpy")], tmp_path / "c.idx")
    header = (np_include / "ndarraytypes.h").read_text().splitlines()
    i = next(i for i, line in enumerate(header) if line.startswith("typedef struct") and i > 200)
    chunk = [line.split("/*")[0].rstrip() if "*/" in line else line for line in header[i : i + 30]]
    cases = [("c", "c"), ("yaml", "yaml"), ("none", None)]
    for sid, lang in cases:
        report = audit(
            [
                {
                    "id": sid,
                    "completion": "\n".join(chunk) + "\n",
                    **({"language": lang} if lang else {}),
                }
            ],
            _config(tmp_path / "c.idx"),
            auditors=["memorization"],
        )
        found = _findings(report)
        assert found and found[0].evidence["source"]["path"] == "ndarraytypes.h", sid


def test_docs_name_every_option_and_only_real_ones():
    """README and docs/memorization.md stay in step with the options the auditor accepts."""
    import re

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    section = re.search(r"^## Memorization auditor\n(.*?)(?=^## )", readme, re.S | re.M).group(1)
    doc = (root / "docs" / "memorization.md").read_text()
    options = set(MemorizationAuditor.options_spec)
    table = re.search(r"\| option \| default \| meaning \|(.*?)\n\n", doc, re.S).group(1)
    documented = {
        name
        for cell in re.findall(r"^\| ([^|]+) \|", table, re.M)
        for name in re.findall(r"`(\w+)`", cell)
    }
    assert documented == options - {"corpora"}
    named = set(re.findall(r"`(\w+)`", section.split("Thresholds:")[1].split(")")[0]))
    assert named and named <= options
    for target in re.findall(r"\]\(([^)#]+)\)", section):
        assert (root / target).exists(), target
