"""The real-code benchmark's labels survive small line moves and stay honest when findings change.

Synthetic findings only (nothing from the downloaded projects); the benchmark modules are imported
from ``benchmarks/`` as the merger runs them. The labels file that is committed is checked for
its fields, its size (≥ 200 labels) and that every label has a reason.
"""

from __future__ import annotations

import json

import pytest
from helpers.bench import bench_module

bench_juliet = bench_module("bench_juliet")
bench_precision = bench_module("bench_precision")
_realcode = bench_module("realcode")
finding_key, line_key, stable_evidence = (
    _realcode.finding_key,
    _realcode.line_key,
    _realcode.stable_evidence,
)


def finding(line: int, text: str, *, rule="CA104", evidence=None, project="p", auditor="privacy"):
    return {
        "project": project,
        "path": "src/a.c",
        "rule_id": rule,
        "auditor": auditor,
        "line": line,
        "key": finding_key(rule, text, evidence),
        "line_key": line_key(rule, text),
    }


def label(f: dict, true: bool) -> dict:
    return {**f, "true": true, "reason": "r", "kind": "k"}


def test_key_ignores_whitespace_masking_and_scores_but_not_what_was_found():
    a = finding_key("CA104", "  x = 'a@b.org'  ", {"email": "a@b.org", "similarity": 0.9})
    assert a == finding_key("CA104", "x =   'a@b.org'", {"email": "a@b.org", "similarity": 0.5})
    assert a != finding_key("CA104", "x = 'a@b.org'", {"email": "c@b.org"})
    assert a != finding_key("CA105", "x = 'a@b.org'", {"email": "a@b.org"})
    assert stable_evidence({"secret_hash": "ab12", "value": "[REDACTED:ab12]"}) == ""
    assert stable_evidence({"source": {"repo": "r", "path": "f.py", "start_line": 3}}) == (
        "source.path=f.py;source.repo=r"
    )


def test_match_follows_a_moved_line_and_counts_gone_labels():
    old = [finding(10, "int x = 1;"), finding(20, "strcpy(a, b);", rule="CA4101")]
    labels = [label(old[0], True), label(old[1], False)]
    moved = [finding(14, "int   x = 1;")]  # first moved by 4 lines, second no longer reported
    pairs, gone = bench_precision.match(labels, moved)
    assert [(lab["line"], f["line"]) for lab, f in pairs] == [(10, 14)]
    assert [lab["rule_id"] for lab in gone] == ["CA4101"]


def test_match_uses_the_line_when_only_the_evidence_changed_and_pairs_each_finding_once():
    lab = label(finding(5, "u = '/home/kim/x'", evidence={"username": "kim"}), True)
    now = finding(5, "u = '/home/kim/x'", evidence={"username": "kim", "path": "/home/kim/x"})
    pairs, gone = bench_precision.match([lab], [now])
    assert len(pairs) == 1 and not gone
    twice = [lab, dict(lab)]
    pairs, gone = bench_precision.match(twice, [now])
    assert len(pairs) == 1 and len(gone) == 1


def test_draw_is_seeded_and_stratified_by_project():
    findings = [finding(i, f"l{i}", project="big") for i in range(50)]
    findings += [finding(i, f"s{i}", project="small") for i in range(3)]
    one = bench_precision.draw(findings, {"privacy": 10}, seed=1)
    assert one == bench_precision.draw(findings, {"privacy": 10}, seed=1)
    assert sum(f["project"] == "small" for f in one) == 3  # a small project is not drowned out
    assert len(one) == 10 and len({(f["project"], f["line"]) for f in one}) == 10


def test_juliet_functions_are_split_by_name():
    code = "\n".join(
        [
            "void CWE121_x_01_bad()",
            "{",
            "    char b[10];",
            '    strcpy(b, "{");',
            "}",
            "static void goodG2B()",
            "{",
            "    /* } */",
            "}",
            "int main(int argc, char * argv[])",
            "{",
            "    return 0;",
            "}",
        ]
    )
    funcs = [(n, a, b, bench_juliet.side(n)) for n, a, b in bench_juliet.functions(code)]
    assert funcs == [
        ("CWE121_x_01_bad", 1, 5, "bad"),
        ("goodG2B", 6, 9, "good"),
        ("main", 10, 13, None),
    ]


@pytest.mark.parametrize("name, side", [("Bad", "bad"), ("badSink", "bad"), ("GoodB2G", "good")])
def test_juliet_side_names(name, side):
    assert bench_juliet.side(name) == side


def test_committed_labels_are_complete():
    labels = bench_precision.load_labels()
    assert len(labels) >= 200
    assert all(lab["reason"].strip() for lab in labels)
    assert all(len(lab["key"]) == 16 and len(lab["line_key"]) == 16 for lab in labels)
    assert {lab["auditor"] for lab in labels} == {"privacy", "security", "memorization"}
    raw = bench_precision.LABELS.read_text()
    assert all(json.loads(x)["line"] >= 1 for x in raw.splitlines())
