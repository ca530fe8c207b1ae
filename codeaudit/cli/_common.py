"""Small pieces shared by the sub-commands: atomic output files, progress bars, config loading."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from ..errors import UsageError


@contextlib.contextmanager
def output_stream(path: str | None, *, encoding: str = "utf-8") -> Iterator[TextIO]:
    """Standard output, or a file that appears only once complete (no partial file on failure)."""
    if path in (None, "-"):
        yield sys.stdout
        return
    target = Path(path)  # type: ignore[arg-type]
    if target.is_dir():
        raise UsageError(f"-o {path}: is a folder; give a file name")
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


@contextlib.contextmanager
def progress_bar(description: str, *, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on standard error; yields ``update(done, total)``."""
    if not enabled:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True, force_terminal=None)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        # On a terminal the bar is cleared when done so the report starts clean; elsewhere (a CI
        # log, where --progress asked for it) nothing animates, so its final state is printed once.
        transient=console.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


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
