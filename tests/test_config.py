"""Configuration: discovery of ``[tool.codeaudit]`` / ``.codeaudit.toml``, what each key does, and
bad files (exit 2 with a message naming the file and the key)."""

from __future__ import annotations

import json
import re

import pytest

from codeaudit import Auditor, Confidence, Outcome, Rule, Severity, Suggestion, audit
from codeaudit.config import Config, config_from_mapping, find_config, load_config
from codeaudit.errors import ConfigError

LEAK = "DATA = '/home/mkowalski/data/customers.csv'\n"


def write_batch(folder):
    path = folder / "batch.jsonl"
    path.write_text(json.dumps({"id": "leak", "completion": LEAK, "language": "python"}) + "\n")
    return path


# -- discovery ---------------------------------------------------------------------------------
def test_pyproject_table_found_from_a_subfolder(run_cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.codeaudit]\nfail_on = "critical"\nauditors = ["privacy"]\n'
    )
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    batch = write_batch(sub)
    proc = run_cli("audit", str(batch), cwd=sub)
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert report["tool"]["config"].endswith("pyproject.toml") and list(
        report["tool"]["auditors"]
    ) == ["privacy"]


def test_codeaudit_toml_wins_over_pyproject_in_the_same_folder(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.codeaudit]\nfail_on = "critical"\n')
    (tmp_path / ".codeaudit.toml").write_text('fail_on = "low"\n')
    assert find_config(tmp_path) == tmp_path / ".codeaudit.toml"
    assert load_config(search_from=tmp_path).fail_on is Severity.LOW


def test_codeaudit_toml_also_takes_the_tool_table_form(tmp_path):
    (tmp_path / ".codeaudit.toml").write_text(
        '[tool.codeaudit]\nfail_on = "high"\n[tool.codeaudit.severity]\nCA101 = "low"\n'
    )
    config = load_config(search_from=tmp_path)
    assert config.fail_on is Severity.HIGH and config.severity == {"CA101": Severity.LOW}


def test_pyproject_without_the_table_is_skipped_and_search_stops_at_the_repository_root(tmp_path):
    (tmp_path / ".codeaudit.toml").write_text('fail_on = "info"\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(repo) is None  # the file above the repository is not this project's
    assert load_config(search_from=repo) == Config()
    assert find_config(tmp_path) == tmp_path / ".codeaudit.toml"


def test_config_option_beats_discovery(run_cli, tmp_path):
    (tmp_path / ".codeaudit.toml").write_text('fail_on = "critical"\nauditors = ["privacy"]\n')
    other = tmp_path / "ci.toml"
    other.write_text('fail_on = "low"\nauditors = ["privacy"]\n')
    batch = write_batch(tmp_path)
    assert run_cli("audit", str(batch)).returncode == 0
    assert run_cli("audit", str(batch), "--config", str(other)).returncode == 1


# -- what the keys do (API, with a plug-in auditor written here) -------------------------------
class Tagger(Auditor):
    """Flags ``key=value`` pairs, putting ``value`` into the evidence under ``key``."""

    name = "privacy"

    @classmethod
    def rules(cls):
        return [
            Rule(
                id="CA991",
                name="tagged-value",
                auditor="privacy",
                title="tagged",
                severity=Severity.HIGH,
                confidence=Confidence.HIGH,
                cwe=359,
                description="d",
                fix="f",
            )
        ]

    def audit_batch(self, batch, progress=None):
        out = []
        for s in batch:
            o = Outcome()
            for n, text in enumerate(s.completion.splitlines(), 1):
                for m in re.finditer(r"(\w+)=(\S+)", text):
                    o.findings.append(
                        self.finding(
                            s,
                            "CA991",
                            line=n,
                            column=m.start() + 1,
                            evidence={m.group(1): m.group(2)},
                            identity=m.group(0),
                        )
                    )
            out.append(o)
        return out


def run(code, **table):
    config = config_from_mapping(table, source="test.toml")
    (result,) = audit(
        [Suggestion(id="s", completion=code)], config, auditors=[Tagger(config)]
    ).results
    return result


def test_severity_overrides_by_id_and_by_name():
    assert run("username=ann").findings[0].severity is Severity.HIGH
    assert run("username=ann", severity={"CA991": "low"}).findings[0].severity is Severity.LOW
    result = run("username=ann", severity={"tagged-value": "info"}, fail_on="low")
    assert result.findings[0].severity is Severity.INFO and result.verdict.value == "warn"


@pytest.mark.parametrize("name", ["CA991", "tagged-value"])
def test_disable_by_id_or_name(name):
    assert run("username=ann", disable=[name]).findings == ()


@pytest.mark.parametrize(
    ("code", "allowlist", "suppressed"),
    [
        ("username=builder", {"usernames": ["builder"]}, True),
        ("username=Builder", {"usernames": ["build*"]}, True),  # wildcards, case-insensitive
        ("username=ann", {"usernames": ["builder"]}, False),
        ("email=ops@corp.example", {"emails": ["*@corp.example"]}, True),
        ("host=db1.corp.internal", {"hosts": ["*.corp.internal"]}, True),
        ("path=/srv/ci/agent7/x", {"paths": [r"^/srv/ci/[^/]+/"]}, True),
        ("token=abc123", {"patterns": [r"token=abc"]}, True),
    ],
)
def test_allowlists_keep_findings_but_mark_them(code, allowlist, suppressed):
    result = run(code, allowlist=allowlist)
    (finding,) = result.findings
    assert (finding.suppressed == "allowlist") is suppressed
    assert result.verdict.value == ("pass" if suppressed else "fail")


def test_allowlist_from_pyproject_through_the_cli(run_cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.codeaudit]\nauditors = ["privacy"]\n[tool.codeaudit.allowlist]\nusernames = ["mkowalski"]\n'
    )
    proc = run_cli("audit", str(write_batch(tmp_path)))
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert report["summary"]["suppressed"] == {"allowlist": 1}
    assert report["results"][0]["findings"][0]["suppressed"] == "allowlist"


