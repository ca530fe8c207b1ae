"""Baselines: matching, staleness, parameters, the file format and its errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeaudit.change.baseline import SCHEMA, Baseline, Entry, config_hash, parameters_for
from codeaudit.config import Config, config_from_mapping
from codeaudit.errors import InputError
from codeaudit.model import Confidence, Finding, Severity, Suggestion


def finding(
    fp: str, *, line: int = 1, rule: str = "CA101", suppressed: str | None = None
) -> Finding:
    return Finding(
        auditor="privacy",
        rule_id=rule,
        rule_name="username-in-path",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        cwe=359,
        line=line,
        end_line=line,
        column=1,
        end_column=None,
        message="m",
        snippet="s",
        evidence={},
        fingerprint=fp,
        suppressed=suppressed,
    )


def entry(path: str, fp: str, line: int = 1, rule: str = "CA101") -> Entry:
    return Entry(
        path=path,
        rule_id=rule,
        rule_name="username-in-path",
        auditor="privacy",
        severity="high",
        fingerprint=fp,
        line=line,
    )


def at(path: str) -> Suggestion:
    return Suggestion(id=path, path=path, completion="")


def test_matching_ignores_lines_but_not_rules(tmp_path):
    (tmp_path / "a.py").write_text("")
    b = Baseline([entry("a.py", "f1", line=40)], root=tmp_path)
    out = b.mark(at("a.py"), [finding("f1", line=3), finding("f1", rule="CA102"), finding("f2")])
    assert [f.suppressed for f in out] == ["baseline", None, None]
    assert b.stale() == []


def test_moves_renames_and_copies(tmp_path):
    (tmp_path / "still.py").write_text("")
    b = Baseline([entry("still.py", "f1"), entry("vanished.py", "f2")], root=tmp_path)
    # The same finding pasted into another file while the original still exists: new.
    assert b.mark(at("copy.py"), [finding("f1")])[0].suppressed is None
    # A file that no longer exists moved somewhere git did not see: its findings follow it.
    assert b.mark(at("moved.py"), [finding("f2")])[0].suppressed == "baseline"
    # A rename git saw binds the entry to the new path only.
    b = Baseline([entry("vanished.py", "f2")], root=tmp_path, renames={"renamed.py": "vanished.py"})
    assert b.mark(at("other.py"), [finding("f2")])[0].suppressed is None
    assert b.mark(at("renamed.py"), [finding("f2")])[0].suppressed == "baseline"


def test_already_suppressed_findings_are_left_alone(tmp_path):
    (tmp_path / "a.py").write_text("")
    b = Baseline([entry("a.py", "f1")], root=tmp_path)
    out = b.mark(at("a.py"), [finding("f1", suppressed="inline")])
    assert out[0].suppressed == "inline" and b.stale() == [b.entries[0]]


def test_stale_is_judged_only_where_the_audit_looked(tmp_path):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("")
    b = Baseline([entry("a.py", "f1"), entry("b.py", "f2"), entry("gone.py", "f3")], root=tmp_path)
    b.mark(at("a.py"), [])
    assert [e.path for e in b.stale(["a.py"])] == ["a.py", "gone.py"]
    assert [e.path for e in b.stale()] == ["a.py", "b.py", "gone.py"]


def test_round_trip_is_byte_identical_and_sorted(tmp_path):
    cfg = Config()
    params = parameters_for(cfg, ["privacy", "security"], ["."])
    b = Baseline.from_findings(
        [
            ("src/z.py", finding("f9", line=7)),
            ("src/a.py", finding("f1", line=2)),
            ("src/a.py", finding("f0", suppressed="inline")),
            ("src/a.py", finding("f5", line=1, suppressed="baseline")),
        ],
        parameters=params,
        root=tmp_path,
    )
    target = tmp_path / ".codeaudit-baseline.json"
    b.write(target)
    data = json.loads(target.read_text())
    assert data["schema"] == SCHEMA
    assert list(data["results"]) == ["src/a.py", "src/z.py"]
    assert [e["fingerprint"] for e in data["results"]["src/a.py"]] == [
        "f5",
        "f1",
    ]  # by line; inline left out
    assert data["parameters"] == params
    again = Baseline.load(target)
    again.write(tmp_path / "second.json")
    assert (tmp_path / "second.json").read_bytes() == target.read_bytes()
    assert [str(e) for e in again.entries][0].startswith(
        "src/a.py:1: CA101 username-in-path [high]"
    )


def test_parameter_warnings(tmp_path):
    cfg = Config()
    b = Baseline(parameters=parameters_for(cfg, ["privacy"], ["."]), source="bl.json")
    assert b.parameter_warnings(cfg, ["privacy"]) == []
    assert "now running privacy, security" in b.parameter_warnings(cfg, ["privacy", "security"])[0]
    other = config_from_mapping({"disable": ["CA101"]})
    assert "different configuration" in b.parameter_warnings(other, ["privacy"])[0]
    # The hook's own policy table does not change what is found.
    hook_only = config_from_mapping({"hook": {"fail_on": "high"}})
    assert config_hash(hook_only, ["privacy"]) == config_hash(cfg, ["privacy"])


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "not valid JSON"),
        ("[]", "not a codeaudit baseline"),
        ('{"schema": "other"}', "not a codeaudit baseline"),
        (f'{{"schema": "{SCHEMA}"}}', "field 'results' must be an object"),
        (
            f'{{"schema": "{SCHEMA}", "results": {{"a.py": {{}}}}}}',
            "results\\['a.py'\\] must be a list",
        ),
        (
            f'{{"schema": "{SCHEMA}", "results": {{"a.py": [{{"rule_id": "CA1"}}]}}}}',
            "\\[0\\]: field 'fingerprint'",
        ),
        (
            f'{{"schema": "{SCHEMA}", "results": {{"a.py": [{{"rule_id": "CA1", "fingerprint": "f", "line": 0}}]}}}}',
            "field 'line'",
        ),
        (f'{{"schema": "{SCHEMA}", "results": {{}}, "parameters": []}}', "field 'parameters'"),
    ],
)
def test_bad_baselines_are_one_line_input_errors(tmp_path, content, message):
    p = tmp_path / "bl.json"
    p.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        Baseline.load(p)
    assert str(p) in str(info.value) and "\n" not in str(info.value)


def test_missing_baseline_says_how_to_make_one(tmp_path):
    with pytest.raises(InputError, match="baseline create"):
        Baseline.load(tmp_path / "none.json")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_loader_never_crashes_on_any_json(tmp_path_factory, value):
    p = tmp_path_factory.mktemp("bl") / "b.json"
    p.write_text(json.dumps({"schema": SCHEMA, "results": value}))
    try:
        Baseline.load(p)
    except InputError:
        pass
