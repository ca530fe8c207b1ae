"""The security auditor: bandit in process, pattern packs over tree-sitter views, context,
fragments and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeaudit import audit
from codeaudit.auditors.security.auditor import SecurityAuditor, redact
from codeaudit.model import Confidence, Severity, Suggestion


@pytest.fixture(scope="module")
def auditor():
    return SecurityAuditor()


def one(auditor, completion, language, **kw):
    (outcome,) = auditor.audit_batch(
        [Suggestion(id="s", completion=completion, language=language, **kw)]
    )
    return outcome


# --- bandit ---------------------------------------------------------------------------------------


def test_bandit_result_becomes_a_finding_with_its_id_severity_confidence_and_cwe(auditor):
    out = one(
        auditor,
        "import subprocess\n\ndef run(cmd):\n    subprocess.Popen(cmd, shell=True)\n",
        "python",
    )
    (f,) = [f for f in out.findings if f.rule_id == "B602"]
    assert f.rule_name == "subprocess-popen-with-shell-equals-true"
    assert (f.severity, f.confidence, f.cwe, f.line, f.column) == (
        Severity.HIGH,
        Confidence.HIGH,
        78,
        4,
        5,
    )
    assert f.auditor == "security" and "shell" in f.message.lower()
    assert f.snippet.strip() == "subprocess.Popen(cmd, shell=True)"


def test_rule_lookup_works_although_rules_load_lazily(auditor):
    assert auditor.rule("CA4101").name == "c-strcpy-unbounded"
    assert auditor.rule("B602").cwe == 78


def test_a_whole_batch_runs_through_one_bandit_test_set(auditor):
    batch = [
        Suggestion(id=str(i), completion=f"x{i} = eval(data)\n", language="python")
        for i in range(20)
    ]
    outcomes = auditor.audit_batch(batch)
    assert all([f.rule_id for f in o.findings] == ["B307"] for o in outcomes)
    assert auditor._bandit is not None  # created once, reused for every suggestion


def test_nosec_written_by_the_model_does_not_hide_a_finding(auditor):
    out = one(auditor, "import os\nos.system(cmd)  # nosec\n", "python")
    assert "B605" in [f.rule_id for f in out.findings]


def test_findings_are_reported_only_inside_the_completion(auditor):
    prompt = "import pickle\nstate = pickle.loads(blob)\n\ndef load(raw):\n"
    out = one(auditor, "    return eval(raw)\n", "python", prompt=prompt)
    assert [(f.rule_id, f.line) for f in out.findings] == [("B307", 1)]


def test_prompt_context_resolves_names_for_bandit(auditor):
    """``from subprocess import call as run`` lives in the prompt; the completion only calls run."""
    out = one(
        auditor, "run(cmd, shell=True)\n", "python", prompt="from subprocess import call as run\n"
    )
    assert [f.rule_id for f in out.findings] == ["B604"] or "B602" in [
        f.rule_id for f in out.findings
    ]


def test_statement_started_in_the_prompt_is_reported_on_the_completion_line(auditor):
    out = one(
        auditor, "cmd, shell=True)\n", "python", prompt="import subprocess\nsubprocess.Popen(\n    "
    )
    assert [(f.rule_id, f.line) for f in out.findings] == [("B602", 1)]


def test_indented_body_without_its_function_still_goes_through_bandit(auditor):
    out = one(
        auditor,
        "        data = pickle.loads(raw)\n        return data\n    return None\n",
        "python",
    )
    assert [f.rule_id for f in out.findings] == ["B301"]
    assert out.errors == []


def test_window_starting_inside_a_docstring_still_goes_through_bandit(auditor):
    code = '    Returns the parsed config.\n    """\n    return yaml.load(stream)\n'
    out = one(auditor, code, "python")
    assert [f.rule_id for f in out.findings] == ["B506"] and out.errors == []


def test_unparseable_tail_is_checked_by_stand_in_rules_with_a_parse_error(auditor):
    code = "import os\nos.system(cmd)\nresult = eval(expression,\n"
    out = one(auditor, code, "python")
    assert ("B605", 2) in [
        (f.rule_id, f.line) for f in out.findings
    ]  # bandit, on the parsed prefix
    assert ("CA4750", 3) in [(f.rule_id, f.line) for f in out.findings]  # stand-in for B307
    (err,) = out.errors
    assert err.code == "parse-error" and err.line == 3 and "line 3" in err.message


