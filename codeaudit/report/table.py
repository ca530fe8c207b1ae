"""``--format table``: the report a person reads in a terminal (rich).

A summary by auditor and severity, then every flagged suggestion with its findings, their
evidence and the offending lines syntax-highlighted (line numbers are the completion's), then
errors, input problems and suppressions. With ``color=False`` (a file, a pipe) the same layout
is written as plain text without escape codes.

>>> import io
>>> from codeaudit.model import Report, Severity
>>> out = io.StringIO()
>>> render(Report(results=(), tool={"name": "codeaudit", "version": "0"}, fail_on=Severity.MEDIUM), out, width=80)
>>> print(out.getvalue().splitlines()[0])
codeaudit 0 · 0 suggestions · 0 findings · fail on medium: passed
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, TextIO

from ..context import split_lines
from ..redact import Masker
from ._common import (
    auditor_names,
    code_lines,
    evidence_items,
    lexer_for,
    one_line,
    suppression_notes,
    windows,
)
from ._flow import flow_steps, without_flow

if TYPE_CHECKING:
    from rich.console import Console

    from ..model import AuditResult, Finding, Report

#: Width used when writing to something that is not a terminal.
DEFAULT_WIDTH = 100

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "bold yellow",
    "low": "cyan",
    "info": "dim",
}
#: Summary columns: the badge styles without backgrounds, so a column does not become a block.
COLUMN_STYLE = {
    "critical": "bold magenta",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
VERDICT_STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green"}


def render(
    report: Report, stream: TextIO, *, color: bool = False, width: int | None = None, **_: Any
) -> None:
    """Write the table report. ``width`` defaults to the terminal's (colour) or 100 columns."""
    from rich.console import Console

    if color:
        console = Console(
            file=stream, force_terminal=True, width=width, highlight=False, emoji=False
        )
        _write(report, console)
        return
    # Plain text: render off-screen, then drop the padding rich adds to every line.
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width or DEFAULT_WIDTH,
        force_terminal=False,
        no_color=True,
        color_system=None,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )
    _write(report, console)
    lines = split_lines(buffer.getvalue())
    stream.write("\n".join(line.rstrip() for line in lines) + "\n")


def _write(report: Report, console: Console) -> None:
    from rich.text import Text

    summary = report.summary()
    status = (
        Text("FAILED", style="bold red") if summary["failed"] else Text("passed", style="green")
    )
    suppressed = sum(summary["suppressed"].values())
    head = Text.assemble(
        (f"{report.tool.get('name', 'codeaudit')} {report.tool.get('version', '')}", "bold"),
        f" · {summary['suggestions']} suggestion{'s' * (summary['suggestions'] != 1)}",
        f" · {summary['findings']} finding{'s' * (summary['findings'] != 1)}",
        f" · {suppressed} suppressed" if suppressed else "",
        f" · fail on {summary['fail_on']}: ",
        status,
    )
    console.print(head)
    if summary["suggestions"]:
        console.print()
        console.print(_summary_table(report, summary))
        v = summary["verdicts"]
        console.print(
            Text.assemble(
                "verdicts: ",
                (f"{v['fail']} fail", VERDICT_STYLE["fail"]),
                " · ",
                (f"{v['warn']} warn", VERDICT_STYLE["warn"]),
                " · ",
                (f"{v['pass']} pass", VERDICT_STYLE["pass"]),
            )
        )
        for name, facts in (report.auditor_summaries or {}).items():
            console.print(Text.assemble((f"{name}: ", "bold"), _facts(facts)))

    for result in report.results:
        if result.findings or result.errors:
            _result(console, result)

    passed = [r.id for r in report.results if not r.findings and not r.errors]
    if passed:
        console.print()
        shown = ", ".join(one_line(i, 80) for i in passed[:20]) + (
            f", … ({len(passed) - 20} more)" if len(passed) > 20 else ""
        )
        console.print(Text.assemble((f"No findings ({len(passed)}): ", "green"), shown))

    _suppressions(console, report)
    if report.input_errors:
        from rich.padding import Padding

        console.print()
        console.print(Text(f"Input problems ({len(report.input_errors)})", style="bold yellow"))
        for issue in report.input_errors:
            console.print(Padding(Text(one_line(issue, 400)), (0, 0, 0, 2)))


def _summary_table(report: Report, summary: dict[str, Any]):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    severities = ["critical", "high", "medium", "low", "info"]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=None)
    table.add_column("auditor", style="bold")
    for sev in severities:
        table.add_column(sev, justify="right", style=COLUMN_STYLE[sev])
    table.add_column("total", justify="right", style="bold")
    by_auditor = summary["by_auditor"]
    for name in auditor_names(report):
        counts = by_auditor.get(name, {})
        cells = [str(counts.get(s, 0) or "·") for s in severities]
        table.add_row(name, *cells, str(sum(counts.values())))
    totals = summary["by_severity"]
    table.add_row(
        Text("all", style="bold"),
        *[str(totals[s] or "·") for s in severities],
        str(summary["findings"]),
        end_section=False,
    )
    return table


