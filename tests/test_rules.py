"""Rule packs as data: schema, proofs (every example runs), ids, docs, and ``codeaudit rules``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from codeaudit import treesitter
from codeaudit.auditors.security import rulepack
from codeaudit.auditors.security.auditor import SecurityAuditor, is_bandit_rule
from codeaudit.auditors.security.bandit_adapter import bandit_rules
from codeaudit.model import Suggestion
from codeaudit.registry import all_rules, check_unique

ROOT = Path(__file__).resolve().parent.parent
PACK_RULES = [(pack.name, rule) for pack in rulepack.builtin_packs() for rule in pack.rules]
#: The CWE families the issue asks the packs to cover at a minimum (bandit covers more for Python).
REQUIRED_CWES = {
    78,
    94,
    95,
    89,
    79,
    22,
    327,
    328,
    338,
    798,
    321,
    502,
    295,
    120,
    121,
    134,
    676,
    787,
    190,
    680,
    377,
    611,
    732,
}


@pytest.fixture(scope="module")
def auditor():
    return SecurityAuditor()


def _ids(params):
    return [f"{rule.id}-{name}" for name, rule in params]


# --- every rule carries its proof -----------------------------------------------------------------


@pytest.mark.parametrize(("pack", "rule"), PACK_RULES, ids=_ids(PACK_RULES))
def test_rule_examples(auditor, pack, rule):
    """Each bad example is flagged by the rule and each good one is not, in every language the
    rule serves. Stand-in rules (Python) are proven on fragments bandit cannot parse."""
    assert rule.rule.examples["bad"] and rule.rule.examples["good"]
    for language in rule.rule.languages:
        for kind in ("bad", "good"):
            for example in rule.rule.examples[kind]:
                (outcome,) = auditor.audit_batch(
                    [Suggestion(id="ex", completion=example, language=language)]
                )
                fired = [f for f in outcome.findings if f.rule_id == rule.id]
                if kind == "bad" and not fired:
                    # a taint rule of the same weakness took the line (one finding per line+CWE)
                    fired = [
                        f
                        for f in outcome.findings
                        if f.cwe == rule.rule.cwe and f.evidence.get("flow") is not None
                    ]
                assert bool(fired) == (kind == "bad"), (
                    f"{rule.id} ({language}) {kind} example:\n{example}"
                )
                unexpected = [
                    e
                    for e in outcome.errors
                    if not (rule.stands_in_for and e.code == "parse-error")
                ]
                assert not unexpected, unexpected


@pytest.mark.parametrize(("pack", "rule"), PACK_RULES, ids=_ids(PACK_RULES))
def test_rule_patterns_compile_for_every_language(pack, rule):
    """Regexes compile (they are compiled lazily at run time); queries compile against each
    grammar the rule serves; node types named in not_inside exist in those grammars."""
    for regex in (rule.regex, *rule.not_on_line, *rule.not_in_file, *rule.needs_in_file):
        if regex is not None:
            regex.get()
    for language in rule.rule.languages:
        grammars = ("php", "php_only") if language == "php" else (language,)
        for name in grammars:
            if rule.query:
                treesitter.query(name, rule.query)
            for node_type in rule.not_inside:
                assert treesitter.grammar(name).id_for_node_kind(node_type, True) is not None, (
                    rule.id,
                    node_type,
                    name,
                )


def test_stand_in_rules_name_real_bandit_tests():
    bandit_ids = {r.id for r in bandit_rules()}
    for _, rule in PACK_RULES:
        assert set(rule.stands_in_for) <= bandit_ids, (rule.id, rule.stands_in_for)
        if rule.stands_in_for:
            assert rule.rule.languages == ("python",)


def test_packs_cover_the_required_cwe_families():
    covered = {rule.rule.cwe for _, rule in PACK_RULES} | {r.cwe for r in bandit_rules()}
    # 787 (out-of-bounds write) and 190 (integer overflow) are reported under their more
    # specific children: 120/121 and 680.
    covered |= {787} if {120, 121} <= covered else set()
    covered |= {190} if 680 in covered else set()
    assert REQUIRED_CWES <= covered, sorted(REQUIRED_CWES - covered)


def test_every_required_language_has_a_pack():
    names = set(rulepack.builtin_pack_names())
    assert {"c", "cpp", "csharp", "java", "javascript", "php", "python", "rust", "go"} <= names
    assert rulepack.rules_for("typescript"), "TypeScript is served by the JavaScript pack"
    assert {r.id for r in rulepack.rules_for("cpp")} > {
        r.id for r in rulepack.builtin_pack("cpp").rules
    }


def test_borrowed_packs_match_the_packs_own_languages():
    """rulepack._BORROWS (which packs to load for a language) agrees with the packs' data."""
    for pack in rulepack.builtin_packs():
        for language in pack.languages:
            assert pack.name in rulepack.packs_for(language), (pack.name, language)