def test_a_form_feed_gives_bandit_the_same_line_numbers_as_the_pattern_rules(auditor):
    """A form feed is no line break for Python, git or codeaudit.context.split_lines (only for
    str.splitlines): bandit's finding on a cut-down prefix keeps the line the others report."""
    code = (
        "\x0c\nimport os\x0c\nos.system(cmd)\nctx.verify_mode = ssl.CERT_NONE\n"
        "result = eval(expression,\n"
    )
    out = one(auditor, code, "python")
    assert sorted((f.rule_id, f.line) for f in out.findings) == [
        ("B605", 3),  # bandit
        ("CA4701", 4),  # pattern pack
        ("CA4750", 5),  # stand-in rule on the unparsed tail
    ]
    assert [(e.code, e.line) for e in out.errors] == [("parse-error", 5)]


def test_code_that_never_parses_is_still_audited_by_pattern_rules(auditor):
    out = one(auditor, "print 'legacy'\nexec code_string\nos.system(cmd) if x else (\n", "python")
    assert "CA4751" in [f.rule_id for f in out.findings]
    assert [e.code for e in out.errors] == ["parse-error"]


def test_pack_rules_complement_bandit(auditor):
    out = one(
        auditor, "ctx = ssl.create_default_context()\nctx.verify_mode = ssl.CERT_NONE\n", "python"
    )
    assert [(f.rule_id, f.line) for f in out.findings] == [("CA4701", 2)]


def test_implied_imports_let_bandit_see_fragments_without_imports(auditor):
    out = one(auditor, "state = torch.load(path)\n", "python")
    assert [f.rule_id for f in out.findings] == ["B614"]


# --- pattern packs ----------------------------------------------------------------------------------


def test_comments_and_strings_do_not_trigger_code_rules(auditor):
    code = '// strcpy(buf, src) is banned here\nconst char *help = "never call system(cmd)";\nputs(help);\n'
    assert one(auditor, code, "c").findings == []


def test_rules_that_read_strings_see_string_contents(auditor):
    out = one(auditor, 'MessageDigest md = MessageDigest.getInstance("MD5");\n', "java")
    assert [f.rule_id for f in out.findings] == ["CA4401"]


def test_typescript_uses_the_javascript_pack_and_cpp_the_c_pack(auditor):
    assert [
        f.rule_id for f in one(auditor, "el.innerHTML = `<b>${name}</b>`;\n", "typescript").findings
    ] == ["CA4503"]
    assert [f.rule_id for f in one(auditor, "std::strcpy(dst, src);\n", "cpp").findings] == [
        "CA4101"
    ]


def test_php_without_an_opening_tag_is_parsed_as_php(auditor):
    out = one(auditor, "$q = $_GET['q'];\n// system($q);\necho \"<p>$q</p>\";\n", "php")
    # the taint rule (CA4622) or the pattern rule (CA4604) of CWE-79, once, on line 3 only
    assert [(f.cwe, f.line) for f in out.findings] == [(79, 3)]


def test_location_and_columns_inside_the_completion(auditor):
    out = one(auditor, "x = 1;\n  system(cmd);\n", "c", prompt="int main() {\n")
    (f,) = out.findings
    assert (f.line, f.column, f.end_line) == (2, 3, 2)


def test_match_that_starts_in_the_prompt_is_not_reported(auditor):
    assert (
        one(auditor, "return 0;\n}\n", "c", prompt="void f(char *c) {\n  system(c);\n").findings
        == []
    )


def test_hard_coded_secrets_are_redacted_in_snippet_and_evidence(auditor):
    out = one(auditor, 'static const char *db_password = "Pa55w0rd!2023";\n', "c")
    (f,) = out.findings
    assert "Pa55w0rd" not in f.snippet and "Pa55w0rd" not in json.dumps(dict(f.evidence))
    out = one(auditor, 'DB_PASSWORD = "R3port!ng-2024"\n', "python")
    assert all("R3port" not in f.snippet for f in out.findings) and out.findings


def test_redact_masks_quoted_strings():
    assert redact("key = 'abc123' + \"zz\"") == "key = '****' + \"****\""


def test_fingerprint_survives_a_line_shift(auditor):
    a = one(auditor, "system(cmd);\n", "c").findings[0]
    b = one(auditor, "\n\n  system(cmd);\n", "c").findings[0]
    assert a.fingerprint == b.fingerprint and a.line != b.line


def test_unknown_or_unsupported_languages_produce_no_findings_and_no_errors(auditor):
    for language in (None, "markdown", "ruby"):
        out = one(auditor, "system(cmd)\neval(x)\n", language)
        assert out.findings == [] and out.errors == []