def _facts(facts: Any) -> str:
    from ._common import plain_json

    if isinstance(facts, dict) or hasattr(facts, "items"):
        return " · ".join(f"{k}={one_line(_plain(plain_json(v)), 80)}" for k, v in facts.items())
    return one_line(facts)


def _plain(value: Any) -> str:
    """A value as words, not as a Python repr: ``{'failed': 1}`` -> ``failed 1``, ``{}`` -> ``none``.

    >>> _plain({"failed": 1, "passed": 3}), _plain({}), _plain(["MIT", "BSD"]), _plain(0.5)
    ('failed 1, passed 3', 'none', 'MIT, BSD', '0.5')
    """
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "none"
    return str(value)


def _result(console: Console, result: AuditResult) -> None:
    from rich.padding import Padding
    from rich.rule import Rule as Line
    from rich.text import Text

    s = result.suggestion
    title = Text.assemble(
        (one_line(s.id, 60), "bold"),
        f" · {result.language or 'unknown language'}",
        f" · {one_line(s.path, 60)}" if s.path and s.path != s.id else "",
        " · ",
        (result.verdict.value.upper(), VERDICT_STYLE[result.verdict.value]),
    )
    console.print()
    console.print(Line(title, align="left", characters="─"))
    active = [f for f in result.findings if f.active]
    masker = Masker.of(result)
    for window in windows(result, active):
        for f in window.findings:
            _finding(console, f, masker)
        _code(console, result, window, masker)
    for f in result.findings:
        if not f.active:
            console.print(
                Padding(
                    Text(
                        f"suppressed ({f.suppressed}): {f.rule_id} {f.rule_name} at line {f.line}",
                        style="dim",
                    ),
                    (0, 0, 0, 2),
                )
            )
    for name, facts in (result.data or {}).items():
        console.print(
            Padding(Text.assemble((f"{name}: ", "bold"), masker(_facts(facts))), (0, 0, 0, 2))
        )
    for e in result.errors:
        where = f" (line {e.line})" if e.line else ""
        console.print(
            Padding(
                Text.assemble(
                    ("error ", "bold magenta"),
                    f"[{e.auditor}/{e.code}] {masker(one_line(e.message, 400))}{where}",
                ),
                (0, 0, 0, 2),
            )
        )


def _finding(console: Console, f: Finding, masker: Masker) -> None:
    from rich.padding import Padding
    from rich.text import Text

    sev = f.severity.label
    where = (
        f"lines {f.line}-{f.end_line}" if f.end_line != f.line else f"line {f.line} col {f.column}"
    )
    console.print(
        Padding(
            Text.assemble(
                (f" {sev.upper()} ", SEVERITY_STYLE[sev]),
                " ",
                (f.rule_id, "bold"),
                f" {f.rule_name} · {where}",
            ),
            (0, 0, 0, 2),
        )
    )
    about = f"{f.auditor} · confidence {f.confidence.label}" + (
        f" · {f.cwe_id}" if f.cwe_id else ""
    )
    lines = [Text(masker(one_line(f.message, 500))), Text(about, style="dim")]
    lines += [
        Text.assemble((f"{key}: ", "dim"), value)
        for key, value in evidence_items(without_flow(f.evidence), masker=masker)
    ]
    for role, line_no, text in flow_steps(f.evidence):  # a taint finding's data flow
        lines.append(
            Text.assemble((f"{role} line {line_no}: ", "dim"), masker(one_line(text, 160)))
        )
    for line in lines:
        console.print(Padding(line, (0, 0, 0, 4)))


def _code(console: Console, result: AuditResult, window, masker: Masker) -> None:
    from rich.padding import Padding
    from rich.syntax import Syntax

    syntax = Syntax(
        code_lines(result, window, masker),
        lexer_for(result.language),
        theme="ansi_dark",
        background_color="default",
        line_numbers=True,
        start_line=window.start,
        highlight_lines=window.flagged,
        word_wrap=True,
        tab_size=4,
    )
    console.print(Padding(syntax, (0, 0, 0, 4)))


def _suppressions(console: Console, report: Report) -> None:
    from rich.padding import Padding
    from rich.text import Text

    notes = suppression_notes(report)
    if notes:
        console.print()
        console.print(Text(f"Suppressions to review ({len(notes)})", style="bold"))
        for note in notes:
            console.print(Padding(Text(note), (0, 0, 0, 2)))