def test_ids_and_names_are_unique_across_all_auditors():
    check_unique(all_rules())
    check_unique([*bandit_rules(), *rulepack.all_rules()])


def test_pack_ids_follow_the_pack_prefix():
    for pack in rulepack.builtin_packs():
        raw = yaml.safe_load(
            (ROOT / "codeaudit/auditors/security/rules" / f"{pack.name}.yaml").read_text()
        )
        assert all(r.id.startswith(raw["id_prefix"]) for r in pack.rules)


# --- schema: a bad rule stops the load with a clear message ----------------------------------------

GOOD_RULE = {
    "id": "CA4199",
    "name": "c-test-rule",
    "title": "A test rule",
    "cwe": 120,
    "severity": "high",
    "confidence": "medium",
    "keywords": ["strcpy"],
    "regex": r"\bstrcpy\s*\(",
    "message": "m",
    "description": "d",
    "fix": "f",
    "references": ["https://cwe.mitre.org/data/definitions/120.html"],
    "examples": {"bad": ["strcpy(a, b);"], "good": ['snprintf(a, n, "%s", b);']},
}


def _pack(**changes):
    rule = {k: v for k, v in {**GOOD_RULE, **changes}.items() if v is not None}
    return yaml.safe_dump({"pack": "c", "languages": ["c"], "id_prefix": "CA41", "rules": [rule]})


def test_a_good_rule_loads():
    pack = rulepack.load_pack(_pack(), "test.yaml")
    assert [r.id for r in pack.rules] == ["CA4199"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"examples": {"bad": ["strcpy(a, b);"]}}, "exactly the keys 'bad' and 'good'"),
        ({"examples": {"bad": [], "good": ["x"]}}, "'bad' needs at least 1"),
        ({"examples": None}, "missing field(s) examples"),
        ({"cwe": "CWE-120"}, "'cwe' must be a positive integer"),
        ({"severity": "urgent"}, "not a severity"),
        ({"confidence": "sure"}, "not a confidence"),
        ({"id": "X1"}, "field 'id' must look like CA4101"),
        ({"id": "CA4299"}, "field 'id' must look like CA4101"),
        ({"name": "Not Kebab"}, "kebab-case"),
        ({"keywords": []}, "'keywords' needs at least 1"),
        ({"query": "(call_expression) @match"}, "exactly one of 'regex', 'query' or 'sink'"),
        ({"regex": None}, "exactly one of 'regex', 'query' or 'sink'"),
        ({"view": "tokens"}, "field 'view' must be one of"),
        ({"languages": ["cobol"]}, "not among the pack's languages"),
        ({"stands_in_for": ["602"]}, "bandit test ids such as B602"),
        ({"redact": "yes"}, "'redact' must be true or false"),
        ({"severity_level": "high"}, "unknown field(s) ['severity_level']"),
        ({"references": []}, "'references' needs at least 1"),
        ({"title": ""}, "'title' must be a non-empty string"),
    ],
)
def test_a_bad_rule_fails_the_load_naming_file_rule_and_field(changes, message):
    with pytest.raises(rulepack.RulePackError) as info:
        rulepack.load_pack(_pack(**changes), "test.yaml")
    text = str(info.value)
    assert text.startswith("test.yaml: ")
    assert message in text


