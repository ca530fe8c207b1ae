"""detect-secrets in process: same findings as its own scan, gates that never drop one, masking.

The comparisons run detect-secrets itself (``SecretsCollection.scan_file`` with its default
settings, in this process) on the same texts written to temporary files. Fake secrets are random
strings in each plug-in's format, generated at run time (benchmarks/privacy_corpus.py).
"""

from __future__ import annotations

import configparser
import json
import random
import re
import sys

import pytest
from helpers.bench import bench_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeaudit import audit
from codeaudit.auditors.privacy import gates as G
from codeaudit.auditors.privacy import secrets as S
from codeaudit.auditors.privacy.auditor import PrivacyAuditor
from codeaudit.model import Suggestion

_corpus = bench_module("privacy_corpus")
SECRET_MAKERS, build_batch = _corpus.SECRET_MAKERS, _corpus.build_batch


@pytest.fixture(scope="module")
def scanner():
    return S.SecretScanner()


def detect_secrets_scan(tmp_path, items):
    """detect-secrets' own in-process scan of each item written to a file: {id: {(line, type)}}."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    paths = {}
    for item in items:
        path = tmp_path / (item["id"] + "." + item["path"].rsplit(".", 1)[-1])
        path.write_text(item["completion"], encoding="utf-8", newline="")
        paths[str(path)] = item["id"]
    with default_settings():
        collection = SecretsCollection()
        for path in paths:
            collection.scan_file(path)
    return {
        paths[f]: {(s.line_number, s.type) for s in found} for f, found in collection.data.items()
    }


def one_of_each(seed: int) -> list[dict]:
    """Every fake-secret format once, in a few languages and positions."""
    rng = random.Random(seed)
    out = []
    for n, (kind, make) in enumerate(SECRET_MAKERS):
        for ext, wrap in (
            (".py", "{}"),
            (".js", "const x = 1;\n{}\n"),
            (".yaml", "app:\n  k: v\n# {}\n"),
            (".sh", "set -e\n{}\n"),
        ):
            body = wrap.format(make(rng))
            out.append(
                {
                    "id": f"k{n:02d}{ext[1:]}",
                    "path": "x" + ext,
                    "language": None,
                    "completion": "x = 1\n" + body + "\n",
                }
            )
    return out


def compare(items, outcomes, theirs):
    missing = []
    for item, outcome in zip(items, outcomes):
        ours = {(f.line, t) for f in outcome.findings for t in f.evidence.get("secret_types", ())}
        ours |= {(e["line"], e["secret_type"]) for e in outcome.data.get("excluded_reports", [])}
        missing += [(item["id"], x) for x in sorted(theirs.get(item["id"], set()) - ours)]
    return missing


@pytest.mark.parametrize("seed", [1, 2])
def test_every_secret_detect_secrets_finds_we_find(tmp_path, seed):
    items = one_of_each(seed) + build_batch(60, seed=seed, leak_fraction=0.8)
    theirs = detect_secrets_scan(tmp_path, items)
    auditor = PrivacyAuditor()
    outcomes = auditor.audit_batch(
        [Suggestion(id=i["id"], completion=i["completion"], path=i["path"]) for i in items]
    )
    assert compare(items, outcomes, theirs) == []
    kinds = {t for found in theirs.values() for _, t in found}
    assert len(kinds) >= 20, kinds  # the comparison covers most plug-ins


def test_ip_reports_left_out_are_listed_with_a_reason(tmp_path):
    code = 'bind = "0.0.0.0"\nmask = "255.255.255.0"\nserver = "52.14.7.201"\n'
    items = [{"id": "v", "path": "x.py", "completion": code}]
    theirs = detect_secrets_scan(tmp_path, items)
    (outcome,) = PrivacyAuditor().audit_batch([Suggestion(id="v", completion=code, path="x.py")])
    assert [(f.rule_id, f.line) for f in outcome.findings] == [("CA105", 3)]
    left_out = {(e["line"], e["ip"]): e["reason"] for e in outcome.data.get("excluded_reports", [])}
    assert all(line < 3 for line, _ in left_out) and all(left_out.values())
    assert {(line, t) for line, t in theirs.get("v", ()) if line < 3} == {
        (line, "Public IP (ipv4)") for line, _ in left_out
    }
    assert compare(items, [outcome], theirs) == []


# --- the gates ------------------------------------------------------------------------------------------


def test_required_literals():
    needs, ci = G.required_literals(re.compile(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}"))
    # sre factors the common "A" out of the alternatives; the gate keeps both requirements.
    assert (
        not ci and {"BIA", "CCA", "KIA", "SIA"} <= set().union(*needs) and frozenset({"A"}) in needs
    )
    needs, ci = G.required_literals(re.compile(r"(?i)password\s*=\s*(['\"])(\w+)\1"))
    assert ci and frozenset({"password"}) in needs
    assert G.required_literals(re.compile(r"[a-z]+\d*")) == ((), False)
    needs, _ = G.required_literals(re.compile(r"x(?:ab|cd)?y"))
    assert all("" not in n for n in needs)


def test_whole_text_safety():
    assert G.whole_text_safe(re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])"))
    assert not G.whole_text_safe(re.compile(r"key(?!\s)"))
    assert not G.whole_text_safe(re.compile(r"\Akey"))
    assert not G.whole_text_safe(re.compile(r"a(?![^x])"))


LINES = st.one_of(
    st.text(max_size=120),
    st.builds(
        lambda k, r, cut, junk: _mutate(
            SECRET_MAKERS[k % len(SECRET_MAKERS)][1](random.Random(r)), cut, junk
        ),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.integers(0, 200),
        st.text(max_size=6),
    ),
)


def _mutate(line: str, cut: int, junk: str) -> str:
    at = cut % (len(line) + 1)
    return line[:at] + junk + line[at:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(LINES, min_size=1, max_size=4),
    filename=st.sampled_from(["x.py", "x.go", "x.yaml", "x.c", "x.txt", "x.ini", "x.cs", "x"]),
)
def test_a_gate_never_closes_on_a_line_its_plugin_matches(scanner, lines, filename):
    lines = [line.replace("\n", " ").replace("\r", " ").rstrip() for line in lines]
    text = G._Text(lines)
    for plugin, gate in scanner.plugins:
        chosen = set(gate.lines(text))
        for index, line in enumerate(lines):
            if plugin.analyze_line(filename=filename, line=line, line_number=index + 1):
                assert index in chosen, (type(plugin).__name__, index, lines)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "[s]",
                    "[global]",
                    "a = 1",
                    "b: 2",
                    "  cont",
                    "# c",
                    "; c",
                    "",
                    "word",
                    "x=",
                    "=y",
                    ":z",
                    "[x",
                    "k = v = w",
                    "\t",
                    "[ ]",
                ]
            ),
            st.text(max_size=12),
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_ini_precheck_only_claims_failures_configparser_confirms(lines, with_header):
    raw = [line.replace("\n", "") + "\n" for line in lines]
    if not S._ini_must_fail(raw, with_header):
        return
    parser = configparser.ConfigParser()
    content = ("[global]\n" if with_header else "") + "".join(raw)
    try:
        parser.read_string(content)
    except configparser.Error:
        return
    assert not with_header and not parser.sections(), (
        raw,
        with_header,
    )  # parsed, but had no section: still rejected


def test_gates_are_cached_on_disk_and_a_bad_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEAUDIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(G, "_GATES", {})
    first = S.SecretScanner().plugins
    cache = tmp_path / "secret-gates.json"
    stored = json.loads(cache.read_text())
    assert len(stored) == len(first)
    monkeypatch.setattr(G, "_GATES", {})
    again = S.SecretScanner().plugins
    assert [g for _, g in again] == [g for _, g in first]
    cache.write_text("{not json")
    monkeypatch.setattr(G, "_GATES", {})
    assert len(S.SecretScanner().plugins) == len(first)


def test_scanner_reports_every_occurrence_and_the_whole_token(scanner):
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    found = scanner.scan(f"a = '{token}'\nb = '{token}'\n", "x.py")
    assert [
        (s.line, s.secret_type, s.value, s.match) for s in found if s.secret_type == "GitHub Token"
    ] == [(1, "GitHub Token", "ghp", token), (2, "GitHub Token", "ghp", token)]


def test_detect_secrets_is_imported_only_when_needed():
    import subprocess

    code = "import sys, codeaudit.auditors.privacy.auditor as p; p.PrivacyAuditor(); print('detect_secrets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("fmt", ["json", "sarif", "table", "html"])
def test_masked_in_every_output_format(fmt):
    import io

    from codeaudit.report import render

    token = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    code = f"stripe.api_key = '{token}'  # copied from /home/alice/{token}.txt\n"
    report = audit([{"id": "m", "completion": code, "language": "python"}], auditors=["privacy"])
    assert {f.rule_id for _, f in report.findings()} >= {"CA101", "CA203"}
    stream = io.StringIO()
    render(report, fmt, stream)
    assert token not in stream.getvalue() and token[8:] not in stream.getvalue()


def test_detect_secrets_loads_without_requests_until_verification_needs_it():
    # detect-secrets imports requests only for network verification, which codeaudit never runs;
    # codeaudit defers it (~60 ms of every cold hook run). Checked in a fresh interpreter.
    import subprocess
    import sys

    code = (
        "import sys, codeaudit\n"
        "r = codeaudit.audit([{'id': 'a', 'completion': \"k = 'AKIAIOSFODNN7EXAMPLE'\\n\"}], auditors=['privacy'])\n"
        "assert [f.rule_id for _, f in r.findings()] == ['CA202'], r.to_json()\n"
        "assert 'requests' not in sys.modules\n"
        "import detect_secrets.plugins.base as base\n"
        "import requests\n"
        "assert base.requests.exceptions.RequestException is requests.exceptions.RequestException\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