def test_clean_code_is_not_even_parsed(auditor, monkeypatch):
    """The keyword gate: no rule keyword in the completion, no tree-sitter parse."""
    from codeaudit import treesitter

    calls = []
    monkeypatch.setattr(treesitter, "parse", lambda *a, **k: calls.append(a))
    one(auditor, "int add(int a, int b) { return a + b; }\n", "c")
    assert calls == []


# --- bad input ----------------------------------------------------------------------------------------


def test_deeply_nested_python_is_an_error_for_that_suggestion_only(auditor):
    deep = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    outcomes = auditor.audit_batch(
        [
            Suggestion(id="deep", completion=deep + "eval(y)\n", language="python"),
            Suggestion(id="ok", completion="os.system(cmd)\n", language="python"),
        ]
    )
    (error,) = outcomes[0].errors
    assert (
        error.code == "parse-error" and error.line == 1
    )  # the nesting is past Python's parser limit
    assert [(f.rule_id, f.line) for f in outcomes[0].findings] == [
        ("B307", 2)
    ]  # the rest still went to bandit
    assert [f.rule_id for f in outcomes[1].findings] == ["B605"]


def test_deeply_nested_blocks_in_c_and_javascript(auditor):
    c = "void f() {" + "{" * 3000 + "system(cmd);" + "}" * 3000 + "}\n"
    js = "(" * 3000 + "eval(x)" + ")" * 3000 + ";\n"
    assert [f.rule_id for f in one(auditor, c, "c").findings] == ["CA4107"]
    out = one(auditor, js, "javascript")
    assert out.errors == [] and [f.rule_id for f in out.findings] == ["CA4501"]


def test_huge_line_is_audited_without_hanging():
    """A 570 KB line: the finding at its end is reported. It runs in a child process with a time
    limit (as in test_pathological_inputs.py), so a regression to quadratic work fails on the
    timeout instead of hanging the suite; no wall-clock figure of this shared machine is asserted."""
    code = (
        "from codeaudit.auditors.security.auditor import SecurityAuditor\n"
        "from codeaudit.model import Suggestion\n"
        "line = 'var a = [' + ', '.join(f'\"s{i}\"' for i in range(60000))"
        " + ']; el.innerHTML = a.join(x);\\n'\n"
        "(out,) = SecurityAuditor().audit_batch("
        "[Suggestion(id='s', completion=line, language='javascript')])\n"
        "print([(f.rule_id, f.line, f.column > 500000) for f in out.findings], out.errors)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[('CA4503', 1, True)] []"


def test_mixed_languages_in_one_completion(auditor):
    """C code labelled as Python: bandit cannot parse it, the Python pattern rules still run,
    and the C code is not silently passed: an error says what happened."""
    code = "#include <stdlib.h>\nint main(int argc, char **argv) {\n    system(argv[1]);\n    os.system(argv[1]);\n}\n"
    out = one(auditor, code, "python")
    assert [e.code for e in out.errors] == ["parse-error"]
    assert [f.line for f in out.findings] == [
        4
    ]  # os.system: bandit (B605) on the one line it could read


def test_markdown_fenced_completion(auditor):
    code = "Here is the code:\n```python\nimport os\nos.system(user_cmd)\n```\n"
    out = one(auditor, code, "python")
    assert 4 in [f.line for f in out.findings]


def test_a_crash_in_one_suggestion_does_not_cost_the_batch(monkeypatch):
    auditor = SecurityAuditor()
    real = auditor.audit_one

    def flaky(s):
        if s.id == "boom":
            raise RuntimeError("parser exploded")
        return real(s)

    monkeypatch.setattr(auditor, "audit_one", flaky)
    outcomes = auditor.audit_batch(
        [
            Suggestion(id="boom", completion="x", language="c"),
            Suggestion(id="ok", completion="gets(b);\n", language="c"),
        ]
    )
    assert (
        outcomes[0].errors[0].code == "internal-error"
        and "parser exploded" in outcomes[0].errors[0].message
    )
    assert [f.rule_id for f in outcomes[1].findings] == ["CA4104"]


def test_bandit_logging_never_reaches_the_terminal(capfd, auditor):
    one(auditor, "x = 1\n", "python")
    assert capfd.readouterr().err == ""


_CODE_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    completion=st.text(_CODE_CHARS, max_size=400)
    | st.sampled_from(["{{{{", "))))", '"""', "/*", "<?php", "`${", "\x00", "\r\r\n"]),
    prompt=st.text(_CODE_CHARS, max_size=80),
    language=st.sampled_from(
        ["python", "c", "cpp", "csharp", "java", "javascript", "typescript", "php", "rust", "go"]
    ),
)
def test_fuzz_any_text_gives_an_outcome_with_locations_inside_the_completion(
    completion, prompt, language
):
    auditor = _FUZZ_AUDITOR
    (out,) = auditor.audit_batch(
        [Suggestion(id="f", completion=completion, prompt=prompt, language=language)]
    )
    n_lines = max(1, len(completion.splitlines()))
    assert all(e.code != "internal-error" for e in out.errors), out.errors
    for f in out.findings:
        assert 1 <= f.line <= f.end_line <= n_lines + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "def f(x):",
                "    return eval(x)",
                "        os.system(c)",
                "    pass",
                "class A:",
                "if a:",
                "else:",
                "    except ValueError:",
                "x = (1,",
                ")",
                "    y = pickle.loads(b)",
                "",
                "  # comment",
                "print 'x'",
            ]
        ),
        max_size=25,
    )
)
def test_fuzz_python_fragments_never_crash_and_eval_lines_are_found(lines):
    """Windows of Python in any order (no strings, so every eval line is code): each
    ``return eval(x)`` is found, by bandit or by the stand-in rules."""
    code = "\n".join(lines) + "\n"
    (out,) = _FUZZ_AUDITOR.audit_batch([Suggestion(id="f", completion=code, language="python")])
    assert all(e.code in ("parse-error", "too-complex") for e in out.errors), out.errors
    flagged = {f.line for f in out.findings}
    for number, line in enumerate(lines, start=1):
        if line.strip() == "return eval(x)":
            assert number in flagged, (number, code)


