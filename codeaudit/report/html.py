"""``--format html``: one self-contained page a reviewer opens in a browser.

Summary charts (inline SVG), filters by auditor and severity (a few lines of inline JavaScript),
every flagged suggestion with its findings, evidence and highlighted code (pygments), then
errors, input problems and suppressions to review.

The page loads nothing: no external stylesheet, script, font or image, and its
Content-Security-Policy allows only the page's own ``<style>`` and ``<script>`` (by hash), so even a
mistake in escaping could not run injected script. All text from the input (ids, paths, code,
messages, evidence) is HTML-escaped; nothing from it is placed inside the script.

>>> import io
>>> from codeaudit.model import Report, Severity
>>> out = io.StringIO()
>>> render(Report(results=(), tool={"name": "codeaudit", "version": "0"}, fail_on=Severity.MEDIUM), out)
>>> out.getvalue().startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any, TextIO

from ..model import Severity
from ..redact import Masker
from ._common import (
    auditor_names,
    code_lines,
    evidence_items,
    lexer_for,
    one_line,
    rules_for,
    suppression_notes,
    windows,
)
from ._flow import flow_steps, without_flow

if TYPE_CHECKING:
    from ..model import AuditResult, Finding, Report
    from ..registry import Rule

SEVERITIES = [s.label for s in reversed(Severity)]  # critical first
SEVERITY_COLOR = {
    "critical": "#7b1fa2",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#1565c0",
    "info": "#607d8b",
}
VERDICT_COLOR = {"fail": "#c62828", "warn": "#ef6c00", "pass": "#2e7d32"}
PYGMENTS_STYLE = "default"

_CSS = """
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #f6f8fa; }
body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; }
[hidden] { display: none !important; }
h1 { font-size: 1.5rem; margin: .5rem 0; }
h2 { font-size: 1.1rem; margin: 0; word-break: break-all; }
.meta { color: #57606a; margin: 0 0 1rem; }
.status { font-weight: 700; padding: 0 .4em; border-radius: 4px; color: #fff; }
.status.failed { background: #c62828; } .status.passed { background: #2e7d32; }
#charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure.chart { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 0; padding: .5rem .75rem; }
figure.chart figcaption { font-weight: 600; margin-bottom: .25rem; }
svg text { font-size: 12px; fill: #1f2328; }
#filters { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 1rem 0; padding: .5rem .75rem;
  display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; }
#filters fieldset { border: 0; margin: 0; padding: 0; }
#filters legend { font-weight: 600; float: left; margin-right: .5rem; }
#filters label { margin-right: .75rem; white-space: nowrap; }
article.suggestion { background: #fff; border: 1px solid #d0d7de; border-left: 6px solid #d0d7de; border-radius: 6px;
  margin: 1rem 0; padding: .75rem 1rem; }
article.verdict-fail { border-left-color: #c62828; } article.verdict-warn { border-left-color: #ef6c00; }
.where { color: #57606a; margin: .2rem 0 .5rem; font-size: .9rem; word-break: break-all; }
.badge { display: inline-block; font-size: .75rem; font-weight: 700; color: #fff; border-radius: 4px; padding: 0 .4em;
  vertical-align: middle; text-transform: uppercase; }
.badge.fail { background: #c62828; } .badge.warn { background: #ef6c00; } .badge.pass { background: #2e7d32; }
.sev-critical .badge.sev { background: #7b1fa2; } .sev-high .badge.sev { background: #c62828; }
.sev-medium .badge.sev { background: #ef6c00; } .sev-low .badge.sev { background: #1565c0; }
.sev-info .badge.sev { background: #607d8b; } .badge.supp { background: #8c959f; }
.window { border-top: 1px solid #eaeef2; padding-top: .5rem; margin-top: .5rem; }
.finding { margin: .25rem 0 .5rem; }
.finding.suppressed { opacity: .6; }
.finding .rule { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.finding .msg { margin: .15rem 0; word-break: break-word; }
.finding .about { color: #57606a; font-size: .85rem; }
dl.evidence { display: grid; grid-template-columns: max-content 1fr; gap: 0 .75rem; margin: .25rem 0; font-size: .9rem; }
dl.evidence dt { color: #57606a; } dl.evidence dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
details.help { font-size: .9rem; color: #424a53; } details.help pre { white-space: pre-wrap; font-family: inherit; }
.hl { background: #f6f8fa; border: 1px solid #eaeef2; border-radius: 4px; overflow-x: auto; font-size: .85rem; }
.hl pre { margin: 0; padding: .4rem .6rem; line-height: 1.4; }
.hl .hll { background-color: #fff1b8; }
.hl .linenos { color: #8c959f; padding-right: .8em; user-select: none; }
ul.errors li, ul.notes li { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
table.facts { border-collapse: collapse; font-size: .9rem; } table.facts td, table.facts th { border: 1px solid #d0d7de; padding: .15rem .5rem; text-align: left; }
"""

# Filters hide and show; they never write HTML, so nothing from the report passes through script.
_JS = """
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.filter"));
  var suppressedBox = document.getElementById("show-suppressed");
  function checked(kind) {
    var set = Object.create(null);
    boxes.forEach(function (b) { if (b.getAttribute("data-kind") === kind && b.checked) { set[b.value] = true; } });
    return set;
  }
  function apply() {
    var auditors = checked("auditor"), severities = checked("severity");
    var withSuppressed = suppressedBox.checked, shown = 0;
    document.querySelectorAll(".finding").forEach(function (el) {
      var suppressed = el.hasAttribute("data-suppressed");
      var ok = auditors[el.getAttribute("data-auditor")] === true && severities[el.getAttribute("data-severity")] === true &&
        (withSuppressed || !suppressed);
      el.hidden = !ok;
      if (ok && !suppressed) { shown += 1; }
    });
    document.querySelectorAll(".window").forEach(function (w) { w.hidden = !w.querySelector(".finding:not([hidden])"); });
    document.querySelectorAll("li.error").forEach(function (e) { e.hidden = auditors[e.getAttribute("data-auditor")] !== true; });
    document.querySelectorAll("article.suggestion").forEach(function (a) {
      a.hidden = !a.querySelector(".finding:not([hidden]), li.error:not([hidden])");
    });
    document.getElementById("shown-count").textContent = String(shown);
  }
  boxes.concat([suppressedBox]).forEach(function (b) { b.addEventListener("change", apply); });
  apply();
})();
"""


def render(
    report: Report,
    stream: TextIO,
    *,
    rules: Mapping[str, Rule] | None = None,
    title: str | None = None,
    **_: Any,
) -> None:
    """Write the page. ``rules`` (id -> Rule) replaces the registry look-up for rule help."""
    from pygments.formatters import HtmlFormatter

    known = rules_for(report, rules)
    css = _CSS + HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".hl")
    summary = report.summary()
    name = f"{report.tool.get('name', 'codeaudit')} {report.tool.get('version', '')}".strip()
    page_title = title or f"{name} report"
    csp = (
        "default-src 'none'; "
        f"style-src '{_sha256(css)}'; script-src '{_sha256(_JS)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    w = stream.write
    w('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
    w(f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">\n')
    w('<meta name="referrer" content="no-referrer">\n')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">\n')
    w(f"<title>{escape(page_title)}</title>\n<style>{css}</style>\n</head>\n<body>\n")
    status = "failed" if summary["failed"] else "passed"
    w(
        f'<header><h1>{escape(page_title)}</h1>\n<p class="meta">{summary["suggestions"]} suggestions · '
        f"{summary['findings']} findings · {sum(summary['suppressed'].values())} suppressed · "
        f'fail on {escape(summary["fail_on"])}: <span class="status {status}" id="status">{status.upper()}</span></p></header>\n'
    )
    _charts(w, report, summary)
    _filters(w, report, summary)
    w('<main id="results">\n')
    for result in report.results:
        if result.findings or result.errors:
            _article(w, result, known)
    w("</main>\n")
    _tail(w, report)
    w(f"<script>{_JS}</script>\n</body>\n</html>\n")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode(
        "ascii"
    )


# -- charts ------------------------------------------------------------------------------------
def _bars(
    w,
    chart_id: str,
    caption: str,
    rows: list[tuple[str, list[tuple[str, int, str]]]],
    legend: dict[str, str] | None = None,
) -> None:
    """A horizontal bar chart; each row is (label, [(series, count, colour), ...]) stacked."""
    label_w, bar_w, row_h = 110, 240, 22
    peak = max([sum(c for _, c, _ in parts) for _, parts in rows] + [1])
    height = row_h * len(rows) + 6 + (row_h if legend else 0)
    w(f'<figure class="chart" id="{chart_id}"><figcaption>{escape(caption)}</figcaption>\n')
    w(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 50}" height="{height}" role="img" '
        f'aria-label="{escape(caption)}">\n'
    )
    for i, (label, parts) in enumerate(rows):
        y = 3 + i * row_h
        w(f'<text x="0" y="{y + 14}">{escape(one_line(label, 16))}</text>\n')
        x = float(label_w)
        total = 0
        for series, count, colour in parts:
            total += count
            width = bar_w * count / peak
            if count:
                w(
                    f'<rect class="bar" data-row="{escape(label)}" data-series="{escape(series)}" data-count="{count}" '
                    f'x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row_h - 6}" fill="{colour}">'
                    f"<title>{escape(label)} · {escape(series)}: {count}</title></rect>\n"
                )
            x += width
        w(
            f'<text class="count" data-row="{escape(label)}" x="{x + 4:.1f}" y="{y + 14}">{total}</text>\n'
        )
    if legend:
        x, y = 0, 3 + len(rows) * row_h
        for name, colour in legend.items():
            w(
                f'<rect x="{x}" y="{y + 4}" width="10" height="10" fill="{colour}"></rect>'
                f'<text x="{x + 14}" y="{y + 14}">{escape(name)}</text>\n'
            )
            x += 14 + 8 * len(name) + 12
    w("</svg></figure>\n")


def _charts(w, report: Report, summary: dict[str, Any]) -> None:
    w('<section id="charts">\n')
    by_sev = summary["by_severity"]
    _bars(
        w,
        "chart-severity",
        "Findings by severity",
        [(sev, [(sev, by_sev[sev], SEVERITY_COLOR[sev])]) for sev in SEVERITIES],
    )
    rows = []
    for name in auditor_names(report):
        counts = summary["by_auditor"].get(name, {})
        rows.append((name, [(sev, counts.get(sev, 0), SEVERITY_COLOR[sev]) for sev in SEVERITIES]))
    _bars(w, "chart-auditor", "Findings by auditor", rows or [("none", [])], legend=SEVERITY_COLOR)
    verdicts = summary["verdicts"]
    _bars(
        w,
        "chart-verdict",
        "Suggestions by verdict",
        [(v, [(v, verdicts[v], VERDICT_COLOR[v])]) for v in ("fail", "warn", "pass")],
    )
    w("</section>\n")


# -- filters -----------------------------------------------------------------------------------
def _filters(w, report: Report, summary: dict[str, Any]) -> None:
    names = auditor_names(report)
    for r in report.results:
        for e in r.errors:
            if e.auditor not in names:
                names.append(e.auditor)
    w('<section id="filters">\n<fieldset id="filter-auditor"><legend>Auditor</legend>\n')
    for name in names:
        n = sum(summary["by_auditor"].get(name, {}).values())
        w(
            f'<label><input type="checkbox" class="filter" data-kind="auditor" value="{escape(name)}" checked> '
            f"{escape(name)} ({n})</label>\n"
        )
    w('</fieldset>\n<fieldset id="filter-severity"><legend>Severity</legend>\n')
    for sev in SEVERITIES:
        w(
            f'<label><input type="checkbox" class="filter" data-kind="severity" value="{sev}" checked> '
            f"{sev} ({summary['by_severity'][sev]})</label>\n"
        )
    w('</fieldset>\n<label><input type="checkbox" id="show-suppressed"> show suppressed</label>\n')
    w(
        f'<p id="shown">Showing <span id="shown-count">{summary["findings"]}</span> of '
        f'<span id="total-count">{summary["findings"]}</span> findings</p>\n</section>\n'
    )


# -- suggestions -------------------------------------------------------------------------------
def _article(w, result: AuditResult, rules: Mapping[str, Rule]) -> None:
    s = result.suggestion
    verdict = result.verdict.value
    w(f'<article class="suggestion verdict-{verdict}" data-id="{escape(s.id)}">\n')
    w(f'<h2>{escape(s.id)} <span class="badge {verdict}">{verdict}</span></h2>\n')
    where = [result.language or "unknown language"]
    for label, value in (
        ("path", s.path),
        ("task", s.task_id),
        ("model", s.model),
        ("from", s.origin),
    ):
        if value and not (label == "path" and value == s.id):
            where.append(f"{label}: {value}")
    w(f'<p class="where">{escape(" · ".join(where))}</p>\n')
    masker = Masker.of(result)
    for window in windows(result, list(result.findings)):
        w('<div class="window">\n')
        for f in window.findings:
            _finding(w, result, f, rules.get(f.rule_id), masker)
        _code(w, result, window, masker)
        w("</div>\n")
    if result.data:
        w('<table class="facts">')
        for name, facts in result.data.items():
            items = (
                evidence_items(facts, masker=masker)
                if isinstance(facts, Mapping)
                else [("", masker(one_line(facts)))]
            )
            text = " · ".join(f"{k}={v}" if k else v for k, v in items)
            w(f"<tr><th>{escape(str(name))}</th><td>{escape(text)}</td></tr>")
        w("</table>\n")
    if result.errors:
        w('<ul class="errors">\n')
        for e in result.errors:
            where = f" (line {e.line})" if e.line else ""
            w(
                f'<li class="error" data-auditor="{escape(e.auditor)}">error [{escape(e.auditor)}/{escape(e.code)}] '
                f"{escape(masker(e.message))}{where}</li>\n"
            )
        w("</ul>\n")
    w("</article>\n")


def _finding(w, result: AuditResult, f: Finding, rule: Rule | None, masker: Masker) -> None:
    sev = f.severity.label
    classes = f"finding sev-{sev}" + (" suppressed" if not f.active else "")
    supp = f' data-suppressed="{escape(f.suppressed)}"' if f.suppressed else ""
    w(
        f'<div class="{classes}" data-auditor="{escape(f.auditor)}" data-severity="{sev}" '
        f'data-rule="{escape(f.rule_id)}" data-line="{f.line}" data-suggestion="{escape(result.id)}"{supp}>\n'
    )
    where = (
        f"lines {f.line}-{f.end_line}" if f.end_line != f.line else f"line {f.line} col {f.column}"
    )
    badge = (
        f'<span class="badge supp">suppressed: {escape(f.suppressed)}</span> '
        if f.suppressed
        else ""
    )
    w(
        f'<div><span class="badge sev">{sev}</span> {badge}<span class="rule">{escape(f.rule_id)} '
        f"{escape(f.rule_name)}</span> · {where}</div>\n"
    )
    w(f'<div class="msg">{escape(masker(f.message))}</div>\n')
    about = f"{f.auditor} · confidence {f.confidence.label}"
    cwe = ""
    if f.cwe is not None:
        cwe = (
            f' · <a href="https://cwe.mitre.org/data/definitions/{f.cwe}.html" rel="noreferrer noopener" '
            f'target="_blank">{f.cwe_id}</a>'
        )
    w(f'<div class="about">{escape(about)}{cwe}</div>\n')
    items = evidence_items(without_flow(f.evidence), max_chars=400, masker=masker)
    if items:
        w('<dl class="evidence">')
        for key, value in items:
            w(f"<dt>{escape(key)}</dt><dd>{escape(value)}</dd>")
        w("</dl>\n")
    steps = flow_steps(f.evidence)  # a taint finding's data flow: source, steps, sink
    if steps:
        w('<ol class="flow">')
        for role, line_no, text in steps:
            w(f"<li><b>{role}</b> line {line_no}: <code>{escape(masker(text[:400]))}</code></li>")
        w("</ol>\n")
    if rule is not None:
        w(
            f'<details class="help"><summary>{escape(rule.title)}</summary><pre>{escape(rule.description.strip())}\n\n'
            f"How to fix: {escape(rule.fix.strip())}</pre></details>\n"
        )
    w("</div>\n")


def _code(w, result: AuditResult, window, masker: Masker) -> None:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    formatter = HtmlFormatter(
        style=PYGMENTS_STYLE,
        cssclass="hl",
        linenos="inline",
        linenostart=window.start,
        hl_lines=sorted(n - window.start + 1 for n in window.flagged),
        wrapcode=True,
    )
    w(highlight(code_lines(result, window, masker) + "\n", lexer_for(result.language), formatter))


def _tail(w, report: Report) -> None:
    clean = [r.id for r in report.results if not r.findings and not r.errors]
    if clean:
        w(
            f'<section id="clean"><h2>No findings ({len(clean)})</h2><p>{escape(", ".join(clean))}</p></section>\n'
        )
    if report.auditor_summaries:
        w('<section id="auditor-summaries"><h2>Auditor summaries</h2><table class="facts">')
        for name, facts in report.auditor_summaries.items():
            text = " · ".join(f"{k}={v}" for k, v in evidence_items(facts))
            w(f"<tr><th>{escape(str(name))}</th><td>{escape(text)}</td></tr>")
        w("</table></section>\n")
    notes = suppression_notes(report)
    if notes:
        w(
            f'<section id="suppressions"><h2>Suppressions to review ({len(notes)})</h2><ul class="notes">\n'
        )
        w("".join(f"<li>{escape(n)}</li>\n" for n in notes))
        w("</ul></section>\n")
    if report.input_errors:
        w(
            f'<section id="input-problems"><h2>Input problems ({len(report.input_errors)})</h2><ul class="notes">\n'
        )
        w("".join(f"<li>{escape(str(i))}</li>\n" for i in report.input_errors))
        w("</ul></section>\n")
