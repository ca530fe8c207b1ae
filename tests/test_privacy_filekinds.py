"""File kinds that are not code, and the misreads of the issue: each read as what it is."""

from __future__ import annotations

import pytest

from codeaudit import audit

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">\n'
    '<path d="M12.45.67.89 L52.14.7.201 C10.20.30.40 1.2.3.4z"/>\n'
    "<!-- exported from /Users/dana/art/logo.ai -->\n</svg>\n"
)


def found(completion, path=None, language=None):
    item = {"id": "x", "completion": completion}
    if path:
        item["path"] = path
    if language:
        item["language"] = language
    report = audit([item], auditors=["privacy"])
    return [(f.rule_id, f.severity.label, f.line) for _, f in report.findings()]


def test_svg_path_data_is_not_ip_addresses_but_metadata_still_counts():
    assert found(SVG, "assets/logo.svg") == [("CA101", "medium", 3)]
    assert found(SVG) == [("CA101", "medium", 3)]  # recognised from the content too


def test_lock_files_and_manifests_hold_versions_not_addresses():
    lock = "types_contextvars-2.4.7.3-py3-none-any.whl 52.14.7.201\n"
    assert found(lock, "poetry.lock") == []
    assert found('"resolved": "https://registry.acme.io/a/-/a-10.2.3.4.tgz"\n') == []


def test_minified_bundles_keep_only_credentials():
    line = "var a=" + ",".join(f'"{i}.{i % 7}.3.{i % 9}"' for i in range(1500)) + ";\n"
    assert found(line, "static/app.min.js") == []
    url = "var u='postgres://svc:Vq8Lm2xPz41w@db.acme-shop.net/app';\n"
    assert [r for r, *_ in found(line + url, "static/app.min.js")] == ["CA102"]


def test_licence_texts_report_no_personal_data():
    text = "Copyright (c) 2019 Jane Roe <jane.roe@university.edu>\nPermission is hereby granted\n"
    assert found(text, "LICENSE.txt") == []
    assert found(text, "src/module.py")  # the same header in code is still an address


@pytest.mark.parametrize(
    "line",
    [
        "x = 'http://localhost@other.com/'",  # not an ssh login
        "h = 'db.app.localdomain'",
        "# see ~Unity/targets/build.sh",
        "home = '/data/data/com.app/files/../home/u0_a123/x'",
        "p = '/Users/Copy/Documents/x'",
        "# C++17 20.19.3.7 says so",
        "msg = 'Error 1234567890:thisisjustasentencewithoutanydigitsatall'",
    ],
)
def test_misreads_are_gone(line):
    assert [r for r in found(line + "\n", language="python") if r[1] != "low"] == [], line


def test_url_user_info_is_one_credential_finding():
    assert [r for r, *_ in found("u = 'https://u:Vq8Lm2xPz41w@some.host/'\n")] == ["CA102"]


def test_home_with_a_space_names_the_whole_account():
    report = audit(
        [{"id": "x", "completion": "p = '/Users/John Smith/Documents/a.txt'\n"}],
        auditors=["privacy"],
    )
    assert [f.evidence["username"] for _, f in report.findings()] == ["John Smith"]


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        ("app.use(session({ secret: 'keyboard cat' }))", "low"),
        ("DATABASES = {'default': {'PASSWORD': 'a_password'}}", "low"),
        ("db_password = 'Tr1cky-Pa55word'", "medium"),
        ("# write to python-dev@python.org", "low"),
        ("# write to jane.roe@university.edu", "medium"),
    ],
)
def test_stand_ins_and_role_addresses_are_low(line, severity):
    assert {s for _, s, _ in found(line + "\n", language="python")} == {severity}


def test_found_on_real_code():
    """Misreads seen on real packages: a keyword argument is no connection string, a password
    made of words is a stand-in, 1.2.3.4 is an example, authors in package metadata are low."""
    kwarg = "h = self._auth(username=auth_info[0], password=auth_info[2])"
    assert found(kwarg + "\n", language="python") == []
    url = 'url = httpx.URL("https://jo%40email.com:a%20secret@m.acme-shop.de:1234/")'
    assert {s for _, s, _ in found(url + "\n", language="python")} == {"low"}
    assert found('remote_addr="1.2.3.4"\n', language="python") == []
    meta = 'authors = [{name = "Jane Roe", email = "jane.roe@university.edu"}]\n'
    assert found(meta, "pyproject.toml") == [("CA104", "low", 1)]
