"""Reporters: one module per format, each with ``render(report, stream, **options)``.

Reporters receive a finished :class:`~codeaudit.model.Report` and a text stream, nothing more:
filtering, suppressions and baselines have been applied before.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..model import Report

FORMATS: dict[str, str] = {
    "table": "codeaudit.report.table",
    "json": "codeaudit.report.json",
    "sarif": "codeaudit.report.sarif",
    "html": "codeaudit.report.html",
}
#: Output file extension -> format, for ``-o report.sarif`` without ``--format``.
EXTENSIONS = {".json": "json", ".sarif": "sarif", ".html": "html", ".htm": "html", ".txt": "table"}


def render(report: Report, fmt: str, stream: TextIO, **options: Any) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
    import_module(FORMATS[fmt]).render(report, stream, **options)
