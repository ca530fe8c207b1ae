"""The scorecard page in a real headless Chromium: no network, no script, escaping, charts.

The card comes from a real (small) run on a copy of the tiny model whose folder name is hostile
markup, with a canaries file of real random canaries.
"""

from __future__ import annotations

import os
import shutil

import pytest
from helpers.browser import Browser, chromium_path

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

pytestmark = [
    pytest.mark.generate,
    pytest.mark.skipif(
        chromium_path() is None and not os.environ.get("CI"),
        reason="chromium is not installed: run `make system-deps` (make test does)",
    ),
]

HOSTILE = "m<img src=x onerror=window.__pwned=1>"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from codeaudit.generators.tiny import tiny_model
    from codeaudit.scorecard import ScorecardOptions, run_scorecard
    from codeaudit.scorecard.canaries import make_canaries, write_canaries
    from codeaudit.scorecard.html import render_html
    from codeaudit.scorecard.runner import DATA

    tmp = tmp_path_factory.mktemp("card")
    model = tmp / HOSTILE
    shutil.copytree(tiny_model(), model)
    canaries = make_canaries(1, [1, 4], seed=5)
    write_canaries(tmp / "canaries.json", canaries)
    leak = tmp / "leak.jsonl"
    leak.write_text("\n".join((DATA / "leak_prompts.jsonl").read_text().splitlines()[:10]) + "\n")
    risky = tmp / "risky.jsonl"
    risky.write_text("\n".join((DATA / "risky_prompts.jsonl").read_text().splitlines()[:10]) + "\n")
    card = run_scorecard(
        ScorecardOptions(
            model=str(model), engines=["torch", "onnx-int8"], n=2, ks=[1, 2],
            humaneval_limit=3, humaneval_max_new_tokens=24, prompt_max_new_tokens=24,
            leak_prompts=leak, risky_prompts=risky, canaries=tmp / "canaries.json",
            canary_candidates=200, latency=False,
        )
    )  # fmt: skip
    html = render_html(card)
    path = tmp / "card.html"
    path.write_text(html, encoding="utf-8")
    with Browser() as browser:
        browser.open(path)
        yield browser, path, card, html, canaries


def test_page_requests_nothing_and_runs_nothing(page):
    browser, path, *_ = page
    assert browser.requests() == [path.resolve().as_uri()]
    assert browser.problems() == []
    assert browser.js("typeof window.__pwned") == "undefined"
    assert browser.js("document.querySelectorAll('img, script').length") == 0
    assert HOSTILE in browser.js("document.querySelector('h1').textContent")


def test_charts_have_a_point_per_engine_and_rate(page):
    browser, _, card, *_ = page
    engines = len(card["engines"])
    pass_points = sum(len(e["humaneval"]["pass_at_k"]) for e in card["engines"].values())
    assert browser.js("document.querySelectorAll('#rates circle.point').length") == (
        pass_points + 3 * engines
    )
    rows = browser.js("document.querySelectorAll('#canaries table tr').length")
    assert rows == engines * (1 + len(card["engines"]["torch"]["canaries"]["canaries"]))


def test_canary_secrets_are_not_in_the_page(page):
    *_, html, canaries = page
    for c in canaries:
        assert c.secret not in html
    assert all(c.id in html for c in canaries)