# -- bad configuration -------------------------------------------------------------------------
BAD = [
    ('colour = "red"\n', "unknown key 'colour'"),
    ('fail_on = "severe"\n', ".fail_on: 'severe' is not a severity"),
    ('[severity]\nCA101 = "urgent"\n', ".severity.CA101: 'urgent' is not a severity"),
    ("disable = 3\n", ".disable must be a list of strings"),
    ('auditors = ["privacy", "licences"]\n', ".auditors: unknown auditor 'licences'"),
    ("max_completion_bytes = -1\n", ".max_completion_bytes must be a positive integer"),
    ('[allowlist]\nnames = ["x"]\n', ".allowlist: unknown key 'names'"),
    ('[allowlist]\npatterns = ["(unclosed"]\n', ".allowlist.patterns: bad regular expression"),
    ("privacy = 1\n", ".privacy must be a table"),
    (
        "[privacy]\nno_such_option = true\n",
        "[tool.codeaudit.privacy]: unknown key 'no_such_option'",
    ),
    ("fail_on = \n", "invalid TOML"),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_configuration_exits_2_naming_file_and_key(run_cli, tmp_path, text, expected):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    proc = run_cli(
        "audit", str(write_batch(tmp_path)), "--auditors", "privacy", "--config", str(cfg)
    )
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    (message,) = err.strip().splitlines()
    assert message.startswith(f"codeaudit: error: {cfg}") and expected in message, message
    assert proc.stdout == b""


def test_bad_discovered_pyproject_is_reported_too(run_cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.codeaudit]\nfail_on = "sometimes"\n')
    proc = run_cli("audit", str(write_batch(tmp_path)))
    assert proc.returncode == 2
    assert f"{tmp_path / 'pyproject.toml'}: [tool.codeaudit].fail_on" in proc.stderr.decode()


def test_config_errors_from_the_api_are_config_errors():
    with pytest.raises(ConfigError, match=r"x.toml: \[tool.codeaudit\]: unknown key 'fail-on'"):
        config_from_mapping({"fail-on": "high"}, source="x.toml")


def test_a_secret_shaped_config_value_is_not_echoed():
    secret = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"max_completion_bytes": secret}, source="x.toml")
    message = str(caught.value)
    assert "max_completion_bytes must be a positive integer" in message
    assert secret[:10] not in message and "a string of 32 characters (not shown)" in message
    with pytest.raises(ConfigError, match=r"must be a positive integer, not -3$"):
        config_from_mapping({"max_completion_bytes": -3}, source="x.toml")
