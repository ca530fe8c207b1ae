"""codeaudit's cache folder: default corpus indexes, derived detector gates, bandit rule docs,
ONNX exports. ``$CODEAUDIT_CACHE_DIR`` overrides the platform's user cache folder (tests use it).

Kept import-light (no numpy, no corpus package) because every auditor asks for it at start-up.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def cache_dir() -> Path:
    """``$CODEAUDIT_CACHE_DIR``, else the platform's user cache folder for codeaudit."""
    env = os.environ.get("CODEAUDIT_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("codeaudit"))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block, so that
    processes building the same cached artefact wait for one another instead of racing."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
