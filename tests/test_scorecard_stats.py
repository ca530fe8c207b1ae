"""The scorecard's statistics, checked against scipy's implementations (no model needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codeaudit.scorecard import stats
from codeaudit.scorecard.exposure import exact_exposure, exposure

scipy_stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (5, 10), (10, 10), (3, 210), (37, 1640)])
def test_wilson_matches_scipy(k, n):
    ref = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = stats.wilson(k, n)
    assert lo == pytest.approx(ref.low, abs=1e-9)
    assert hi == pytest.approx(ref.high, abs=1e-9)


def test_rate_scales_per_thousand():
    r = stats.rate(3, 200, per=1000)
    assert r["rate"] == 15.0
    assert r["ci95"][0] < 15.0 < r["ci95"][1]


@pytest.mark.parametrize("only_a,only_b,both,neither", [(0, 0, 3, 3), (5, 1, 2, 10), (9, 2, 0, 0)])
def test_mcnemar_is_a_binomial_test_on_discordant_pairs(only_a, only_b, both, neither):
    a = [True] * only_a + [False] * only_b + [True] * both + [False] * neither
    b = [False] * only_a + [True] * only_b + [True] * both + [False] * neither
    r = stats.mcnemar(a, b)
    assert (r["b"], r["c"], r["pairs"]) == (only_a, only_b, len(a))
    if only_a + only_b:
        ref = scipy_stats.binomtest(only_a, only_a + only_b, 0.5).pvalue
        assert r["p_value"] == pytest.approx(ref, abs=1e-6)
    else:
        assert r["p_value"] == 1.0


def test_mcnemar_rejects_unpaired():
    with pytest.raises(ValueError):
        stats.mcnemar([True], [True, False])


def test_paired_bootstrap_finds_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(1)
    a = rng.random(164)
    shifted = stats.paired_bootstrap(a, a + 0.1)
    assert shifted["difference"] == pytest.approx(0.1)
    assert shifted["ci95"][0] > 0 and shifted["p_value"] < 0.01
    same = stats.paired_bootstrap(a, a)
    assert same["difference"] == 0 and same["p_value"] == 1.0


def test_bootstrap_interval_contains_the_mean():
    values = [0.0] * 150 + [1.0] * 14
    lo, hi = stats.bootstrap_mean(values)
    assert lo < 14 / 164 < hi


def test_exposure_inside_the_sample_is_a_rank_count():
    scores = np.linspace(10, 50, 10_000)
    e = exposure(20.0, scores, space_bits=44)
    above = int(np.sum(scores < 20.0))
    assert e["method"] == "rank" and e["above"] == above
    assert e["exposure"] == pytest.approx(-math.log2((above + 1) / 10_001), abs=1e-3)


def test_exposure_beyond_the_sample_uses_the_skew_normal_tail():
    rng = np.random.default_rng(0)
    scores = scipy_stats.skewnorm.rvs(4, loc=40, scale=6, size=20_000, random_state=rng)
    canary = 20.0  # far below every sample
    e = exposure(canary, scores, space_bits=44)
    assert e["method"] == "skewnorm" and e["above"] == 0
    true = -math.log2(scipy_stats.skewnorm.cdf(canary, 4, loc=40, scale=6))
    assert e["exposure"] > math.log2(20_001)
    assert e["exposure"] == pytest.approx(min(true, 44), rel=0.25)


def test_exposure_is_capped_at_the_space():
    scores = np.linspace(40, 50, 1000)
    assert exposure(-1e6, scores, space_bits=40)["exposure"] == 40


def test_exact_exposure_of_best_and_worst():
    scores = np.arange(1024.0)
    assert exact_exposure(0.0, scores) == 10
    assert exact_exposure(1023.0, scores) == 0


def test_importing_the_scorecard_loads_no_model_library():
    import subprocess
    import sys

    code = (
        "import sys, codeaudit.scorecard, codeaudit.scorecard.canaries, codeaudit.scorecard.html, "
        "codeaudit.cli.scorecard; "
        "print(sorted(m for m in ('torch', 'transformers', 'onnxruntime', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_docs_links_resolve_and_counts_match_the_data():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "scorecard.md").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scorecard\n", 1)[1].split("\n## ", 1)[0]
    for text, base in ((doc, root / "docs"), (section, root)):
        for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", text):
            if not target.startswith(("http://", "https://")):
                assert (base / target).resolve().exists(), target
    data = root / "codeaudit" / "scorecard" / "data"
    leak = len((data / "leak_prompts.jsonl").read_text().splitlines())
    risky = len((data / "risky_prompts.jsonl").read_text().splitlines())
    for text in (doc, section):
        assert f"{leak} leak-inviting" in text or f"{leak} prompts" in text
        assert f"{risky} risky-API" in text or f"{risky} prompts" in text


def test_doctests():
    import doctest

    from codeaudit.scorecard import canaries
    from codeaudit.scorecard import exposure as exposure_mod

    for module in (stats, exposure_mod, canaries):
        assert doctest.testmod(module).failed == 0, module.__name__
