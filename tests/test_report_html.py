"""The HTML report in a real headless Chromium: charts, filters, escaping, no network."""

from __future__ import annotations

import io
import os

import pytest
from helpers.browser import Browser, chromium_path
from helpers.report_sample import RULES, sample_report

from codeaudit.report import render

# CI installs chromium (make system-deps), so there a missing browser is a failure, not a skip.
pytestmark = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("CI"),
    reason="chromium is not installed: run `make system-deps` (make test does)",
)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "report.html"
    out = io.StringIO()
    render(sample_report(), "html", out, rules=RULES)
    path.write_text(out.getvalue(), encoding="utf-8")
    with Browser() as browser:
        browser.open(path)
        yield browser, path


def count(browser, selector):
    return browser.js(f"document.querySelectorAll({selector!r}).length")


def visible(browser, selector):
    return browser.js(
        f"Array.prototype.filter.call(document.querySelectorAll({selector!r}), function (e) {{ return e.offsetParent !== null; }}).length"
    )


def test_loads_without_network_errors_or_injection(page):
    browser, path = page
    assert browser.requests() == [path.resolve().as_uri()], (
        "the page must request nothing but itself"
    )
    assert browser.problems() == []  # no console errors, exceptions or CSP violations
    assert browser.js("typeof window.__pwned") == "undefined"
    assert count(browser, "img") == 0  # the <img onerror> in the input stayed text
    code = browser.js("document.querySelector('article[data-id^=\"js<\"] .hl').textContent")
    assert "</script><script>window.__pwned = 1</script>" in code


def test_charts_show_the_counts(page):
    browser, _ = page
    bars = browser.js(
        "Array.prototype.map.call(document.querySelectorAll('#chart-severity rect.bar'),"
        " function (r) { return [r.getAttribute('data-row'), Number(r.getAttribute('data-count')), r.getBBox().width]; })"
    )
    summary = sample_report().summary()
    assert {row: n for row, n, _ in bars} == {k: v for k, v in summary["by_severity"].items() if v}
    widths = {row: w for row, _, w in bars}
    assert widths["high"] == widths["low"] == 2 * widths["critical"] > 0  # drawn, and proportional
    labels = browser.js(
        "Array.prototype.map.call(document.querySelectorAll('#chart-verdict text.count'), function (t) { return t.textContent; })"
    )
    assert labels == [str(summary["verdicts"][v]) for v in ("fail", "warn", "pass")]
    assert visible(browser, "#chart-auditor rect.bar") >= 5


def test_filters_hide_and_show_findings(page):
    browser, _ = page
    total = sample_report().summary()["findings"]
    assert browser.js("document.getElementById('shown-count').textContent") == str(total)
    assert visible(browser, ".finding") == total  # suppressed ones start hidden

    browser.click("input.filter[data-kind=auditor][value=privacy]")  # untick privacy
    assert browser.js("document.querySelector('input.filter[value=privacy]').checked") is False
    assert visible(browser, ".finding[data-auditor=privacy]") == 0
    assert visible(browser, ".finding[data-auditor=security]") == 2
    assert browser.js("document.getElementById('shown-count').textContent") == str(total - 2)

    browser.click("input.filter[data-kind=severity][value=high]")  # untick high: B602 goes too
    assert visible(browser, ".finding[data-auditor=security]") == 1
    browser.click("input.filter[data-kind=severity][value=low]")  # and low: B105 and CA301
    assert visible(browser, ".finding[data-auditor=security]") == 0
    assert visible(browser, "article[data-id='py-backup']") == 0  # nothing left to show in it
    assert visible(browser, "article[data-id='mem-1']") == 0
    assert visible(browser, "article[data-id='task-7']") == 1  # its medium finding stays

    browser.click("#show-suppressed")
    assert visible(browser, ".finding[data-suppressed]") == 0  # both suppressed ones are privacy
    for selector in (
        "[data-kind=auditor][value=privacy]",
        "[data-kind=severity][value=high]",
        "[data-kind=severity][value=low]",
    ):
        browser.click(f"input.filter{selector}")
    assert visible(browser, ".finding[data-suppressed]") == 2
    assert visible(browser, ".finding") == total + 2
    assert browser.requests()[1:] == []  # clicking loaded nothing either
