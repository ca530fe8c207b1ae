"""The mask: one format, one keyed hash per secret, whole tokens, every line of a key."""

from __future__ import annotations

import base64
import os
import re
import subprocess

import pytest

from codeaudit import audit
from codeaudit.redact import MASK_RE, Masker, hash_key, mask, secret_hash, set_hash_key


@pytest.fixture(autouse=True)
def _fresh_key(monkeypatch):
    monkeypatch.delenv("CODEAUDIT_HASH_KEY", raising=False)
    set_hash_key(None)
    yield
    set_hash_key(None)


def git(folder, *args):
    subprocess.run(
        ["git", *args],
        cwd=folder,
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        },
    )


def test_the_hash_is_keyed_per_repository(tmp_path):
    """Two repositories give the same password two hashes; two clones of one give the same."""
    keys = []
    for name in ("a", "b"):
        repo = tmp_path / name
        repo.mkdir()
        git(repo, "init", "-q")
        (repo / "f").write_text(name)
        git(repo, "add", "f")
        git(repo, "commit", "-qm", name)
        keys.append(hash_key(repo))
    git(tmp_path, "clone", "-q", str(tmp_path / "a"), str(tmp_path / "a2"))
    assert keys[0] != keys[1]
    assert hash_key(tmp_path / "a2") == keys[0]


def test_a_team_key_changes_every_hash(monkeypatch):
    plain = secret_hash("Winter2023Inventory!")
    monkeypatch.setenv("CODEAUDIT_HASH_KEY", "team-secret")
    set_hash_key(None)
    keyed = secret_hash("Winter2023Inventory!")
    assert plain != keyed and len(keyed) == 16
    # nor is it the plain SHA-256 anyone could compute from a guess
    import hashlib

    assert keyed not in hashlib.sha256(b"Winter2023Inventory!").hexdigest()


def test_whole_tokens_only():
    m = Masker.of_values(["secret_key", "pass"])
    text = "app.secret_key = 'secret_key'; password = pass"
    assert m(text) == f"app.secret_key = '{mask('secret_key')}'; password = {mask('pass')}"


def test_every_line_of_a_private_key_shows_the_keys_mask():
    body = [base64.b64encode(os.urandom(48)).decode() for _ in range(4)]
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END RSA PRIVATE KEY-----"
    completion = f'KEY = """{key}"""\nprint(KEY)\n'
    report = audit(
        [{"id": "k", "completion": completion, "language": "python"}], auditors=["privacy"]
    )
    ((_, f),) = report.findings()
    (token,) = set(MASK_RE.findall(f.message))
    assert (f.rule_id, f.line, f.end_line) == ("CA201", 1, 6)
    shown = f.snippet.splitlines()
    assert len(shown) == 6 and all(token in line for line in shown)
    assert not any(b[:16] in f.snippet for b in body)
    from codeaudit.report._common import code_lines, windows

    (result,) = report.results
    text = code_lines(result, windows(result, result.findings)[0], Masker.of(result))
    assert not any(b[:16] in text for b in body) and text.count(token) >= 5
    assert re.search(r"KEY = \"\"\"\[REDACTED", text)


def test_the_one_walker_masks_cuts_and_finds_strings_at_any_depth():
    from types import MappingProxyType

    from codeaudit.model import any_value, map_strings
    from codeaudit.pipeline import MAX_EVIDENCE, MAX_EVIDENCE_ITEMS, _cut_all, _long, _starred
    from codeaudit.redact import masked

    secret = "tok_" + "9f8e7d6c5b4a" * 2
    evidence = MappingProxyType(
        {"where": ({"value": f"x = '{secret}'"}, 3), 7: [secret, None], "n": 1.5}
    )
    out = masked(evidence, Masker({secret: "<masked>"}))
    assert out == {"where": [{"value": "x = '<masked>'"}, 3], 7: ["<masked>", None], "n": 1.5}
    assert not any_value(out, lambda v: isinstance(v, str) and secret in v)
    assert any_value(evidence, lambda v: isinstance(v, str) and secret in v)

    long = {"lines": tuple(f"l{i}" for i in range(MAX_EVIDENCE_ITEMS + 5)), "s": "y" * 2000}
    assert _long(long) and not _long({"lines": ["a"] * MAX_EVIDENCE_ITEMS, "s": "y"})
    cut = _cut_all(long)
    assert len(cut["lines"]) == MAX_EVIDENCE_ITEMS and cut["lines"][-1] == "l199"
    assert cut["s"].endswith("…") and len(cut["s"]) == MAX_EVIDENCE + 1
    assert _starred({"a": [("x", "ab****")]}) and not _starred({"a": [("x", "ab**")]})
    assert map_strings(("a", ["b"]), str.upper, max_items=1) == ["A"]
