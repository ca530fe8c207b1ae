"""Where a finding stands: tests, docs and examples are lowered below medium (pipeline policy)."""

from __future__ import annotations

import pytest

from codeaudit import Config, audit
from codeaudit.config import config_from_mapping
from codeaudit.errors import UsageError
from codeaudit.model import Severity

LEAK = "DATA = '/home/mkowalski/churn/data.csv'\n"


def severities(path, config=None):
    item = {"id": "s", "completion": LEAK, "language": "python"}
    if path is not None:
        item["path"] = path
    report = audit([item], config or Config(), auditors=["privacy"])
    return [(f.rule_id, f.severity, f.evidence.get("path_policy")) for _, f in report.findings()]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("tests/test_io.py", "test"),
        ("pkg/tests/helpers.py", "test"),
        ("test_io.py", "test"),
        ("cmd/store_test.go", "test"),
        ("web/src/app.spec.ts", "test"),
        ("spec/models/user_spec.rb", "test"),
        ("docs/conf.py", "docs"),
        ("README.md", "docs"),
        ("examples/flask_app/app.py", "example"),
    ],
)
def test_test_doc_and_example_code_is_lowered(path, kind):
    ((rule, severity, note),) = severities(path)
    assert rule == "CA101" and severity == Severity.LOW
    assert note == f"{kind} (medium)"


@pytest.mark.parametrize("path", ["src/io.py", "app/contest.py", "latest/x.py", None])
def test_production_code_and_pathless_suggestions_are_not(path):
    ((rule, severity, note),) = severities(path)
    assert severity == Severity.MEDIUM and note is None


def test_configurable_and_switchable():
    off = config_from_mapping({"paths": {"enabled": False}})
    assert severities("tests/test_io.py", off)[0][1] == Severity.MEDIUM
    mine = config_from_mapping({"paths": {"test": ["qa/*"], "ceiling": "info"}})
    assert severities("qa/check.py", mine)[0][1] == Severity.INFO
    assert severities("tests/test_io.py", mine)[0][1] == Severity.MEDIUM  # replaced, not added
    keep = config_from_mapping({"paths": {"production": ["examples/shipped/*"]}})
    assert severities("examples/shipped/app.py", keep)[0][1] == Severity.MEDIUM


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"colour": 1}, "unknown key 'colour'"),
        ({"enabled": "yes"}, "enabled must be true or false"),
        ({"ceiling": "severe"}, "ceiling"),
        ({"test": "tests/*"}, "test must be a list of strings"),
    ],
)
def test_bad_configuration_is_one_line(table, message):
    with pytest.raises(UsageError, match=message):
        audit(["x = 1\n"], config_from_mapping({"paths": table}), auditors=["privacy"])


def test_cli_option_switches_it_off(tmp_path, run_cli):
    folder = tmp_path / "tests"
    folder.mkdir()
    (folder / "test_io.py").write_text(LEAK, encoding="utf-8")
    lowered = run_cli("audit", "tests", "--auditors", "privacy", "--format", "json", cwd=tmp_path)
    assert lowered.returncode == 0, lowered.stderr
    kept = run_cli(
        "audit",
        "tests",
        "--auditors",
        "privacy",
        "--format",
        "json",
        "--no-path-policy",
        cwd=tmp_path,
    )
    assert kept.returncode == 1, kept.stderr
