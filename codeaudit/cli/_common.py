"""Small pieces shared by the sub-commands: atomic output files, progress bars, config loading."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from ..errors import UsageError
from ..progress import progress_bar as progress_bar  # the sub-commands import it from here


@contextlib.contextmanager
def output_stream(path: str | None, *, encoding: str = "utf-8") -> Iterator[TextIO]:
    """Standard output, or a file that appears only once complete (no partial file on failure).

    A target that exists and is not a regular file (``/dev/null``, a named pipe, a terminal) is
    written in place: renaming a finished file over it would replace the device itself.
    """
    if path in (None, "-"):
        yield sys.stdout
        return
    target = Path(path)  # type: ignore[arg-type]
    if target.is_dir():
        raise UsageError(f"-o {path}: is a folder; give a file name")
    if target.exists() and not target.is_file():
        with open(target, "w", encoding=encoding, newline="") as fh:
            yield fh
        return
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"-o {path}: folder {parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # like any file the user creates (mkstemp makes 0600)
        with open(fd, "w", encoding=encoding, newline="") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def add_report_options(p: argparse.ArgumentParser) -> None:
    """The report options ``audit`` and ``run`` share: output, format, auditors, fail-on, config."""
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the report here (default: standard output)"
    )
    p.add_argument(
        "--format",
        choices=("table", "json", "sarif", "html"),
        help="report format (default: from -o's extension; else table on a terminal, json otherwise)",
    )
    p.add_argument(
        "--auditors",
        metavar="LIST",
        help="comma-separated auditors to run (default: from config, else all)",
    )
    p.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        help="exit 1 on findings at or above: info, low, medium, high, critical (default: medium)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: nearest .codeaudit.toml or pyproject.toml with [tool.codeaudit])",
    )


def add_progress_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on standard error (default: when it is a terminal)",
    )


def wants_progress(args: argparse.Namespace) -> bool:
    flag = getattr(args, "progress", None)
    return sys.stderr.isatty() if flag is None else bool(flag)


def audit_progress(count: int, what: str, *, enabled: bool):
    """The bar of an audit: ``auditing 12 suggestions ━━━ 20/36 checks``. The pipeline counts
    checks, one suggestion through one auditor (suggestions × auditors in all), so the count is
    labelled as such and the description says how many ``what`` (plural) are audited."""
    return progress_bar(
        f"auditing {count} {what if count != 1 else what.removesuffix('s')}",
        enabled=enabled,
        unit="checks",
    )


def print_issue(message: str) -> None:
    print(f"codeaudit: {message}", file=sys.stderr)


def write_report(report, fmt: str, output: str | None) -> None:
    """Render ``report`` to ``output`` (atomically) or standard output; colour only on a terminal."""
    from ..report import render

    with output_stream(output) as stream:
        options = {}
        if fmt == "table":
            options["color"] = stream is sys.stdout and sys.stdout.isatty()
        render(report, fmt, stream, **options)
