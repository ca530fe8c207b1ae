"""Licence texts are not copied code; a licence header inside copied code stays part of the copy.

Everything is read at run time: the corpus is the standard library's ``optparse`` (which holds a
BSD licence block in ``__copyright__``), the licence files are those shipped by installed packages
(``*.dist-info/licenses/`` or ``LICENSE*`` in ``*.dist-info``); nothing licence-like is committed.
"""

from __future__ import annotations

import optparse
import sysconfig
from pathlib import Path

import pytest

from codeaudit import Config, audit
from codeaudit.corpus.build import build_index
from codeaudit.corpus.licenses import UNKNOWN, classify_text, is_notice_file, license_blocks
from codeaudit.corpus.sources import FolderSource

OPTPARSE = Path(optparse.__file__)
SITE = Path(sysconfig.get_paths()["purelib"])


def _installed_license_files(spdx_prefix: str) -> list[Path]:
    found = []
    for dist in sorted(SITE.glob("*.dist-info")):
        for p in sorted([*dist.glob("licenses/**/*"), *dist.glob("LICEN[CS]E*")]):
            if not p.is_file() or p.stat().st_size > 100_000:
                continue
            text = p.read_text("utf-8", "replace")
            if classify_text(text).startswith(spdx_prefix):
                found.append(p)
    return found


BSD = _installed_license_files("BSD-")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("lic")
    src = root / "Lib"
    src.mkdir()
    (src / "optparse.py").write_bytes(OPTPARSE.read_bytes())
    out = root / "optparse.idx"
    build_index([FolderSource(str(src), repo="cpython/Lib", license="PSF-2.0")], out)
    return out


def _findings(corpus, completion, path=None):
    s = {"id": "s", "completion": completion}
    if path:
        s["path"] = path
    config = Config(options={"memorization": {"corpora": [str(corpus)]}})
    report = audit([s], config, auditors=["memorization"])
    assert not report.results[0].errors
    return [f for _, f in report.findings()]


def _optparse_lines():
    lines = OPTPARSE.read_text("utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("__copyright__"))
    return lines, first


def test_installed_bsd_licence_files_are_not_copies_of_the_stdlib_block(corpus):
    assert len(BSD) >= 2, "no BSD licence files among the installed packages"
    for p in BSD:
        text = p.read_text("utf-8")
        # Under a name that says nothing (as in a batch without paths) and under its own name.
        assert _findings(corpus, text) == [], p
        assert _findings(corpus, text, path=f"pkg/{p.name}") == [], p


def test_the_stdlib_licence_block_itself_is_not_reported(corpus):
    lines, first = _optparse_lines()
    end = next(i for i in range(first + 1, len(lines)) if lines[i].startswith('"""'))
    block = "".join(lines[first : end + 1])
    assert license_blocks(block), "the block is recognised as a licence"
    assert _findings(corpus, block) == []


def test_a_copy_with_its_licence_header_is_reported_and_names_its_licence(corpus):
    lines, first = _optparse_lines()
    copy = "".join(lines[first : first + 120])  # the licence block, then code
    (f,) = _findings(corpus, copy)
    assert f.rule_id == "CA301"
    assert f.evidence["source"]["license"] == "PSF-2.0"
    assert f.evidence["source"]["path"].endswith("optparse.py")
    assert f.line == 1  # the licence header is part of the reported copy
    assert f.end_line > 40


def test_code_after_a_licence_is_still_a_copy_without_the_licence(corpus):
    lines, first = _optparse_lines()
    end = next(i for i in range(first + 1, len(lines)) if lines[i].startswith('"""'))
    code = "".join(lines[end + 1 : end + 90])
    assert len(_findings(corpus, code)) == 1


def test_licence_and_notice_file_names():
    for name in ("LICENSE", "LICENSE.txt", "COPYING", "licenses/NOTICE", "NOTICE.md", "PATENTS"):
        assert is_notice_file(name), name
    for name in ("license.py", "notice.js", "src/notices.go", "main.py", "noticeboard.txt"):
        assert not is_notice_file(name), name


def test_prose_that_mentions_a_licence_is_no_licence_block():
    text = "# This module reads licence files.\n# See the docs for details.\n\nx = 1\n"
    assert classify_text(text) == UNKNOWN
    assert license_blocks(text) == []
