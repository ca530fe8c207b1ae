"""The default corpus: the running interpreter's standard library, indexed on first use.

``codeaudit audit`` needs no set-up to find copies of public code: the first time the
memorization auditor runs without ``--corpus``, it indexes the standard library (a few seconds,
with a progress bar on standard error) into the user cache folder, under a name keyed by the
interpreter and by the index format and tokenizer versions; later runs open it in milliseconds.

The folder name holds the interpreter (``cpython-3.11.7``), the index format, the tokenizer
version and codeaudit's version, so an upgrade of any of them builds a fresh index beside the
old one.

Concurrent first runs (several hooks or CI jobs at once) are safe: one process builds while the
others wait on a lock file, and the index appears by an atomic rename only once complete.
``CODEAUDIT_CACHE_DIR`` overrides the cache folder (the tests use it).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..cache import cache_dir, locked
from .params import FORMAT_VERSION
from .tokens import TOKENIZER_VERSION

if TYPE_CHECKING:  # pragma: no cover
    from .index import CorpusIndex

#: The name that stands for the default corpus in ``--corpus`` and ``corpora = [...]``.
DEFAULT_NAME = "stdlib"


def python_tag() -> str:
    """``cpython-3.11.7``: the interpreter whose standard library is the default corpus."""
    return f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:3]))}"


def default_index_path() -> Path:
    """Where the standard library's index lives for this interpreter and index format."""
    from .._version import __version__

    # codeaudit's version too: a release may read licences or sources differently.
    return (
        cache_dir()
        / "corpora"
        / f"stdlib-{python_tag()}-f{FORMAT_VERSION}-t{TOKENIZER_VERSION}-{__version__}"
    )


def open_default_index(progress: Callable[[int, int], None] | None = None) -> CorpusIndex:
    """The default index, opened; built first if missing, and rebuilt if the cached copy cannot
    be used (damaged, or left by an incompatible development build): it is only a cache."""
    from ..errors import InputError
    from .index import CorpusIndex

    path = ensure_default_index(progress)
    try:
        return CorpusIndex.open(path)
    except InputError as first:
        with locked(path.with_name(path.name + ".lock")):
            try:  # another process may have rebuilt it while we waited
                return CorpusIndex.open(path)
            except InputError:
                print(
                    f"codeaudit: the cached default corpus index is unusable ({first}); rebuilding it",
                    file=sys.stderr,
                )
                shutil.rmtree(path, ignore_errors=True)
        return CorpusIndex.open(ensure_default_index(progress))


def ensure_default_index(progress: Callable[[int, int], None] | None = None) -> Path:
    """The default index's folder, building it first if it does not exist yet.

    ``progress(done, total)`` reports the build; by default a rich progress bar is drawn on
    standard error when it is a terminal, and one line is printed otherwise.
    """
    from .index import MANIFEST

    path = default_index_path()
    if (path / MANIFEST).is_file():
        return path
    with locked(path.with_name(path.name + ".lock")):
        if (path / MANIFEST).is_file():  # another process built it while we waited
            return path
        # Leftovers of a build that was killed: nobody else is building while we hold the lock.
        for stale in path.parent.glob(f".{path.name}.*.building"):
            shutil.rmtree(stale, ignore_errors=True)
        from .build import build_index
        from .sources import stdlib_source

        started = time.perf_counter()
        with _default_progress(progress) as report:
            manifest = build_index([stdlib_source()], path, progress=report, name=DEFAULT_NAME)
        if progress is None and not sys.stderr.isatty():
            c = manifest["counts"]
            print(
                f"codeaudit: indexed the standard library for the memorization auditor: {c['files']:,} files, "
                f"{c['windows']:,} windows in {time.perf_counter() - started:.1f} s ({path})",
                file=sys.stderr,
            )
    return path


@contextlib.contextmanager
def _default_progress(
    progress: Callable[[int, int], None] | None,
) -> Iterator[Callable[[int, int], None] | None]:
    if progress is not None or not sys.stderr.isatty():
        yield progress
        return
    from ..progress import progress_bar

    with progress_bar(
        "indexing the standard library (first use)", enabled=True, transient=True
    ) as update:
        yield update
