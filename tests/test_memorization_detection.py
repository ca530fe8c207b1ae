"""Detection quality on real code read at run time (see codeaudit/auditors/memorization/cases.py).

A small version of the benchmark: three installed packages as the corpus, suggestions cut from
them by each kind of edit, negatives from other packages, all through the real pipeline. The
bounds here are a little below the targets (the sample is small and depends on the installed
versions); ``benchmarks/bench_memorization.py`` measures the targets on larger sets.
"""

from __future__ import annotations

import pytest

from codeaudit import Config, audit
from codeaudit.auditors.memorization import cases as mc
from codeaudit.corpus.build import build_index
from codeaudit.corpus.sources import FolderSource

CORPUS = ("click", "attr", "yaml")
NEGATIVES = ("tornado", "toolz", "idna")


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    missing = [p for p in CORPUS + NEGATIVES if mc.package_root(p) is None]
    if missing:
        pytest.skip(f"packages not installed: {missing}")  # the test extra installs them all
    out = tmp_path_factory.mktemp("det") / "corpus.idx"
    build_index([FolderSource(str(mc.package_root(p)), repo=p) for p in CORPUS], out)
    cases = mc.make_cases(CORPUS, NEGATIVES, per_kind=30, n_negative=60, seed=11)
    config = Config(options={"memorization": {"corpora": [str(out)]}})
    report = audit(
        [{"id": c.id, "completion": c.completion, "language": c.language} for c in cases],
        config,
        auditors=["memorization"],
    )
    reported = {}
    for result, f in report.findings():
        src = f.evidence["source"]
        reported.setdefault(result.id, []).append(
            mc.Reported(
                src["repo"], src["path"], src["start_line"], src["end_line"], f.line, f.end_line
            )
        )
    return mc.score(cases, reported)


def test_recall_per_kind(measured):
    kinds = measured["kinds"]
    for kind in ("verbatim", "whitespace", "comments", "partial"):
        assert kinds[kind]["recall"] >= 0.9, (kind, kinds[kind])
    assert kinds["renamed"]["recall"] >= 0.8, kinds["renamed"]


def test_precision_and_location(measured):
    assert measured["precision"] >= 0.95, measured["false_positive_examples"]
    assert measured["location_accuracy"] >= 0.9


def _code_tokens(lines):
    import io
    import tokenize

    skip = (
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    )
    return [
        t.string
        for t in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline)
        if t.type not in skip
    ]


def test_generator_edits_are_what_they_claim():
    """Whitespace and comment edits keep every code token; renames change only bound names,
    consistently."""
    import random

    lines = [
        "def scale(values, factor=2):",
        "    # multiply each value",
        "    out = [v * factor for v in values]  # a list",
        "    return sorted(out, key=abs)",
    ]
    for seed in range(20):
        rng = random.Random(seed)
        assert _code_tokens(mc._respace(lines, rng)) == _code_tokens(lines)
        assert _code_tokens(mc._recomment(lines, rng)) == _code_tokens(lines)
        renamed = mc._rename(lines, rng)
        before, after = _code_tokens(lines), _code_tokens(renamed)
        mapping = {a: b for a, b in zip(before, after) if a != b}
        assert mapping and all(after[i] == mapping.get(t, t) for i, t in enumerate(before))
        assert set(mapping) <= {"scale", "values", "factor", "out", "v"} and len(
            set(mapping.values())
        ) == len(mapping)
