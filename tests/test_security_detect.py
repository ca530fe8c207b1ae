"""Content-based language detection (codeaudit.languages.detect) on code fragments.

Suggestions often come without ``language`` or ``path``; the security auditor then relies on
detection to pick bandit or a rule pack. Measured on the labelled fragments of
tests/data/security/ and on windows of real code read at run time from the installed
interpreter and packages.
"""

from __future__ import annotations

import random
import sysconfig
from collections import Counter
from pathlib import Path

import pytest
from test_security_samples import LANGUAGES, load_samples

from codeaudit.languages import detect


def _accepted(truth: str, got: str | None) -> bool:
    # TypeScript is JavaScript with types: a TS answer for JS code (or the reverse) picks the
    # same rule pack.
    return got == truth or {truth, got} == {"javascript", "typescript"}


def test_detection_on_labelled_fragments():
    per: dict[str, Counter] = {lang: Counter() for lang in LANGUAGES}
    for s in load_samples():
        per[s.language][_accepted(s.language, detect(s.completion))] += 1
    total = sum(c[True] for c in per.values()) / sum(sum(c.values()) for c in per.values())
    rates = {lang: c[True] / sum(c.values()) for lang, c in per.items()}
    print(
        "\n"
        + "  ".join(f"{lang} {rate:.0%}" for lang, rate in rates.items())
        + f"  overall {total:.1%}"
    )
    assert total >= 0.90, rates
    assert min(rates.values()) >= 0.80, rates


def _windows(paths: list[Path], size: int = 20, limit: int = 200) -> list[str]:
    rng = random.Random(7)
    chunks = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for i in range(0, len(lines), size):
            chunk = "\n".join(lines[i : i + size])
            # windows that are mostly comments or blank say nothing about their language
            code = [
                ln
                for ln in chunk.splitlines()
                if ln.strip() and not ln.lstrip().startswith(("#", "//", "*", "/*"))
            ]
            if len(code) >= 8:
                chunks.append(chunk)
    rng.shuffle(chunks)
    return chunks[:limit]


def test_detection_on_real_python_from_the_standard_library():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    chunks = _windows(sorted(stdlib.glob("*.py")))
    assert len(chunks) >= 150
    hits = sum(detect(c) == "python" for c in chunks)
    print(f"\nstandard-library windows detected as Python: {hits}/{len(chunks)}")
    assert hits / len(chunks) >= 0.90, f"{hits}/{len(chunks)}"


def test_detection_on_real_cpp_from_installed_packages():
    """pyarrow (a test dependency) ships its C++ sources."""
    import pyarrow

    sources = sorted(Path(pyarrow.__file__).parent.glob("src/**/*.cc"))
    chunks = _windows(sources)
    assert len(chunks) >= 100, "pyarrow's C++ sources were not found"
    got = Counter(detect(c) for c in chunks)
    print(f"\npyarrow C++ windows: {got.most_common(6)} of {len(chunks)}")
    # C is an acceptable answer for C-style C++ (the C pack serves both)
    assert (got["cpp"] + got["c"]) / len(chunks) >= 0.75, got.most_common(6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$id = $_GET['id'];\n$row = $db->query(\"SELECT * FROM t WHERE id = $id\");\n", "php"),
        (
            "export function f(a: number, b: string): boolean {\n  return a > 0 && b !== '';\n}\n",
            "typescript",
        ),
        (
            "public IActionResult Index()\n{\n    var items = _db.Items.ToList();\n    return View(items);\n}\n",
            "csharp",
        ),
        (
            "public List<String> names() throws IOException {\n    return Files.readAllLines(path);\n}\n",
            "java",
        ),
        (
            'fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!("{:?}", v);\n}\n',
            "rust",
        ),
        ("func main() {\n\tif err := run(); err != nil {\n\t\tlog.Fatal(err)\n\t}\n}\n", "go"),
        ("#!/usr/bin/env python3\nprint('hi')\n", "python"),
        # autotools and wrapper scripts: the interpreter is the path's last part, not `bin`
        ('#!/bin/sh\nexec_prefix=`echo $1 | sed "s/.*=//"`; exec "$@"\n', "shell"),
        ("#! /bin/bash\nset -e\n$(command -v php) -r 'echo 1;'\n", "shell"),
        ("#!/usr/local/bin/python3.12\nimport os\n", "python"),
    ],
)
def test_typical_fragments(text, expected):
    assert detect(text) == expected


def test_path_wins_over_content():
    assert detect("def f():\n    return 1\n", path="src/tool.rb") == "ruby"


def test_plain_prose_is_not_code():
    assert detect("Thanks for the review, I will update the pull request tomorrow.") in (
        None,
        "text",
        "markdown",
    )
