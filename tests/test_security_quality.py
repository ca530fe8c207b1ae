"""Detection quality on the labelled set (tests/data/security/): recall and false-positive rate.

Targets (issue 3): on insecure code in the eight CyberSecEval languages, flag the insecure line
(±1) in at least 85 % of samples; on clean code flag at most 5 %. Go is held to the same bar.
A positive is found when any security finding lies within one line of the marked line; a
negative is a false positive when the auditor reports any security finding at all (every
severity counts, bandit's low-severity tests included).

Run with ``-s`` to see the per-language table (the README's figures come from it).
"""

from __future__ import annotations

import pytest
from test_security_samples import LANGUAGES, load_samples

from codeaudit import audit
from codeaudit.model import Suggestion

RECALL_TARGET = 0.85
FPR_TARGET = 0.05


def _score(samples):
    report = audit(
        [
            Suggestion(id=s.id, prompt=s.prompt, completion=s.completion, language=s.language)
            for s in samples
        ],
        auditors=["security"],
    )
    stats: dict[str, dict[str, int]] = {
        lang: {"pos": 0, "hit": 0, "neg": 0, "fp": 0} for lang in LANGUAGES
    }
    misses, false_positives = [], []
    for sample, result in zip(samples, report.results):
        findings = [f for f in result.findings if f.active]
        row = stats[sample.language]
        if sample.positive:
            row["pos"] += 1
            if any(abs(f.line - sample.line) <= 1 for f in findings):
                row["hit"] += 1
            else:
                misses.append(
                    f"{sample.source} {sample.id}: {[(f.rule_id, f.line) for f in findings]}"
                )
        else:
            row["neg"] += 1
            if findings:
                row["fp"] += 1
                false_positives.append(
                    f"{sample.source} {sample.id}: {[(f.rule_id, f.line) for f in findings]}"
                )
    print("\nlanguage     recall            false positives")
    for lang, row in stats.items():
        if row["pos"]:
            print(
                f"{lang:11s}  {row['hit']:3d}/{row['pos']:<3d} {row['hit'] / row['pos']:6.1%}   {row['fp']:3d}/{row['neg']:<3d} {row['fp'] / row['neg']:6.1%}"
            )
    return stats, misses, false_positives


@pytest.fixture(scope="module")
def scored():
    return _score(load_samples())


@pytest.fixture(scope="module")
def scored_blind():
    return _score(load_samples(blind=True))


@pytest.mark.parametrize("language", LANGUAGES)
def test_recall_on_insecure_samples(scored, language):
    stats, misses, _ = scored
    row = stats[language]
    recall = row["hit"] / row["pos"]
    mine = [m for m in misses if f" {language}/" in m]
    assert recall >= RECALL_TARGET, (
        f"{language}: recall {recall:.1%} < {RECALL_TARGET:.0%}; missed:\n" + "\n".join(mine)
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_false_positive_rate_on_clean_samples(scored, language):
    stats, _, false_positives = scored
    row = stats[language]
    rate = row["fp"] / row["neg"]
    mine = [m for m in false_positives if f" {language}/" in m]
    assert rate <= FPR_TARGET, (
        f"{language}: false-positive rate {rate:.1%} > {FPR_TARGET:.0%}:\n" + "\n".join(mine)
    )


def test_findings_on_positives_carry_the_sample_cwe_family(scored):
    """Not a target, a sanity check: most hits name the CWE the sample was written for."""
    samples = [s for s in load_samples() if s.positive]
    report = audit(
        [
            Suggestion(id=s.id, prompt=s.prompt, completion=s.completion, language=s.language)
            for s in samples
        ],
        auditors=["security"],
    )
    same = sum(any(f.cwe == s.cwe for f in r.findings) for s, r in zip(samples, report.results))
    assert same / len(samples) >= 0.75, (
        f"only {same}/{len(samples)} positives reported with their own CWE"
    )


@pytest.mark.parametrize("language", LANGUAGES[:-1])
def test_recall_and_false_positives_on_the_blind_set(scored_blind, language):
    """The blind set was written after the rules were settled (see its README)."""
    stats, misses, false_positives = scored_blind
    row = stats[language]
    assert row["hit"] / row["pos"] >= RECALL_TARGET, misses
    assert row["fp"] / row["neg"] <= FPR_TARGET, false_positives


def test_real_clean_python_is_rarely_flagged():
    """30-line windows of the installed standard library (real library code we did not write, read
    at run time): at most 5 % flagged. The stdlib does use exec, marshal and raw SQL here and there,
    so a few flags are right."""
    import random
    import sysconfig
    from pathlib import Path

    from codeaudit import audit

    std = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        p
        for p in std.rglob("*.py")
        if not {"test", "tests", "idlelib", "site-packages"} & set(p.parts)
    )
    rng = random.Random(7)
    rng.shuffle(files)
    batch = []
    for p in files[:300]:
        lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
        if len(lines) < 40:
            continue
        start = rng.randrange(0, len(lines) - 30)
        batch.append(
            {
                "id": str(p),
                "language": "python",
                "prompt": "\n".join(lines[max(0, start - 50) : start]) + "\n",
                "completion": "\n".join(lines[start : start + 30]) + "\n",
            }
        )
    report = audit(batch, auditors=["security"])
    flagged = [r for r in report.results if r.active_findings]
    assert len(batch) > 200
    assert len(flagged) / len(batch) <= 0.05, [
        (r.id, [f.rule_id for f in r.active_findings]) for r in flagged
    ]