_FUZZ_AUDITOR = SecurityAuditor()


# --- through the pipeline, and start-up cost ---------------------------------------------------------


def test_pipeline_audit_reports_security_findings_with_cwe():
    report = audit(
        [{"id": "a", "completion": "char b[8];\ngets(b);\n", "language": "c"}],
        auditors=["security"],
    )
    (result,) = report.results
    (finding,) = result.findings
    assert finding.to_dict()["cwe"] == "CWE-242" and result.verdict.value == "fail"


def test_language_is_detected_when_absent():
    report = audit(
        [
            {
                "id": "a",
                "completion": "#include <stdio.h>\nint main(void) {\n  char b[8];\n  gets(b);\n}\n",
            }
        ],
        auditors=["security"],
    )
    assert report.results[0].language == "c"
    assert [f.rule_id for f in report.results[0].findings] == ["CA4104"]


def _imported_modules(code: str) -> set[str]:
    probe = (
        "import sys\n"
        "from codeaudit.auditors.security.auditor import SecurityAuditor\n"
        "from codeaudit.model import Suggestion\n"
        f"SecurityAuditor().audit_batch([Suggestion(id='a', completion={code!r}, language='c')])\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_a_batch_without_python_never_imports_bandit_or_other_grammars():
    modules = _imported_modules("system(cmd);\n")
    assert "tree_sitter_c" in modules
    assert not {m for m in modules if m.startswith("bandit")}
    assert not {"tree_sitter_python", "tree_sitter_java", "tree_sitter_javascript"} & modules


def test_clean_c_code_imports_no_grammar_at_all():
    modules = _imported_modules("int add(int a, int b) { return a + b; }\n")
    assert not {m for m in modules if m.startswith(("tree_sitter", "bandit"))}


def test_bandit_informational_results_are_withheld_by_default_and_counted():
    from codeaudit import Config, audit

    code = "import subprocess\nassert n > 0\nsubprocess.run(['ls'])\nassert user.is_admin\n"
    quiet = audit([{"id": "a", "language": "python", "completion": code}], auditors=["security"])
    (r,) = quiet.results
    # an assert guarding an access decision is removed by `python -O`: always reported
    assert [(f.rule_id, f.line) for f in r.findings] == [("B101", 4)]
    assert r.data["security"]["bandit_informational_withheld"] == 4  # B404, B101, B603, B607
    loud = audit(
        [{"id": "a", "language": "python", "completion": code}],
        Config(options={"security": {"bandit_informational": True}}),
        auditors=["security"],
    )
    assert {f.rule_id for f in loud.results[0].findings} == {"B101", "B404", "B603", "B607"}