def test_bad_regex_in_a_team_pack_fails_at_load_and_in_a_shipped_pack_at_first_use(tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text(_pack(regex="strcpy("))
    with pytest.raises(
        rulepack.RulePackError, match="own.yaml: rule CA4199: field 'regex': bad regular expression"
    ) as info:
        rulepack.load_pack_file(own)
    assert info.value.exit_code == 2
    shipped = rulepack.load_pack(_pack(regex="strcpy("), "rules/c.yaml")
    with pytest.raises(
        rulepack.RulePackError, match="rules/c.yaml: rule CA4199: field 'regex'"
    ) as info:
        shipped.rules[0].regex.get()
    assert info.value.exit_code == 3


def test_a_pack_for_a_language_without_grammar_fails():
    text = _pack().replace("languages:\n- c", "languages:\n- kotlin")
    with pytest.raises(rulepack.RulePackError, match="no tree-sitter grammar for \\['kotlin'\\]"):
        rulepack.load_pack(text, "test.yaml")


def test_duplicate_ids_in_a_pack_fail():
    raw = yaml.safe_load(_pack())
    raw["rules"].append({**GOOD_RULE, "name": "c-other-name"})
    with pytest.raises(rulepack.RulePackError, match="registered twice"):
        rulepack.load_pack(yaml.safe_dump(raw), "test.yaml")


def test_top_level_keys_are_checked():
    with pytest.raises(rulepack.RulePackError, match="unknown top-level key"):
        rulepack.load_pack(_pack().replace("pack: c", "pack: c\nversion: 2"), "test.yaml")
    with pytest.raises(rulepack.RulePackError, match="not valid YAML"):
        rulepack.load_pack("rules: [", "test.yaml")


def test_a_team_pack_from_config_is_used(tmp_path):
    from codeaudit.config import Config

    own = tmp_path / "own.yaml"
    own.write_text(
        _pack(
            id="CA4198",
            name="c-team-rule",
            keywords=["legacy_copy"],
            regex=r"\blegacy_copy\s*\(",
            examples={"bad": ["legacy_copy(a, b);"], "good": ["copy(a, b);"]},
        )
    )
    auditor = SecurityAuditor(Config(options={"security": {"rule_packs": [str(own)]}}))
    (outcome,) = auditor.audit_batch(
        [Suggestion(id="a", completion="legacy_copy(dst, src);\n", language="c")]
    )
    assert [f.rule_id for f in outcome.findings] == ["CA4198"]


# --- bandit's tests as rules -------------------------------------------------------------------------


def test_bandit_tests_are_rules_with_metadata_from_bandit():
    rules = {r.id: r for r in bandit_rules()}
    assert len(rules) >= 60
    b602 = rules["B602"]
    assert b602.name == "subprocess-popen-with-shell-equals-true"
    assert b602.cwe == 78 and str(b602.severity) == "high"
    assert rules["B301"].cwe == 502  # a blacklist entry
    assert all(is_bandit_rule(r) for r in rules.values())
    assert not any(is_bandit_rule(r.rule) for _, r in PACK_RULES)


def test_bandit_rule_docs_are_cached_per_bandit_version(tmp_path, monkeypatch):
    from codeaudit.auditors.security import bandit_adapter as pybandit

    monkeypatch.setenv("CODEAUDIT_CACHE_DIR", str(tmp_path))
    built = pybandit._cached_bandit_rules.__wrapped__()
    (cache,) = tmp_path.glob("bandit-rules-*.json")
    assert json.loads(cache.read_text())[0]["id"] == built[0].id
    assert pybandit._cached_bandit_rules.__wrapped__() == built  # read back from the cache
    cache.write_text("{not json")
    assert pybandit._cached_bandit_rules.__wrapped__() == built  # a broken cache is rebuilt


# --- docs come from the rules ------------------------------------------------------------------------


def test_docs_rules_md_is_up_to_date():
    from codeaudit.cli.rules import reference_markdown

    expected = reference_markdown(all_rules())
    actual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/rules.md is stale: run `codeaudit rules docs -o docs/rules.md`"


def test_docs_do_not_reproduce_bandit_text():
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in bandit_rules():
        if len(rule.description) > 40:  # a bare test name is not bandit's text
            assert rule.description not in text, rule.id


def test_every_pack_rule_carries_what_its_page_shows():
    """The page always has its description and fix sections; the example and references exist
    only when the rule's data has them, so the data is what is checked."""
    for _, rule in PACK_RULES:
        r = rule.rule
        assert r.bad_example.strip() and r.good_example.strip(), r.id
        assert r.references, r.id
        page = r.markdown()
        assert r.bad_example.rstrip() in page and r.references[0] in page, r.id


# --- the command -------------------------------------------------------------------------------------


def test_rules_list_json_has_every_security_rule(run_cli):
    proc = run_cli("rules", "list", "--auditor", "security", "--format", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    records = json.loads(proc.stdout.decode())
    ids = {r["id"] for r in records}
    assert {"B602", "CA4101", "CA4501"} <= ids
    assert len(records) == len(bandit_rules()) + len(PACK_RULES)
    assert all(r["auditor"] == "security" for r in records)


def test_rules_list_filters_by_language(run_cli):
    proc = run_cli("rules", "list", "--language", "ts")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "CA4501" in proc.stdout.decode() and "CA4101 " not in proc.stdout.decode()


def test_rules_show_prints_docs_cwe_and_all_examples(run_cli):
    proc = run_cli("rules", "show", "c-system-command")
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "CA4107" in out and "CWE-78" in out and "How to fix" in out
    assert 'popen(command_line, "r")' in out  # the second bad example
    proc = run_cli("rules", "show", "ca4107", "--format", "json")
    record = json.loads(proc.stdout.decode())
    assert record["cwe"] == "CWE-78" and len(record["examples"]["bad"]) == 2


def test_rules_show_bandit_test_from_installed_bandit(run_cli):
    proc = run_cli("rules", "show", "B602")
    assert proc.returncode == 0 and "shell" in proc.stdout.decode().lower()


def test_rules_show_unknown_rule_is_a_usage_error(run_cli):
    proc = run_cli("rules", "show", "CA4102x")
    assert proc.returncode == 2
    assert "no rule 'CA4102x'" in proc.stderr.decode() and "CA4102" in proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()


def test_rules_without_action_is_a_usage_error(run_cli):
    proc = run_cli("rules")
    assert proc.returncode == 2 and "give an action" in proc.stderr.decode()


# --- taint rules: line-pinned examples ------------------------------------------------------------

TAINT_RULES = [(name, rule) for name, rule in PACK_RULES if rule.is_taint]
_PIN = {"ruleid": "must", "ok": "must-not"}


def _pins(example: str) -> dict[int, str]:
    """Lines of an example pinned by a trailing ``// ruleid`` / ``# ok`` comment."""
    import re

    out = {}
    for number, line in enumerate(example.splitlines(), start=1):
        m = re.search(r"(?://|#|/\*)\s*(ruleid|ok)\b", line)
        if m:
            out[number] = _PIN[m.group(1)]
    return out


@pytest.mark.parametrize(("pack", "rule"), TAINT_RULES, ids=_ids(TAINT_RULES))
def test_taint_rule_examples_are_line_pinned(auditor, pack, rule):
    """Every taint rule's examples pin lines: ``ruleid`` lines carry the rule's finding (with its
    flow), ``ok`` lines carry none of it; each bad example pins at least one line."""
    for kind in ("bad", "good"):
        for example in rule.rule.examples[kind]:
            pins = _pins(example)
            if kind == "bad":
                assert "must" in pins.values(), f"{rule.id}: bad example without a ruleid line"
            for language in rule.rule.languages:
                (outcome,) = auditor.audit_batch(
                    [Suggestion(id="ex", completion=example, language=language)]
                )
                lines = {f.line for f in outcome.findings if f.rule_id == rule.id}
                for line, want in pins.items():
                    assert (line in lines) == (want == "must"), (
                        f"{rule.id} ({language}) line {line} should {'' if want == 'must' else 'not '}"
                        f"be flagged:\n{example}"
                    )
                for f in outcome.findings:
                    if f.rule_id == rule.id:
                        flow = f.evidence["flow"]
                        assert flow["sink"]["line"] == f.line
                        assert flow["source"]["line"] <= f.line


#: Long texts of the shapes a taint rule's patterns meet: builder chains (clap's `Command::new(…)`
#: with dozens of `.subcommand(…)`), deep call nests, long argument lists.
_LONG_SHAPES = (
    'Command.new("x")'
    + "".join(f'.subcommand(Command.new("s{i}").about("t").arg(arg!(-v "x")))' for i in range(40)),
    "a(" * 300 + "b",
    "a.b(" + "x" * 2000,
    "(" + "a.b(c)" * 300,
    ".".join(["a(b)"] * 400),
)

_PATTERN_SCAN = """
import re, sys, time, yaml
from importlib.resources import files
texts = {texts!r}
def walk(v, where):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, f"{{where}}.{{k}}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from walk(x, f"{{where}}[{{i}}]")
    elif isinstance(v, str):
        try:
            yield where, re.compile(v)
        except re.error:
            pass
slow = []
for path in sorted(files("codeaudit.auditors.security.rules").iterdir()):
    if path.name.endswith(".yaml"):
        for where, pattern in walk(yaml.safe_load(path.read_text()), path.name):
            print(where, flush=True)
            for text in texts:
                start = time.perf_counter()
                pattern.search(text)
                if time.perf_counter() - start > 0.25:
                    slow.append(where)
                    break
print("SLOW", slow)
"""


def test_no_rule_pattern_backtracks_on_long_code():
    """Every regular expression of every pack searches long builder chains and call nests in
    linear-ish time (a `(?:\\(.*\\))*` group took minutes on one 111-line file of clap)."""
    import subprocess
    import sys

    code = _PATTERN_SCAN.format(texts=_LONG_SHAPES)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired as exc:
        stuck = (exc.stdout or b"").decode().strip().splitlines()[-1:]
        pytest.fail(f"a rule pattern backtracks without end: {stuck}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "SLOW []"
