"""The memorization (CA30x) and tests (CA50x) rules are data with examples, run here by their
real auditors: the example corpus indexed with the real index builder, the tests run in the real
sandbox. Each example must be found (or not) on the lines it pins."""

from __future__ import annotations

import pytest
from helpers.rule_examples import example_problems

from codeaudit.config import config_from_mapping
from codeaudit.model import Suggestion
from codeaudit.registry import load_rule_data

MEMORIZATION = load_rule_data("codeaudit.auditors.memorization")
TESTS = load_rule_data("codeaudit.auditors.passrate")


def _cases(data):
    return [
        pytest.param(rule.id, kind, i, id=f"{rule.id}-{kind}-{i}")
        for rule in data.rules
        for kind in ("bad", "good")
        for i, _ in enumerate(data.examples[rule.id][kind])
    ]


@pytest.fixture(scope="module")
def memorization(tmp_path_factory):
    from codeaudit.auditors.memorization.auditor import MemorizationAuditor
    from codeaudit.corpus.build import build_index
    from codeaudit.corpus.sources import FolderSource

    corpus = MEMORIZATION.extra["example_corpus"]
    root = tmp_path_factory.mktemp("example-corpus")
    source = root / "src" / corpus["path"]
    source.parent.mkdir(parents=True)
    source.write_text(corpus["text"], encoding="utf-8")
    source = FolderSource(str(root / "src"), repo=corpus["repo"], license=corpus["license"])
    build_index([source], root / "index")
    config = config_from_mapping({"memorization": {"corpora": [str(root / "index")]}})
    return MemorizationAuditor(config)


@pytest.mark.parametrize(("rule_id", "kind", "index"), _cases(MEMORIZATION))
def test_memorization_rule_examples(memorization, rule_id, kind, index):
    code = MEMORIZATION.examples[rule_id][kind][index]
    (outcome,) = memorization.audit_batch(
        [Suggestion(id="example", completion=code, language="python")]
    )
    assert not outcome.errors
    assert example_problems(rule_id, kind, code, outcome.findings) == []


@pytest.fixture(scope="module")
def tests_outcomes():
    """Every example of the tests auditor, run in one sandbox batch."""
    from codeaudit.auditors.passrate.auditor import TestsAuditor

    auditor = TestsAuditor(config_from_mapping({"tests": TESTS.extra["example_options"]}))
    keys, batch = [], []
    for rule in TESTS.rules:
        for kind in ("bad", "good"):
            for i, example in enumerate(TESTS.examples[rule.id][kind]):
                keys.append((rule.id, kind, i))
                batch.append(
                    Suggestion(
                        id=f"{rule.id}-{kind}-{i}",
                        completion=example["code"],
                        tests=example["tests"],
                        entry_point=example.get("entry_point"),
                        language="python",
                    )
                )
    try:
        return dict(zip(keys, auditor.audit_batch(batch)))
    finally:
        auditor.close()


@pytest.mark.parametrize(("rule_id", "kind", "index"), _cases(TESTS))
def test_tests_rule_examples(tests_outcomes, rule_id, kind, index):
    outcome = tests_outcomes[(rule_id, kind, index)]
    assert not outcome.errors
    code = TESTS.examples[rule_id][kind][index]["code"]
    assert example_problems(rule_id, kind, code, outcome.findings) == []
    if kind == "good":
        assert outcome.data["outcome"] == "passed"


def test_every_rule_has_a_bad_and_a_good_example():
    for data in (MEMORIZATION, TESTS):
        for rule in data.rules:
            assert data.examples[rule.id]["bad"] and data.examples[rule.id]["good"], rule.id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: []\n", "'auditor' and 'id_prefix' are required"),
        (
            "auditor: a\nid_prefix: CA9\nrules: [{id: CA901}]\n",
            "rule CA901: field 'name' is required",
        ),
        (
            "auditor: a\nid_prefix: CA9\nrules: [{id: CA801, name: n, title: t, severity: low,"
            " confidence: low, description: d, fix: f}]\n",
            "rule CA801: field 'id' must start with CA9",
        ),
        (
            "auditor: a\nid_prefix: CA9\nrules: [{id: CA901, name: n, title: t, severity: dire,"
            " confidence: low, description: d, fix: f}]\n",
            "rule CA901: 'dire' is not a severity",
        ),
        (
            "auditor: a\nid_prefix: CA9\nrules: [{id: CA901, nmae: n}]\n",
            "rule CA901: unknown field 'nmae'",
        ),
    ],
)
def test_bad_rule_data_names_file_rule_and_field(tmp_path, monkeypatch, text, message):
    from codeaudit.errors import InternalError

    name = f"teamrules_{tmp_path.name}"  # a fresh package per case: imports are cached
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "rules.yaml").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InternalError) as caught:
        load_rule_data(name)
    assert str(caught.value).startswith(f"{name}/rules.yaml: ")
    assert message in str(caught.value)
