"""Grading: pattern findings lowered where the code around them shows no harm (grading.py).

Every case runs the real security auditor (bandit, tree-sitter, the rule packs) on a small piece
of code, once as a fragment (no path: a suggestion of unknown origin) and once as a repository
file (a path, path policy on).
"""

from __future__ import annotations

import pytest

from codeaudit.auditors.security.auditor import SecurityAuditor
from codeaudit.config import Config
from codeaudit.model import Severity, Suggestion


@pytest.fixture(scope="module")
def auditor():
    return SecurityAuditor()


def _severities(auditor, code: str, language: str, rule: str, path: str | None = None):
    s = Suggestion(id="g", completion=code, language=language, path=path)
    out = auditor.audit_one(s)
    return [
        (f.line, f.severity, f.evidence.get("grade")) for f in out.findings if f.rule_id == rule
    ]


# (language, code, rule, flagged line) — each flagged at its rule's severity as a fragment and
# as a file, since the code shows nothing that makes it harmless
STILL_REPORTED = [
    ("c", "void f(char *d, const char *s) {\n    strcpy(d, s);\n}\n", "CA4101", 2),
    ("c", 'void f(char *d, const char *s) {\n    sprintf(d, "%s/x", s);\n}\n', "CA4103", 2),
    ("python", "import os\ndef f(name):\n    os.system(f'more {name}')\n", "B605", 3),
    (
        "python",
        "import hashlib\ndef store(password):\n    return hashlib.md5(password.encode()).hexdigest()\n",
        "B324",
        3,
    ),
    (
        "csharp",
        "class A { void F(string id) {\n  var c = new SqlCommand(String.Format(\"SELECT a FROM t WHERE n = '{0}'\", id), conn);\n} }\n",
        "CA4305",
        2,
    ),
    ("csharp", 'class A { const string DbPassword = "Tr0ub4dor&3x"; }\n', "CA4317", 1),
    # a format whose text this code does not show
    ("c", "void f(char *b, const char *s) {\n    sprintf(b, FMT, s);\n}\n", "CA4103", 2),
]


@pytest.mark.parametrize("language,code,rule,line", STILL_REPORTED)
def test_risky_constructs_keep_their_severity(auditor, language, code, rule, line):
    for path in (None, f"src/x.{ {'c': 'c', 'python': 'py', 'csharp': 'cs'}[language] }"):
        got = _severities(auditor, code, language, rule, path)
        assert got and got[0][0] == line, (path, got)
        assert got[0][1] >= Severity.MEDIUM and got[0][2] is None, (path, got)


# lowered everywhere: the code itself shows the value cannot do harm
LOWERED_EVERYWHERE = [
    ("c", 'void f(char *out) {\n    strcpy(out, "null");\n}\n', "CA4101", "constant data"),
    (
        "c",
        "void f(char **d, const char *s) {\n    *d = malloc(strlen(s) + 1);\n    strcpy(*d, s);\n}\n",
        "CA4101",
        "sized for it",
    ),
    ("c", "#define DISPLAY(...) fprintf(stderr, __VA_ARGS__)\n", "CA4106", "macro"),
    (
        "c",
        '#define TEMPLATE "id%03d"\nvoid f(char *b, int n) {\n    sprintf(b, TEMPLATE, n);\n}\n',
        "CA4103",
        "only numbers",
    ),
    ("javascript", "var root = Function('return this')();\n", "CA4501", "constant data"),
    (
        "python",
        "import hashlib\ndef cache_key(name):\n    return hashlib.sha1(name.encode()).hexdigest()\n",
        "B324",
        "naming",
    ),
    (
        "csharp",
        'class A { private const string ElemPassword = "password"; }\n',
        "CA4317",
        "names a field",
    ),
]


@pytest.mark.parametrize("language,code,rule,why", LOWERED_EVERYWHERE)
def test_harmless_where_it_stands_is_low_with_the_reason(auditor, language, code, rule, why):
    for path in (None, "src/x"):
        got = _severities(auditor, code, language, rule, path)
        assert got, (path, rule)
        assert got[0][1] == Severity.LOW and why in got[0][2], (path, got)


def test_repository_files_need_outside_input_or_a_splice(auditor):
    code = "import os\ndef page(cmd):\n    return os.system(cmd)\n"
    fragment = _severities(auditor, code, "python", "B605")
    as_file = _severities(auditor, code, "python", "B605", "src/pager.py")
    assert fragment[0][1] >= Severity.MEDIUM and fragment[0][2] is None
    assert as_file[0][1] == Severity.LOW and "no outside input" in as_file[0][2]
    # outside input reaching the call keeps it, file or not
    code = "import os, sys\nos.system('ls ' + sys.argv[1])\n"
    assert _severities(auditor, code, "python", "B605", "src/run.py")[0][1] >= Severity.MEDIUM
    # switching the path policy off reads files as fragments
    off = SecurityAuditor(Config(options={"paths": {"enabled": False}}))
    assert (
        _severities(
            off,
            "import os\ndef page(cmd):\n    return os.system(cmd)\n",
            "python",
            "B605",
            "src/pager.py",
        )[0][1]
        >= Severity.MEDIUM
    )


def test_queries_splicing_only_identifiers_are_lowered_in_files(auditor):
    code = (
        "class A { void F() {\n"
        '  var c = new SqliteCommand(String.Format("SELECT a FROM {0} WHERE id = ?", Table), conn);\n'
        "} }\n"
    )
    assert _severities(auditor, code, "csharp", "CA4305")[0][1] >= Severity.MEDIUM
    got = _severities(auditor, code, "csharp", "CA4305", "Data/Cache.cs")
    assert got[0][1] == Severity.LOW


def test_weak_hash_without_a_purpose_is_lowered_only_in_files(auditor):
    code = "import hashlib\ndef f(data):\n    return hashlib.md5(data).digest()\n"
    assert _severities(auditor, code, "python", "B324")[0][1] >= Severity.MEDIUM
    assert _severities(auditor, code, "python", "B324", "lib/f.py")[0][1] == Severity.LOW


def test_schema_statements_and_bound_queries_in_verbatim_strings(auditor):
    code = (
        "class A { void F() {\n"
        '  db.Execute(String.Format(@"\n'
        "    SELECT {0} FROM {1} WHERE ModelID = ?\n"
        '  ", Cols, Table), id);\n'
        '  db.Execute(String.Format("CREATE INDEX {0} ON {1}({2})", Index, Table, Column));\n'
        "} }\n"
    )
    got = _severities(auditor, code, "csharp", "CA4305", "Data/Provider.cs")
    assert [g[1] for g in got] == [Severity.LOW, Severity.LOW], got
