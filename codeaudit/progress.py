"""The one progress bar: a rich bar on standard error, for the CLI's commands and for the default
corpus's first build (a library call with no progress callback of its own)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def progress_bar(
    description: str, *, enabled: bool, transient: bool | None = None, unit: str | None = None
) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on standard error; yields ``update(done, total)``.

    ``unit`` names what is counted, after the count (``4/6 checks``): say it when the count is
    not of the things the description names (an audit counts suggestion × auditor checks).

    On a terminal the bar is cleared when done (``transient``) so the report starts clean;
    elsewhere (a CI log, where ``--progress`` asked for it) nothing animates, so its final state is
    printed once. Disabled, it yields a function that does nothing:

    >>> with progress_bar("auditing", enabled=False) as update:
    ...     update(1, 2)
    """
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
    counted = [MofNCompleteColumn(), *([TextColumn(unit)] if unit else [])]
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        *counted,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=console.is_terminal if transient is None else transient,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
